#!/usr/bin/env bash
# Crawl benchmark: `xuncha crawl --once --out` beside Scrapy on the same loopback job board
# (crates/xuncha-crawler/examples/fixture_site.rs), same concurrency, no politeness delay,
# robots.txt obeyed by both. Prints pages/s and peak RSS of each and the ratios.
#
#   bash benches/crawl/run.sh                 # 10,000 postings, concurrency 16
#   JOBS=2000 CONCURRENCY=32 KEEP=1 bash benches/crawl/run.sh   # KEEP: leave outputs and logs
#
# Scrapy comes from PyPI into a virtualenv (SCRAPY_VENV, default /tmp/xuncha-scrapy-venv).
# Every request goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."

JOBS=${JOBS:-10000}
PER_PAGE=${PER_PAGE:-20}
CONCURRENCY=${CONCURRENCY:-16}
SERVER_THREADS=${SERVER_THREADS:-1}
VENV=${SCRAPY_VENV:-/tmp/xuncha-scrapy-venv}
TARGET=${CARGO_TARGET_DIR:-target}

echo "building (release)..." >&2
cargo build --quiet --release -p xuncha
cargo build --quiet --release -p xuncha-crawler --example fixture_site
if [ ! -x "$VENV/bin/scrapy" ]; then
    echo "installing Scrapy into $VENV..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet scrapy
fi
if [ ! -x /usr/bin/time ]; then
    echo "needs GNU time (/usr/bin/time): apt-get install time" >&2
    exit 2
fi

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "outputs and logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$TARGET/release/examples/fixture_site" --jobs "$JOBS" --per-page "$PER_PAGE" \
    --threads "$SERVER_THREADS" > "$WORK/server.url" 2> "$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do [ -s "$WORK/server.url" ] && break; sleep 0.05; done
START=$(head -1 "$WORK/server.url")
BASE=${START%%/jobs/*}

mkdir -p "$WORK/sites"
# (`&` means "the match" to sed; the start URL has one.)
sed -e "s#^start_urls = .*#start_urls = [\"${START//&/\\&}\"]#" \
    -e 's#^allow_hosts = .*#allow_hosts = ["127.0.0.1"]#' \
    -e "s#^homepage = .*#homepage = \"$BASE/\"#" \
    -e "s#^about_urls = .*#about_urls = []#" \
    -e 's#^rate_per_sec = .*#rate_per_sec = 0#' \
    -e 's#^max_pages = .*#max_pages = 1000000#' \
    -e 's#^allow_private_addresses = .*#allow_private_addresses = true#' \
    config/sites/jobboard.toml > "$WORK/sites/jobboard.toml"

server_stats() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('$BASE/__stats').read().decode())"; }
server_reset() { python3 -c "import urllib.request; urllib.request.urlopen('$BASE/__reset').read()"; }

# measure NAME COMMAND...: runs it under GNU time; leaves NAME.time, NAME.stats
measure() {
    local name=$1; shift
    server_reset
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.stdout" 2> "$WORK/$name.stderr" || {
        echo "$name failed:" >&2; tail -20 "$WORK/$name.stderr" >&2; exit 1; }
    server_stats > "$WORK/$name.stats"
}

echo "crawling $JOBS postings with xuncha..." >&2
measure xuncha "$TARGET/release/xuncha" crawl --once --sites-dir "$WORK/sites" \
    --out "$WORK/xuncha.jsonl" --state "$WORK/crawl.db" --evidence "$WORK/evidence" \
    --concurrency "$CONCURRENCY"
echo "crawling $JOBS postings with Scrapy..." >&2
measure scrapy "$VENV/bin/scrapy" runspider benches/crawl/scrapy_spider.py -a "start=$START" \
    -s CONCURRENT_REQUESTS="$CONCURRENCY" -s CONCURRENT_REQUESTS_PER_DOMAIN="$CONCURRENCY" \
    -O "$WORK/scrapy.jsonl:jsonlines"

python3 - "$WORK" "$JOBS" "$CONCURRENCY" "$("$VENV/bin/scrapy" version | awk '{print $2}')" <<'PY'
import json, re, sys
work, jobs, conc, scrapy_version = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def measured(name):
    t = open(f"{work}/{name}.time").read()
    wall = t.split("Elapsed (wall clock) time (h:mm:ss or m:ss):")[1].split()[0]
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + \
          float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    s = json.load(open(f"{work}/{name}.stats"))
    postings = sum(1 for _ in open(f"{work}/{name}.jsonl"))
    return dict(wall=secs, rss=rss_kb / 1024, cpu=cpu, requests=s["requests"],
                window=s["first_to_last_secs"], postings=postings)

x, s = measured("xuncha"), measured("scrapy")
assert x["postings"] == jobs and s["postings"] == jobs, (x["postings"], s["postings"], jobs)
print(f"crawl benchmark: {jobs} posting pages (+{x['requests'] - jobs} list pages and robots.txt), "
      f"concurrency {conc}, no delay, loopback; Scrapy {scrapy_version}")
print(f"{'':8}{'requests':>9}{'crawl s':>9}{'pages/s':>9}{'wall s':>8}{'wall p/s':>9}{'CPU s':>7}{'peak RSS MB':>12}")
for name, m in (("xuncha", x), ("scrapy", s)):
    print(f"{name:8}{m['requests']:>9}{m['window']:>9.2f}{m['requests'] / m['window']:>9.0f}"
          f"{m['wall']:>8.2f}{m['requests'] / m['wall']:>9.0f}{m['cpu']:>7.2f}{m['rss']:>12.1f}")
speed = (x["requests"] / x["window"]) / (s["requests"] / s["window"])
wall_speed = (x["requests"] / x["wall"]) / (s["requests"] / s["wall"])
print(f"xuncha/scrapy: {speed:.1f}x pages/s (first to last request; {wall_speed:.1f}x on wall-clock time), "
      f"{x['rss'] / s['rss']:.2f}x peak RSS")
PY
