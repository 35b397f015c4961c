"""CLI start-up: median wall time of `rms-ml-push --help` against `python -c pass`.

Run: .venv/bin/python bench/cli_startup.py [--runs N]
`--help` must stay fast: heavy imports (pandas, sqlalchemy, statsforecast) happen lazily,
inside the command handlers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _median_s(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("rms-ml-push"))
    _median_s([cli, "--help"], 2)  # warm the file cache
    baseline = _median_s([sys.executable, "-c", "pass"], args.runs)
    helped = _median_s([cli, "--help"], args.runs)
    modules = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import rms_ml_push.cli"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    heavy = [m for m in ("pandas", "sqlalchemy", "statsforecast", "numpy", "httpx")
             if f" {m}\n" in modules or f"| {m}\n" in modules]  # fmt: skip
    print(f"python -c pass        median {baseline * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"rms-ml-push --help    median {helped * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"ratio                 {helped / baseline:7.2f} x")
    print(f"heavy modules imported by the CLI module: {heavy or 'none'}")


if __name__ == "__main__":
    main()
