#!/usr/bin/env python3
"""Hyperscan over the bench anchor sets: the reference for the literal-prefilter speed limit.

What it measures
    The bare multi-literal pass of `benches/matcher.rs` (`prefilter/{charwise,dfa}/N`),
    done by Intel Hyperscan instead of our automata, on the same input:

    - anchors: `target/bench-anchors-{100,1000,10000}.txt`, one UTF-8 literal a line,
      written by the criterion bench;
    - haystack: the text fields of every posting of the corpus, built exactly as
      `xuncha_benches::haystack` builds it: every `*.jsonl` file of the corpus directory in
      sorted path order, every non-blank line, the fields title, company, publisher.name,
      salary, description (or its alias `text`), contact, each non-empty one followed by
      "\\n", as UTF-8 bytes.

    Each literal is compiled as a case-sensitive Hyperscan expression in block mode with
    flags 0, so every occurrence is reported, overlapping ones included, like
    `Prefilter::count`. The match count is printed so the runs can be checked against
    each other (it should equal the Rust count for the same set).

    Timing: each timed scan passes no callback (Hyperscan then does all of its matching
    work and calls its internal no-op handler), best of --repeat runs. A Python callback
    costs far more per match than the engine itself, so it is kept out of the figure; the
    match count comes from one extra scan with a counting callback, whose time is shown
    separately ("cb s") as an upper bound.

How to run
    cargo bench -p xuncha-benches            # writes target/bench-anchors-*.txt
    python3 -m venv /tmp/hs && /tmp/hs/bin/pip install hyperscan
    /tmp/hs/bin/python benches/hyperscan_bench.py [--corpus DIR] [--anchors-dir DIR]
                                                  [--sizes 100,1000,10000] [--repeat 5]
                                                  [--literal-api] [--verify] [--json]

    The corpus defaults to $XUNCHA_CORPUS, else ../shared/corpus beside the checkout
    (resolved from this file's location, as the Rust bench does).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT_FIELDS = ("title", "company", "publisher.name", "salary", "description", "contact")


def default_corpus():
    env = os.environ.get("XUNCHA_CORPUS")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parent / ".." / ".." / "shared" / "corpus").resolve()


def field_values(posting):
    """The text fields in matcher order, as `Posting::text_fields` yields them."""
    publisher = posting.get("publisher")
    pub_name = publisher.get("name") if isinstance(publisher, dict) else None
    desc = posting.get("description")
    if desc is None:
        desc = posting.get("text")  # serde alias of description
    values = (
        posting.get("title"),
        posting.get("company"),
        pub_name,
        posting.get("salary"),
        desc,
        posting.get("contact"),
    )
    for v in values:
        if isinstance(v, str) and v:
            yield v


def build_haystack(corpus_dir):
    """(haystack bytes, number of postings, number of files)."""
    files = sorted(p for p in Path(corpus_dir).iterdir() if p.suffix == ".jsonl" and p.is_file())
    if not files:
        sys.exit(f"no *.jsonl files in {corpus_dir} (use --corpus or XUNCHA_CORPUS)")
    parts = []
    n = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        # str::lines: split on \n, drop one trailing \r; skip lines that are blank.
        for line in text.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line.strip():
                continue
            posting = json.loads(line)
            n += 1
            for v in field_values(posting):
                parts.append(v)
                parts.append("\n")
    return "".join(parts).encode("utf-8"), n, len(files)


def load_anchors(path):
    lits = [l for l in path.read_text(encoding="utf-8").split("\n") if l]
    if len(set(lits)) != len(lits):
        print(f"warning: {path} has duplicate literals; each is counted", file=sys.stderr)
    return lits


def escape_literal(lit):
    """A Hyperscan (PCRE-like) expression matching exactly the UTF-8 bytes of `lit`."""
    out = bytearray()
    for b in lit.encode("utf-8"):
        c = chr(b)
        if b < 0x80 and c.isalnum():
            out.append(b)
        elif 0x20 < b < 0x7F:
            out += b"\\" + bytes([b])  # ASCII punctuation: backslash escape
        else:
            out += b"\\x%02x" % b  # non-ASCII, space and control bytes
    return bytes(out)


def compile_db(hyperscan, lits, literal_api):
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    ids = list(range(len(lits)))
    t0 = time.perf_counter()
    if literal_api:
        # hs_compile_lit_multi: raw bytes, no pattern syntax at all.
        db.compile(expressions=[l.encode("utf-8") for l in lits], ids=ids, flags=0, literal=True)
    else:
        db.compile(expressions=[escape_literal(l) for l in lits], ids=ids, flags=0)
    return db, time.perf_counter() - t0


def count_matches(db, hay):
    n = [0]

    def on_match(_id, _start, _end, _flags, _ctx):
        n[0] += 1
        return 0  # keep scanning

    t0 = time.perf_counter()
    db.scan(hay, match_event_handler=on_match)
    return n[0], time.perf_counter() - t0


def best_scan(db, hay, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        db.scan(hay, match_event_handler=None)
        best = min(best, time.perf_counter() - t0)
    return best


def naive_count(lits, hay):
    """Overlapping occurrences by plain bytes.find: slow, for --verify only."""
    total = 0
    for lit in lits:
        needle = lit.encode("utf-8")
        i = hay.find(needle)
        while i >= 0:
            total += 1
            i = hay.find(needle, i + 1)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=default_corpus(), help="corpus directory")
    ap.add_argument("--anchors-dir", type=Path, default=REPO / "target",
                    help="directory of bench-anchors-N.txt (default <repo>/target)")
    ap.add_argument("--sizes", default="100,1000,10000", help="anchor-set sizes N")
    ap.add_argument("--repeat", type=int, default=5, help="timed scans per set (best is kept)")
    ap.add_argument("--literal-api", action="store_true",
                    help="compile with hs_compile_lit_multi instead of escaped expressions")
    ap.add_argument("--verify", action="store_true",
                    help="also count with bytes.find and compare (slow)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()

    try:
        import hyperscan
    except ImportError:
        sys.exit("hyperscan is not installed: python3 -m venv /tmp/hs && "
                 "/tmp/hs/bin/pip install hyperscan, then run with /tmp/hs/bin/python")

    t0 = time.perf_counter()
    hay, n_postings, n_files = build_haystack(args.corpus)
    build_s = time.perf_counter() - t0
    mb = len(hay) / 1e6

    results = []
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        path = args.anchors_dir / f"bench-anchors-{n}.txt"
        if not path.exists():
            print(f"skip N={n}: {path} missing (run `cargo bench -p xuncha-benches` first)",
                  file=sys.stderr)
            continue
        lits = load_anchors(path)
        db, compile_s = compile_db(hyperscan, lits, args.literal_api)
        secs = best_scan(db, hay, max(1, args.repeat))
        matches, cb_s = count_matches(db, hay)
        row = {
            "n": n,
            "literals": len(lits),
            "haystack_bytes": len(hay),
            "haystack_mb": round(mb, 3),
            "compile_s": round(compile_s, 4),
            "seconds": round(secs, 5),
            "mb_per_s": round(mb / secs, 1),
            "matches": matches,
            "callback_seconds": round(cb_s, 4),
        }
        if args.verify:
            row["naive_matches"] = naive_count(lits, hay)
            row["verified"] = row["naive_matches"] == matches
        results.append(row)

    info = {
        "engine": f"hyperscan {getattr(hyperscan, '__version__', '?')}",
        "mode": "literal-api" if args.literal_api else "escaped-expressions",
        "corpus": str(args.corpus),
        "files": n_files,
        "postings": n_postings,
        "haystack_bytes": len(hay),
        "haystack_build_s": round(build_s, 2),
        "repeat": args.repeat,
        "results": results,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0 if results else 1

    print(f"{info['engine']} ({info['mode']}), block mode, best of {args.repeat}")
    print(f"haystack: {n_files} files, {n_postings} postings, {len(hay):,} bytes ({mb:.1f} MB)")
    head = f"{'N':>6} {'literals':>8} {'MB':>7} {'seconds':>9} {'MB/s':>8} {'matches':>11} {'cb s':>7}"
    if args.verify:
        head += "  verified"
    print(head)
    for r in results:
        line = (f"{r['n']:>6} {r['literals']:>8} {r['haystack_mb']:>7.1f} {r['seconds']:>9.4f} "
                f"{r['mb_per_s']:>8.1f} {r['matches']:>11,} {r['callback_seconds']:>7.2f}")
        if args.verify:
            line += f"  {'yes' if r['verified'] else 'NO (naive %d)' % r['naive_matches']}"
        print(line)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
