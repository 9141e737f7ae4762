"""Start-up time of the command line and of ``import sitewatch`` (issue 13 item 5).

Each measure runs in a fresh interpreter (``subprocess``), ``--repeat`` times; the median is
printed with the heavy libraries the process had imported. Target: ``sitewatch --help`` and
``sitewatch --version`` under 0.3 s on an idle machine, and ``import sitewatch`` importing
none of the heavy libraries until a name that needs them is used.

Run::

    python scripts/bench_cli.py            # median of 7
    python scripts/bench_cli.py --repeat 15
    python scripts/bench_cli.py --against /tmp/old/src   # side by side with another tree's src/
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("xarray", "rasterio", "skimage", "dask", "scipy", "pandas", "odc.geo", "trafilatura", "lxml")

_PROBE = """
import json, sys, runpy
sys.argv = {argv!r}
try:
    {body}
except SystemExit:
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
sys.stderr.write("\\nBENCH " + json.dumps(heavy) + "\\n")
"""

CASES = {
    "sitewatch --help": (["sitewatch", "--help"], "from sitewatch.cli.main import main; main()"),
    "sitewatch --version": (["sitewatch", "--version"], "from sitewatch.cli.main import main; main()"),
    "import sitewatch": (["python"], "import sitewatch"),
    "python (baseline)": (["python"], "pass"),
}


def measure(argv: list[str], body: str, repeat: int, src: str | None = None) -> tuple[float, list[str]]:
    """Median wall time (s) of ``repeat`` fresh interpreters running ``body``; heavy modules seen."""
    code = _PROBE.format(argv=argv, body=body, heavy=HEAVY)
    env = dict(os.environ, PYTHONPATH=src) if src else None
    times: list[float] = []
    heavy: list[str] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        times.append(time.perf_counter() - t0)
        for line in done.stderr.splitlines():
            if line.startswith("BENCH "):
                heavy = json.loads(line[6:])
    return statistics.median(times), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per case (median reported)")
    parser.add_argument("--against", metavar="SRC", help="another tree's src/ to time alongside (before)")
    args = parser.parse_args()
    trees = [("this", None)] + ([("against", args.against)] if args.against else [])
    print(f"{'case':<22} {'tree':<8} {'median s':>9}  heavy modules imported")
    for name, (argv, body) in CASES.items():
        for label, src in trees:  # interleaved: both trees see the same machine load
            seconds, heavy = measure(argv, body, args.repeat, src)
            print(f"{name:<22} {label:<8} {seconds:>9.3f}  {', '.join(heavy) or '-'}")


if __name__ == "__main__":
    main()
