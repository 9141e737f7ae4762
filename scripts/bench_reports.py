"""Bounded time and memory for claim extraction on large report files.

Writes a 50 MB report (the shared ISW report repeated) and a 50 MB HTML capture, extracts claims
from each and from the original report, and prints time and peak memory side by side. The reader
caps what it parses (``max_bytes``), so the 50 MB files cost about what their first 4 MB cost.

    python scripts/bench_reports.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

from sitewatch import extract_claims


def run(path: Path, **kw: object) -> tuple[int, float, float]:
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims = extract_claims(path, published="2025-12-07", **kw)  # type: ignore[arg-type]
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(claims), dt, peak / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--size-mb", type=float, default=50.0)
    args = ap.parse_args()
    src = Path(args.shared) / "reports" / "iswnews-2025-12-07-qasrak.txt"
    body = src.read_text(encoding="utf-8")
    # Without its comment form: the reader blanks everything after "Leave a Reply", which would make
    # the repeated file trivially cheap and the benchmark dishonest.
    body = body.split("Share it:")[0]
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.txt"
        n = int(args.size_mb * 1e6 / len(body.encode())) + 1
        with big.open("w", encoding="utf-8") as fh:
            for _ in range(n):
                fh.write(body + "\n\n")
        html = Path(tmp) / "big.html"
        paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        with html.open("w", encoding="utf-8") as fh:
            fh.write("<html><head><title>t</title></head><body><nav>Home | World</nav><article>")
            for _ in range(n):
                fh.write(paras)
            fh.write("</article></body></html>")
        rows = [
            ("original report", src),
            (f"{args.size_mb:.0f} MB text", big),
            (f"{args.size_mb:.0f} MB HTML", html),
        ]
        print(f"{'input':<18} {'size MB':>8} {'claims':>7} {'seconds':>8} {'peak MB':>8}")
        base_t = None
        for label, path in rows:
            count, secs, peak = run(path)
            base_t = base_t or secs
            size = path.stat().st_size / 1e6
            print(f"{label:<18} {size:8.1f} {count:7d} {secs:8.2f} {peak:8.1f}   x{secs / base_t:.0f} time")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(f"process max RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
