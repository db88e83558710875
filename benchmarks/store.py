"""Case store throughput: single recording calls, import_events and stage_events of 1M events.

Run: ``.venv/bin/python benchmarks/store.py [--events 1000000] [--ticks 2000]``.
Targets: import_events of 1M events <= 15 s; stage_events() of 1M events <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.store import CaseStore


def machine() -> str:
    """One line about the machine and versions."""
    return (
        f"{platform.platform()} | {os.cpu_count()} CPUs | {platform.processor() or '?'} | "
        f"Python {sys.version.split()[0]} | SQLite {sqlite3.sqlite_version} | "
        f"pandas {pd.__version__} | numpy {np.__version__}"
    )


def make_log(n_events: int, *, seed: int = 7) -> EventLog:
    """A canonical log of ``n_events`` stage entries: 10 per case, days apart, with office,
    worker and category columns."""
    model = StageModel.default()
    rng = np.random.default_rng(seed)
    per_case = 10
    n_cases = max(1, n_events // per_case)
    case_idx = np.repeat(np.arange(n_cases), per_case)[:n_events]
    step = np.tile(np.arange(per_case), n_cases)[:n_events]
    # stages: walk the five helping stages twice (rework), the last event closes the case
    helping = [s.id for s in model.helping_stages]
    path = [*helping, *helping[1:], model.closed_id]
    stage = np.asarray(path, dtype=object)[step]
    start = pd.Timestamp("2020-01-01", tz="UTC").value
    case_start = start + rng.integers(0, 4 * 365, n_cases) * 86_400 * 10**9
    gaps = rng.integers(1, 30 * 86_400, n_events) * 10**9
    gaps[step == 0] = 0
    ts = case_start[case_idx] + pd.Series(gaps).groupby(case_idx).cumsum().to_numpy()
    frame = pd.DataFrame(
        {
            "case_id": pd.array([f"C{i:07d}" for i in range(n_cases)], dtype="string")[case_idx],
            "stage": pd.Categorical(stage, dtype=model.dtype),
            "timestamp": pd.to_datetime(ts, utc=True),
            "office": pd.array(
                np.asarray(["Bandung", "Medan", "Makassar", "Kupang"])[case_idx % 4], dtype="string"
            ),
            "worker": pd.array([f"w{i % 97:02d}" for i in case_idx], dtype="string"),
            "category": pd.array(
                np.asarray(["AT", "KTK", "FM", "LU", "PM"])[case_idx % 5], dtype="string"
            ),
        }
    )
    return EventLog.from_frame(frame, model=model)


def bench_recording(folder: Path, n_ticks: int) -> None:
    store = CaseStore(folder / "record.sqlite", worker="bench")
    items = [i.id for s in store.model.helping_stages for i in s.checklist]
    n_cases = -(-n_ticks // len(items))
    t0 = time.perf_counter()
    cases = [
        store.open_case(
            f"ref-{i}",
            office="Bandung",
            worker="bench",
            risk="sedang",
            referral_source="RT",
            story="cerita",
        )
        for i in range(n_cases)
    ]
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = 0
    for case_id in cases:
        for item in items:
            if done == n_ticks:
                break
            store.tick(case_id, item)
            done += 1
    t_tick = time.perf_counter() - t0
    print(f"open_case: {n_cases} calls in {t_open:.3f} s = {n_cases / t_open:,.0f} calls/s")
    print(
        f"tick:      {done} calls in {t_tick:.3f} s = {done / t_tick:,.0f} calls/s "
        f"(up to {len(items)} events per case folded on each call)"
    )
    store.close()


def bench_import(folder: Path, n_events: int) -> None:
    t0 = time.perf_counter()
    log = make_log(n_events)
    print(
        f"built a log of {len(log):,} events, {log.n_cases:,} cases in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    store = CaseStore(folder / "import.sqlite", worker="bench")
    t0 = time.perf_counter()
    written = store.import_events(log)
    t_import = time.perf_counter() - t0
    print(
        f"import_events: {written:,} events in {t_import:.2f} s "
        f"({written / t_import:,.0f} events/s; target <= 15 s for 1M)"
    )
    t0 = time.perf_counter()
    out = store.stage_events()
    t_stage = time.perf_counter() - t0
    print(f"stage_events:  {len(out):,} events in {t_stage:.2f} s (target <= 5 s for 1M)")
    t0 = time.perf_counter()
    cases = store.cases()
    print(f"cases():       {len(cases):,} rows in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    flags = store.flags()
    print(f"flags():       {len(flags):,} rows in {time.perf_counter() - t0:.2f} s")
    same = out.events[["case_id", "stage", "timestamp"]].equals(
        log.events[["case_id", "stage", "timestamp"]]
    )
    print(
        f"round trip equal: {same}; file size "
        f"{(folder / 'import.sqlite').stat().st_size / 2**20:,.0f} MiB"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=2_000)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_recording(folder, args.ticks)
        bench_import(folder, args.events)


if __name__ == "__main__":
    main()
