"""How long do the process analyses and their plots take on 100,000 cases?

Synthesizes a log with :func:`pekso_toolkit.datasets.synthesize` (four offices, rework, skipped
stages, early closures, reopenings, open cases; default 100k cases) and times, each on that log
or its stays:

``time_in_stage``, ``process_map``, ``case_durations``, ``compare_groups(by="office")``,
``bottlenecks(by="office")``, ``deviations``, ``skipped_analysis``, ``plot_process_map`` (from
the computed map and from the log), ``plot_dotted_chart`` (its default of 2,000 cases drawn,
and every case) and ``stage_drivers`` on one stage (``asesmen``, covariates office and risk).

Each figure is the median of ``--repeat`` runs (default 3) when the first run takes under
``--once-over`` seconds (default 20), else that single run. Plots are timed up to a drawn canvas
(``figure.canvas.draw()``, Agg). The machine (CPU, cores, load average, versions) is printed
first: on a shared machine the load average says how much the figures are inflated.

Run: ``.venv/bin/python benchmarks/analyses_100k.py [--cases 100000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _shared import cpu_name  # noqa: E402

import pekso_toolkit as pk  # noqa: E402
from pekso_toolkit.datasets import synthesize  # noqa: E402

AS_OF = "2025-06-30"
SEED = 7


def machine() -> str:
    cpu = cpu_name()
    return (
        f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"pyarrow {version('pyarrow')}, lifelines {version('lifelines')}, "
        f"matplotlib {matplotlib.__version__}"
    )


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


class Timer:
    def __init__(self, repeat: int, once_over: float) -> None:
        self.repeat = repeat
        self.once_over = once_over
        self.rows: list[tuple[str, float, int, float, float]] = []

    def __call__(self, label: str, fn: Callable[[], Any]) -> Any:
        times: list[float] = []
        result: Any = None
        while True:
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
            plt.close("all")
            if len(times) >= self.repeat or times[0] >= self.once_over:
                break
        row = (label, statistics.median(times), len(times), min(times), max(times))
        self.rows.append(row)
        print(f"  {label:<62} {row[1]:8.3f} s  ({len(times)} run(s); {load()})", flush=True)
        return result

    def table(self) -> str:
        lines = [
            f"| {'what':<62} | {'seconds':>8} | {'runs':>4} | {'range':>15} |",
            f"|{'-' * 64}|{'-' * 9}:|{'-' * 5}:|{'-' * 16}:|",
        ]
        for label, med, n, lo, hi in self.rows:
            spread = f"{lo:.3f}–{hi:.3f}" if n > 1 else ""
            lines.append(f"| {label:<62} | {med:8.3f} | {n:>4} | {spread:>15} |")
        return "\n".join(lines)


def synthesized_log(cases: int) -> Any:
    """Print the machine and the load, then synthesize the log of ``cases`` cases (timed)."""
    print(machine())
    print(load())
    t0 = time.perf_counter()
    log = synthesize(cases, seed=SEED, as_of=AS_OF)
    took = time.perf_counter() - t0
    print(
        f"synthesize({cases:,}, seed={SEED}, as_of={AS_OF!r}): {len(log.events):,} events in "
        f"{took:.1f} s\n"
    )
    return log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the synthetic log")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--once-over", type=float, default=20.0, help="a first run this long (s) is not repeated"
    )
    args = parser.parse_args(argv)
    log = synthesized_log(args.cases)
    timed = Timer(args.repeat, args.once_over)
    stays = timed("time_in_stage", lambda: pk.time_in_stage(log, as_of=AS_OF))
    table = timed("process_map", lambda: pk.process_map(log, as_of=AS_OF))
    timed("case_durations", lambda: pk.case_durations(log, as_of=AS_OF))
    timed("compare_groups(by='office')", lambda: pk.compare_groups(stays, by="office"))
    timed("bottlenecks(by='office')", lambda: pk.bottlenecks(stays, by="office"))
    found = timed("deviations (event log)", lambda: pk.deviations(log, as_of=AS_OF))
    timed("skipped_analysis", lambda: pk.skipped_analysis(log, as_of=AS_OF))
    timed(
        "plot_process_map (from the map)",
        lambda: pk.plot_process_map(table).figure.canvas.draw(),
    )
    timed(
        "plot_process_map (from the log)",
        lambda: pk.plot_process_map(log, as_of=AS_OF).figure.canvas.draw(),
    )
    timed(
        "plot_dotted_chart (default: 2,000 cases drawn)",
        lambda: pk.plot_dotted_chart(log, as_of=AS_OF).figure.canvas.draw(),
    )
    timed(
        f"plot_dotted_chart(max_cases=None): all {args.cases:,} cases",
        lambda: pk.plot_dotted_chart(log, as_of=AS_OF, max_cases=None).figure.canvas.draw(),
    )
    drivers = timed(
        "stage_drivers(stage='asesmen', covariates=['office','risk'])",
        lambda: pk.stage_drivers(stays, stage="asesmen", covariates=["office", "risk"]),
    )
    n_asesmen = int((stays["stage"].astype(str) == "asesmen").sum())
    print(
        f"\n{len(stays):,} stays ({n_asesmen:,} in asesmen), {len(table):,} process-map rows, "
        f"{len(found):,} deviations, {len(drivers)} driver rows"
    )
    print(drivers[["covariate", "level", "method", "ph_p_value", "median_ratio"]].to_string())
    print()
    print(timed.table())
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
