"""Benchmark: ``load_events`` on a synthetic agency CSV export (default 300k rows).

The export is made with :func:`pekso_toolkit.datasets.synthesize_frame` (local ``YYYY-MM-DD
HH:MM`` / ``YYYY-MM-DD`` text, the way agencies export it) and written once to the temporary
folder; each run reads it with ``load_events`` and the median wall time is printed.

    .venv/bin/python benchmarks/loader.py                 # 300k rows, median of 3
    .venv/bin/python benchmarks/loader.py --rows 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pekso_toolkit.datasets import synthesize_frame  # noqa: E402
from pekso_toolkit.events.eventlog import load_events  # noqa: E402


def machine() -> str:
    """One line about the machine and versions."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.platform()} | {os.cpu_count()} CPUs | {platform.processor() or '?'} | "
        f"Python {sys.version.split()[0]} | pandas {pd.__version__} | numpy {np.__version__} | "
        f"load average {load:.1f}"
    )


def export(rows: int) -> Path:
    """The synthetic CSV of about ``rows`` rows (made once, kept in the temporary folder)."""
    path = Path(tempfile.gettempdir()) / f"pekso-bench-loader-{rows}.csv"
    if not path.exists():
        n_cases = max(1, rows // 5)
        frame = synthesize_frame(n_cases, seed=11, as_of="2024-06-30")
        while len(frame) < rows:  # about five rows per case: top up to the size asked
            n_cases = int(n_cases * rows / len(frame)) + 1
            frame = synthesize_frame(n_cases, seed=11, as_of="2024-06-30")
        frame.head(rows).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    path = export(args.rows)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        log = load_events(path)
        times.append(time.perf_counter() - t0)
    report = log.report
    print(
        f"load_events {path.name}: {report.n_read} rows read, {report.n_kept} kept, "
        f"{report.n_repaired} repaired, {report.n_rejected} rejected"
    )
    print(
        f"median of {args.repeat}: {statistics.median(times):.3f} s  (runs: "
        + ", ".join(f"{t:.3f}" for t in times)
        + ")"
    )


if __name__ == "__main__":
    main()
