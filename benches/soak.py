#!/usr/bin/env python3
"""Soak benchmark of `xuncha run` (embedded mode).

Feeds the inbox at a steady rate with a mix of good postings (the labelled development set
in tests/eval/dev), malformed lines (broken JSON, no id, invalid UTF-8, a line over the
record limit) and hostile postings (control and BiDi characters, a phrase repeated
thousands of times), while other threads hammer the HTTP port: idle connections that never
send, half-sent requests, and a steady stream of /metrics and /readyz requests.

Every 10 s it samples the process's resident memory and open descriptors. At the end it
checks, exactly, that every line fed was either scanned (a posting, with or without leads)
or dead-lettered, and prints the figures.

    python3 benches/soak.py --minutes 30 [--binary target/release/xuncha]

Exit status 1 if a line went missing, the process died, or memory or descriptors grew by
more than 10% between the end of warm-up (a third of the run) and the end.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def good_postings():
    out = []
    for f in sorted((REPO / "tests/eval/dev").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            p = {"id": rec["id"], "text": rec["text"]}
            for k in ("title", "company", "location", "salary", "contact"):
                if rec.get(k):
                    p[k] = rec[k]
            out.append(p)
    return out


def hostile(i):
    kinds = [
        lambda: {"id": f"h{i}", "text": "入职需交押\u202e金500元\u001b]52;c;aGk=\u0007"},
        lambda: {"id": f"h{i}", "text": "代招" * 5000},
        lambda: {"id": f"h{i}", "text": "。".join(["限男性，押金500元，35岁以下"] * 300)},
        lambda: {"id": f"h{i}", "title": "=HYPERLINK(\"x\")", "text": "押\u200b金\u3164500"},
        lambda: {"id": f"h{i}", "text": "\u0000\ufeff\U000e0041岗位" * 100},
    ]
    return json.dumps(random.choice(kinds)(), ensure_ascii=False).encode()


def malformed(i, limit):
    kinds = [
        lambda: b"{not json",
        lambda: json.dumps({"text": "no id"}).encode(),
        lambda: b"\xff\xfe\x00garbage",
        lambda: b'{"id":"big' + str(i).encode() + b'","text":"' + b"x" * (limit + 10) + b'"}',
        lambda: json.dumps({"id": f"m{i}"}).encode(),
    ]
    return random.choice(kinds)()


class Hammer:
    """Hostile and ordinary HTTP clients against the telemetry port."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.requests = 0
        self.failures = 0

    def idle(self):
        held = []
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                if random.random() < 0.5:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
                held.append(s)
            except OSError:
                pass
            if len(held) > 200:
                for s in held[:100]:
                    s.close()
                held = held[100:]
            time.sleep(0.05)
        for s in held:
            s.close()

    def polite(self):
        while not self.stop.is_set():
            for path in ("/metrics", "/readyz", "/healthz"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5).read()
                    self.requests += 1
                except Exception:
                    self.failures += 1
            time.sleep(0.02)

    def start(self):
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.idle, self.idle, self.polite)]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)


def metric(port, name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--binary", default=str(REPO / "target/release/xuncha"))
    ap.add_argument("--rate", type=int, default=200, help="lines per second fed")
    args = ap.parse_args()
    random.seed(2026)
    limit = 64 * 1024
    work = Path(tempfile.mkdtemp(prefix="xuncha-soak-"))
    (work / "config").mkdir()
    shutil.copy(REPO / "config/default.toml", work / "config/default.toml")
    inbox = work / "data/inbox"
    inbox.mkdir(parents=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, XUNCHA_RULES=str(REPO / "rules"), XUNCHA_HTTP_ADDR=f"127.0.0.1:{port}",
               XUNCHA_SCAN__MAX_RECORD_BYTES=str(limit), XUNCHA_INBOX__SETTLE_MS="200", RUST_LOG="error")
    env.pop("XUNCHA_DB", None)
    proc = subprocess.Popen([args.binary, "run"], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    hammer = Hammer(port)
    hammer.start()
    good = good_postings()
    fed = {"good": 0, "malformed": 0, "hostile": 0}
    samples = []
    started = time.time()
    end = started + args.minutes * 60
    n = 0
    next_sample = started
    while time.time() < end:
        tick = time.time()
        lines = []
        for _ in range(args.rate):
            r = random.random()
            if r < 0.8:
                p = dict(random.choice(good))
                p["id"] = f"g{n}"
                lines.append(json.dumps(p, ensure_ascii=False).encode())
                fed["good"] += 1
            elif r < 0.9:
                lines.append(malformed(n, limit))
                fed["malformed"] += 1
            else:
                lines.append(hostile(n))
                fed["hostile"] += 1
            n += 1
        part = inbox / f"feed-{n:09d}.jsonl.part"
        part.write_bytes(b"\n".join(lines) + b"\n")
        part.rename(inbox / f"feed-{n:09d}.jsonl")
        if proc.poll() is not None:
            print(f"xuncha run exited with {proc.returncode}", file=sys.stderr)
            return 1
        if time.time() >= next_sample:
            rss, fds = sample(proc.pid)
            samples.append((time.time() - started, rss, fds))
            next_sample += 10
        time.sleep(max(0.0, 1.0 - (time.time() - tick)))
    # Drain: wait until the inbox is empty and the counters stop moving.
    fed_total = sum(fed.values())
    deadline = time.time() + 600
    while time.time() < deadline:
        left = [p for p in inbox.iterdir() if p.suffix == ".jsonl"]
        seen = metric(port, "xuncha_postings_in_total") + metric(port, "xuncha_dead_letters_total")
        if not left and seen >= fed_total:
            break
        time.sleep(1)
    postings = metric(port, "xuncha_postings_in_total")
    dead = metric(port, "xuncha_dead_letters_total")
    hammer.finish()
    proc.terminate()
    proc.wait(timeout=60)
    leads = subprocess.run([args.binary, "leads", "export", "--format", "jsonl"], cwd=work, env=env,
                           capture_output=True, text=True).stdout.splitlines()
    with_leads = len({json.loads(l)["posting"]["id"] for l in leads})
    warm = [s for s in samples if s[0] >= args.minutes * 60 / 3]
    rss0, fd0 = warm[0][1], warm[0][2]
    rss1, fd1 = max(s[1] for s in warm), max(s[2] for s in warm)
    ok = postings + dead == fed_total
    flat = rss1 <= rss0 * 1.10 and fd1 <= fd0 * 1.10 + 5
    print(json.dumps({
        "minutes": args.minutes, "lines_fed": fed_total, "fed": fed,
        "postings_scanned": postings, "postings_with_leads": with_leads,
        "clean_postings": postings - with_leads, "dead_letters": dead,
        "lines_accounted": ok,
        "rss_kb_after_warmup": rss0, "rss_kb_max_after_warmup": rss1,
        "fds_after_warmup": fd0, "fds_max_after_warmup": fd1, "flat": flat,
        "http_requests_answered": hammer.requests, "http_requests_failed": hammer.failures,
        "samples": samples,
    }))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok and flat else 1


if __name__ == "__main__":
    sys.exit(main())
