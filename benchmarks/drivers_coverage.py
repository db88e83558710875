"""Does ``stage_drivers`` recover a known effect, and is its 95 % interval honest?

For each seed, ``tests/simlog.py``'s ``simulate_effect`` draws a log in which risk "tinggi"
multiplies the assessment (``asesmen``) median by ``--ratio`` (default 2.0) and ``shift`` has no
effect; assessment times are exponential or Weibull (shape 1.5), stays still open at ``as_of``
are censored. The Weibull logs use seeds 10,000 and up: the same seed would give the same
uniform draws, so the two distributions would not be independent checks.
``stage_drivers(stays, stage="asesmen", covariates=["risk", "shift"], reference={"risk":
"rendah"})`` is fitted, as ``tests/test_drivers.py`` does, and the row of "tinggi" gives the
estimated median ratio and its 95 % interval.

Prints per distribution: the mean, median and geometric mean of the estimated median ratio;
the share of intervals that contain the true ratio (coverage; nominal 95 %) with an exact
(Clopper–Pearson) 95 % binomial interval; the same for the hazard ratio (true ``ratio ** -shape``);
and the share of seeds in which the null covariate ``shift`` comes out with p < 0.05 (nominal
5 %), with its binomial interval. The machine is printed first.

With ``--rework 0.2`` a fifth of the cases has a second assessment stay, so the standard errors
are clustered by case (robust sandwich estimate).

Run: ``.venv/bin/python benchmarks/drivers_coverage.py [--seeds 50] [--n 1500] [--rework 0]``.
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

import numpy as np
import pandas as pd
from scipy.stats import beta

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _shared import cpu_name, load_simlog  # noqa: E402

import pekso_toolkit as pk  # noqa: E402

WEIBULL_SHAPE = 1.5


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval of a proportion ``k / n``."""
    a = 1 - level
    low = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return low, high


def machine() -> str:
    cpu = cpu_name()
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores{load}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"lifelines {version('lifelines')}"
    )


def run(
    distribution: str, seeds: range, n_cases: int, ratio: float, rework: float = 0.0
) -> dict[str, Any]:
    simulate_effect = load_simlog().simulate_effect
    shape = 1.0 if distribution == "exponential" else WEIBULL_SHAPE
    true_hr = ratio**-shape
    est, lows, highs, hrs, hr_cov, null_p = [], [], [], [], 0, []
    for seed in seeds:
        sim = simulate_effect(
            n_cases,
            seed=seed,
            ratio=ratio,
            distribution=distribution,
            shape=WEIBULL_SHAPE,
            rework=rework,
        )
        stays = pk.time_in_stage(sim.events, as_of=sim.as_of)
        table = pk.stage_drivers(
            stays, stage="asesmen", covariates=["risk", "shift"], reference={"risk": "rendah"}
        )
        row = table[(table["covariate"] == "risk") & (table["level"] == "tinggi")].iloc[0]
        est.append(float(row["median_ratio"]))
        lows.append(float(row["median_ratio_low"]))
        highs.append(float(row["median_ratio_high"]))
        hrs.append(float(row["hazard_ratio"]))
        hr_cov += int(row["ci_low"] <= true_hr <= row["ci_high"])
        null_p.append(float(table.loc[table["covariate"] == "shift", "p_value"].iloc[0]))
    e, lo, hi = np.array(est), np.array(lows), np.array(highs)
    return {
        "distribution": distribution,
        "n": len(e),
        "mean": float(np.nanmean(e)),
        "median": float(np.nanmedian(e)),
        "geomean": float(math.exp(np.nanmean(np.log(e)))),
        "covered": int(((lo <= ratio) & (ratio <= hi)).sum()),
        "below": int((hi < ratio).sum()),
        "above": int((lo > ratio).sum()),
        "width": float(np.nanmedian(hi / lo)),
        "true_hr": true_hr,
        "hr_mean": float(np.mean(hrs)),
        "hr_covered": hr_cov,
        "null_hits": int((np.array(null_p) < 0.05).sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="simulated logs per distribution")
    parser.add_argument("--n", type=int, default=1500, help="cases per simulated log")
    parser.add_argument("--ratio", type=float, default=2.0, help="true median ratio of tinggi")
    parser.add_argument(
        "--distribution",
        choices=("exponential", "weibull", "both"),
        default="both",
        help="assessment-time distribution (default both)",
    )
    parser.add_argument(
        "--rework",
        type=float,
        default=0.0,
        help="share of cases with a second assessment stay (standard errors then clustered by "
        "case; default 0)",
    )
    args = parser.parse_args(argv)
    print(machine())
    dists = ("exponential", "weibull") if args.distribution == "both" else (args.distribution,)
    print(
        f"stage_drivers(stage='asesmen', covariates=['risk', 'shift'], reference={{'risk': "
        f"'rendah'}}) on {args.seeds} seeds x {args.n:,} cases; true median ratio tinggi/rendah "
        f"{args.ratio:g}; shift has no effect; rework {args.rework:g}\n"
    )
    header = (
        f"{'distribution':<12} {'seeds':>5} {'mean':>6} {'median':>6} {'geo':>6} "
        f"{'covers true':>22} {'miss lo/hi':>10} {'CI hi/lo':>8} "
        f"{'HR true':>7} {'HR mean':>7} {'HR covers':>9} {'shift p<0.05':>24} {'time':>7}"
    )
    print(header)
    print("-" * len(header))
    for dist in dists:
        t0 = time.perf_counter()
        # disjoint seeds: with the same seed both distributions transform the same draws
        first = 0 if dist == "exponential" else 10_000
        r = run(dist, range(first, first + args.seeds), args.n, args.ratio, args.rework)
        took = time.perf_counter() - t0
        n = r["n"]
        c_lo, c_hi = binomial_interval(r["covered"], n)
        z_lo, z_hi = binomial_interval(r["null_hits"], n)
        cover = f"{r['covered']}/{n} {r['covered'] / n:.0%} [{c_lo:.0%}, {c_hi:.0%}]"
        null = f"{r['null_hits']}/{n} {r['null_hits'] / n:.0%} [{z_lo:.0%}, {z_hi:.0%}]"
        print(
            f"{dist:<12} {n:>5} {r['mean']:>6.3f} {r['median']:>6.3f} {r['geomean']:>6.3f} "
            f"{cover:>22} {r['below']:>4}/{r['above']:<5} {r['width']:>8.3f} "
            f"{r['true_hr']:>7.3f} {r['hr_mean']:>7.3f} {r['hr_covered']:>4}/{n:<4} "
            f"{null:>24} {took:>6.1f}s"
        )
    print(
        "\ncovers true: share of 95 % intervals of the median ratio that contain the true ratio "
        "[exact binomial 95 % interval]; miss lo/hi: intervals entirely below / above it; "
        "CI hi/lo: median ratio of the interval's ends; HR: hazard ratio (true ratio ** -shape); "
        "shift p<0.05: seeds in which the covariate without effect is called significant "
        "(nominal 5 %)."
    )


if __name__ == "__main__":
    main()
