"""Process map, case durations and stage drivers: timings, a real-log picture, simulated truth.

Prints
1. wall times of ``process_map``, ``case_durations``, ``stage_drivers``, ``compare_groups`` and the
   two plots on simulated logs (default 100k cases, with rework);
2. how well ``stage_drivers`` recovers a known effect: risk "tinggi" doubles the assessment
   median (exponential and Weibull times, censoring at ``as_of``), over many seeds: mean
   estimate, coverage of the 95 % interval of the median ratio, and the rate at which a covariate
   with no effect comes out significant;
3. and draws the process map of the WABO receipt log (``../shared/data/receipt.xes.gz``, real
   permit casework; skipped when absent) to ``docs/process_map_receipt.png``.

The receipt log's 27 activities are mapped onto the five helping stages with
:data:`RECEIPT_STAGE_MAP`: receiving and confirming the application = intake (``proses_awal``);
internal and external advice = assessment (``asesmen``); deciding whether to stop = analysis
(``analisa_masalah``); document X / holding the request = intervention (``intervensi``); report Y
on stopping = termination (``terminasi``). The log has no closing event: a case with the trace
attribute ``case:enddate`` is closed (``ditutup``) at that date, or at its last event when the
end date comes before it (145 cases); the 105 cases without an end date stay open.

Run: ``.venv/bin/python benchmarks/process.py [--cases 100000] [--seeds 50]``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
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
from _shared import load_simlog  # noqa: E402

import pekso_toolkit as pk  # noqa: E402

RECEIPT = ROOT.parent / "shared" / "data" / "receipt.xes.gz"
PICTURE = ROOT / "docs" / "process_map_receipt.png"

#: The receipt log's activities -> stage ids (see the module docstring).
RECEIPT_STAGE_MAP = {
    "Confirmation of receipt": "proses_awal",
    "T02 Check confirmation of receipt": "proses_awal",
    "T03 Adjust confirmation of receipt": "proses_awal",
    "T04 Determine confirmation of receipt": "proses_awal",
    "T05 Print and send confirmation of receipt": "proses_awal",
    "T06 Determine necessity of stop advice": "asesmen",
    "T07-1 Draft intern advice aspect 1": "asesmen",
    "T07-2 Draft intern advice aspect 2": "asesmen",
    "T07-3 Draft intern advice hold for aspect 3": "asesmen",
    "T07-4 Draft internal advice to hold for type 4": "asesmen",
    "T07-5 Draft intern advice aspect 5": "asesmen",
    "T08 Draft and send request for advice": "asesmen",
    "T09-1 Process or receive external advice from party 1": "asesmen",
    "T09-2 Process or receive external advice from party 2": "asesmen",
    "T09-3 Process or receive external advice from party 3": "asesmen",
    "T09-4 Process or receive external advice from party 4": "asesmen",
    "T10 Determine necessity to stop indication": "analisa_masalah",
    "T11 Create document X request unlicensed": "intervensi",
    "T12 Check document X request unlicensed": "intervensi",
    "T13 Adjust document X request unlicensed": "intervensi",
    "T14 Determine document X request unlicensed": "intervensi",
    "T15 Print document X request unlicensed": "intervensi",
    "T16 Report reasons to hold request": "intervensi",
    "T17 Check report Y to stop indication": "terminasi",
    "T18 Adjust report Y to stop indicition": "terminasi",
    "T19 Determine report Y to stop indication": "terminasi",
    "T20 Print report Y to stop indication": "terminasi",
}


def _timed(label: str, fn: Any, repeat: int = 3) -> Any:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        plt.close("all")
    print(f"  {label:<58} {min(times):7.3f} s (best of {repeat}; worst {max(times):.3f} s)")
    return result


def timings(n_cases: int) -> None:
    sim = load_simlog().simulate_effect(n_cases, seed=1, rework=0.1, span_days=450)
    events = sim.events
    stays = pk.time_in_stage(events, as_of=sim.as_of)
    print(
        f"\n1. Timings on {n_cases:,} simulated cases "
        f"({len(events):,} events, {len(stays):,} stays)"
    )
    table = _timed("process_map", lambda: pk.process_map(events, as_of=sim.as_of))
    _timed("case_durations", lambda: pk.case_durations(events, as_of=sim.as_of))
    _timed(
        "case_durations(by='risk')", lambda: pk.case_durations(events, as_of=sim.as_of, by="risk")
    )
    drivers = _timed(
        "stage_drivers(stage='asesmen', covariates=['risk','shift'])",
        lambda: pk.stage_drivers(stays, stage="asesmen", covariates=["risk", "shift"]),
        repeat=1,
    )
    _timed(
        "stage_drivers(every stage, covariates=['risk','shift'])",
        lambda: pk.stage_drivers(stays, covariates=["risk", "shift"]),
        repeat=1,
    )
    _timed("compare_groups(by='risk')", lambda: pk.compare_groups(stays, by="risk"), repeat=1)
    _timed(
        "plot_process_map (from the map)", lambda: pk.plot_process_map(table).figure.canvas.draw()
    )
    _timed(
        "plot_dotted_chart (2,000 cases drawn)",
        lambda: pk.plot_dotted_chart(events).figure.canvas.draw(),
    )
    row = drivers[drivers["level"] == "tinggi"].iloc[0]
    print(
        f"  (asesmen, tinggi vs {row['reference']}: median ratio {row['median_ratio']:.3f} "
        f"[{row['median_ratio_low']:.3f}, {row['median_ratio_high']:.3f}], true 2)"
    )


def coverage(n_seeds: int, n_cases: int) -> None:
    simulate_effect = load_simlog().simulate_effect
    print(f"\n2. Known effect: risk tinggi doubles the assessment median ({n_seeds} seeds, "
          f"{n_cases:,} cases each, censored at as_of)")  # fmt: skip
    for distribution in ("exponential", "weibull"):
        shape = 1.0 if distribution == "exponential" else 1.5
        est, covered, hr, hr_cov, t0 = [], 0, [], 0, time.perf_counter()
        for seed in range(n_seeds):
            sim = simulate_effect(n_cases, seed=seed, ratio=2.0, distribution=distribution)
            stays = pk.time_in_stage(sim.events, as_of=sim.as_of)
            table = pk.stage_drivers(
                stays, stage="asesmen", covariates=["risk", "shift"], reference={"risk": "rendah"}
            )
            row = table[table["level"] == "tinggi"].iloc[0]
            est.append(row["median_ratio"])
            covered += row["median_ratio_low"] <= 2.0 <= row["median_ratio_high"]
            hr.append(row["hazard_ratio"])
            hr_cov += row["ci_low"] <= 2.0**-shape <= row["ci_high"]
        est_a = np.array(est)
        print(
            f"  {distribution:<12} median ratio: true 2.000, mean estimate {est_a.mean():.3f} "
            f"(geometric {math.exp(np.log(est_a).mean()):.3f}, sd {est_a.std(ddof=1):.3f}); "
            f"95% CI covers 2 in {covered}/{n_seeds} ({covered / n_seeds:.0%})"
        )
        print(
            f"  {'':<12} hazard ratio: true {2.0**-shape:.3f}, mean estimate {np.mean(hr):.3f}; "
            f"95% CI covers it in {hr_cov}/{n_seeds}; {time.perf_counter() - t0:.1f} s"
        )
    n_null = 4 * n_seeds
    hits = 0
    for seed in range(n_null):
        sim = simulate_effect(300, seed=10_000 + seed, ratio=1.0)
        stays = pk.time_in_stage(sim.events, as_of=sim.as_of)
        table = pk.stage_drivers(stays, stage="asesmen", covariates="shift")
        hits += bool(table["p_value"].iloc[0] < 0.05)
    print(
        f"  null covariate (shift, no effect; 300 cases): p < 0.05 in {hits}/{n_null} fits "
        f"({hits / n_null:.1%}; nominal 5%)"
    )


def receipt_picture() -> None:
    print("\n3. Process map of the WABO receipt log")
    if not RECEIPT.exists():
        print(f"  skipped: {RECEIPT} not found (it sits beside the project checkout)")
        return
    log = pk.load_events(RECEIPT, stage_map=RECEIPT_STAGE_MAP)
    ev = log.events
    end = pd.to_datetime(ev.groupby("case_id")["case:enddate"].first(), utc=True, format="ISO8601")
    last = ev.groupby("case_id")["timestamp"].max()
    closed_at = end.where(end >= last, last)[end.notna()]
    closures = pd.DataFrame(
        {"case_id": closed_at.index, "stage": "ditutup", "timestamp": closed_at.to_numpy()}
    )
    frame = pd.concat([ev[["case_id", "stage", "timestamp"]], closures], ignore_index=True)
    as_of = "2012-01-24"
    log2 = pk.load_events(frame, tz="UTC")
    table = pk.process_map(log2, as_of=as_of)
    durations = pk.case_durations(log2, as_of=as_of)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
        print(durations.to_string(index=False))
    pk.set_language("en")
    fig, ax = plt.subplots(figsize=(12, 6.2))
    pk.plot_process_map(table, ax=ax, min_cases=5)
    ax.set_title(
        "WABO receipt log (1,434 permit cases, Oct 2010 – Jan 2012) on the five stages\n"
        + ax.get_title(),
        fontsize=10,
    )
    PICTURE.parent.mkdir(exist_ok=True)
    fig.savefig(PICTURE, dpi=110, bbox_inches="tight", metadata={"Software": None})
    pk.set_language("id")
    print(f"  written: {PICTURE.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases of the timing log")
    parser.add_argument("--seeds", type=int, default=50, help="seeds of the coverage check")
    parser.add_argument("--seed-cases", type=int, default=1500, help="cases per coverage log")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"lifelines {version('lifelines')}"
    )
    receipt_picture()
    timings(args.cases)
    coverage(args.seeds, args.seed_cases)


if __name__ == "__main__":
    main()
