"""How fast does the bottleneck explorer re-render on about 100,000 stays?

Prints the median (and 90th percentile) time of a re-render after a control changes, in three
situations: the first look at a grouping (its stage summary is computed: Kaplan–Meier per cell),
a new stage or figure within a grouping already computed (the plot is drawn), and a view seen
before (everything cached); then the same explorer as a notebook builds it, with the other
groupings computed in the background while the first view is read. Run:
``python benchmarks/explorer.py [n_cases]``.
"""

from __future__ import annotations

import statistics
import sys
import time

from pekso_toolkit.datasets import synthesize
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.widgets import BottleneckExplorer

AS_OF = "2025-06-30"
SEED = 7


def timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def summary(name: str, seconds: list[float]) -> None:
    ms = sorted(1000 * s for s in seconds)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    print(
        f"{name:<44} n={len(ms):>3}  median {statistics.median(ms):7.1f} ms  "
        f"p90 {p90:7.1f} ms  max {ms[-1]:7.1f} ms"
    )


def main(n_cases: int = 21_000) -> None:
    start = time.perf_counter()
    log = synthesize(n_cases, seed=SEED, as_of=AS_OF)
    stays = time_in_stage(log, as_of=AS_OF)
    print(
        f"{len(stays):,} stays of {n_cases:,} cases (synthesized in "
        f"{time.perf_counter() - start:.1f} s)"
    )
    built = time.perf_counter()
    explorer = BottleneckExplorer(stays, min_count=11, warm_up=False)
    print(f"explorer built and first view drawn in {1000 * (time.perf_counter() - built):.0f} ms")

    groupings = [value for _, value in explorer.grouping.options]
    stages = [value for _, value in explorer.stage.options]
    figures = ["median_days", "overdue_share"]

    def set_control(control: object, value: object) -> None:
        control.value = value  # type: ignore[attr-defined]

    cold: list[float] = []
    for grouping in groupings:
        if grouping == explorer.grouping.value:
            continue
        cold.append(timed(lambda g=grouping: set_control(explorer.grouping, g)))
    drawn: list[float] = []
    seen: list[float] = []
    for _ in range(2):  # the second pass finds every view cached
        for grouping in groupings:
            for stage in stages:
                for figure in figures:
                    for control, value in (
                        (explorer.grouping, grouping),
                        (explorer.stage, stage),
                        (explorer.value, figure),
                    ):
                        if control.value == value:
                            continue
                        n_images = len(explorer._images)
                        took = timed(lambda c=control, v=value: set_control(c, v))
                        (drawn if len(explorer._images) > n_images else seen).append(took)
    print()
    summary("first look at a grouping (summary computed)", cold)
    summary("new view of a computed grouping (plot drawn)", drawn)
    summary("view seen before (all cached)", seen)
    summary("every re-render after a grouping's first look", drawn + seen)

    # as used in a notebook: the other groupings are computed in the background meanwhile
    built = time.perf_counter()
    warm = BottleneckExplorer(stays, min_count=11)
    shown = time.perf_counter() - built
    assert warm.warm_up is not None
    warm.warm_up.join()
    ready = time.perf_counter() - built
    print(
        f"\nwith warm-up: first view in {1000 * shown:.0f} ms, every grouping computed "
        f"{ready:.1f} s after construction"
    )
    after = [
        timed(lambda g=grouping: set_control(warm.grouping, g))
        for grouping in groupings
        if grouping != warm.grouping.value
    ]
    summary("first look at a grouping after the warm-up", after)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21_000)
