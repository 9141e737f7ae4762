"""Bounded time and memory for claim extraction on large report files, in English and Arabic.

Writes a 50 MB report (the shared ISW report repeated), a 50 MB HTML capture of it, and a 50 MB
Arabic report (the Arabic test reports repeated: four outlets' styles), extracts claims from each
and from the originals, and prints time and peak memory side by side, with the Arabic / English
time ratio of the 50 MB texts (target: within 2x). The reader caps what it parses (``max_bytes``,
``max_chars``), so the 50 MB files cost about what their first 4 MB cost. One warm-up extraction
in each language runs first, so one-time costs (the registry, dateparser's month data) are not
counted in either.

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
    arabic_dir = Path(__file__).resolve().parents[1] / "tests" / "reports" / "data"
    arabic_files = sorted(arabic_dir.glob("ar-*.txt"))
    arabic = "\n\n".join(p.read_text(encoding="utf-8") for p in arabic_files if "capture" not in p.name)
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
        ar_small = Path(tmp) / "arabic.txt"
        ar_small.write_text(arabic, encoding="utf-8")
        ar_big = Path(tmp) / "big-ar.txt"
        n_ar = int(args.size_mb * 1e6 / len(arabic.encode())) + 1
        with ar_big.open("w", encoding="utf-8") as fh:
            for _ in range(n_ar):
                fh.write(arabic + "\n\n")
        run(src)  # warm-up: the registry, rapidfuzz
        run(ar_small)  # warm-up: dateparser's Arabic month data
        rows = [
            ("original report", src),
            (f"{args.size_mb:.0f} MB text", big),
            (f"{args.size_mb:.0f} MB HTML", html),
            ("Arabic reports", ar_small),
            (f"{args.size_mb:.0f} MB Arabic", ar_big),
        ]
        print(f"{'input':<18} {'size MB':>8} {'claims':>7} {'seconds':>8} {'peak MB':>8}")
        times = {}
        for label, path in rows:
            count, secs, peak = run(path)
            times[label] = secs
            size = path.stat().st_size / 1e6
            print(f"{label:<18} {size:8.1f} {count:7d} {secs:8.2f} {peak:8.1f}")
        en, ar = times[f"{args.size_mb:.0f} MB text"], times[f"{args.size_mb:.0f} MB Arabic"]
        print(f"Arabic / English time, {args.size_mb:.0f} MB texts: {ar / en:.2f} (target <= 2)")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(f"process max RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
