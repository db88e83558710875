"""Benchmark: time in stage of a log larger than the memory allowed, from a Parquet dataset.

The events of ``--cases`` cases are written in chunks of a million cases to a folder of
Parquet files (the generator of ``engines.py``: shuffled rows, text case ids, 30 % of stays
with a repeated event, 20 % of cases open), never held in memory at once. Then, in a child
process whose peak RSS is read with ``os.wait4``::

    pk.time_in_stage("events/*.parquet", as_of=..., memory_limit=..., progress=True,
                     to="stays.parquet")

writes the stays to a Parquet file, spilling to ``--temp`` beyond the memory limit, and
``pk.stage_summary("stays.parquet")`` summarises the file (aggregated by the engine). The
numbers of stays and open stays in the file must be those the generator planted.

    .venv/bin/python benchmarks/larger_than_memory.py                      # 2M cases
    .venv/bin/python benchmarks/larger_than_memory.py --cases 20000000 --memory-limit 2GB
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from engines import AS_OF, machine_info, make_events  # noqa: E402

CHUNK = 1_000_000


def write_events(n_cases: int, folder: Path) -> dict[str, int]:
    """Write the events in chunks; returns the totals the stays must show."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(n_cases)) + 1
    totals: dict[str, int] = {}
    for i, first in enumerate(range(0, n_cases, CHUNK)):
        size = min(CHUNK, n_cases - first)
        table, truth = make_events(size, seed=1000 + i, first=first, width=width)
        pq.write_table(table, folder / f"part-{i:04d}.parquet", row_group_size=1_000_000)
        for key, value in truth.items():
            totals[key] = totals.get(key, 0) + value
        print(f"  chunk {i + 1}: {first + size:,} cases written", flush=True)
    return totals


def worker(glob: str, out: str, memory_limit: str, temp: str) -> dict[str, Any]:
    import duckdb

    import pekso_toolkit as pk

    result: dict[str, Any] = {}
    start, cpu = time.perf_counter(), time.process_time()
    pk.time_in_stage(
        glob,
        as_of=AS_OF,
        memory_limit=memory_limit,
        temp_directory=temp,
        progress=True,
        to=out,
    )
    result["time_in_stage_s"] = round(time.perf_counter() - start, 1)
    result["time_in_stage_cpu_s"] = round(time.process_time() - cpu, 1)
    start = time.perf_counter()
    summary = pk.stage_summary(out)
    result["stage_summary_s"] = round(time.perf_counter() - start, 2)
    result["summary_stays"] = int(summary["n_stays"].sum())
    con = duckdb.connect()
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (NOT observed) FROM read_parquet(?)", [out]
    ).fetchall()[0]
    result["stays"], result["open_stays"] = int(counts[0]), int(counts[1])
    result["stays_file_mb"] = round(Path(out).stat().st_size / 2**20)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=float, default=2e6)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--folder", help="where the events and stays go (default: a temp dir)")
    parser.add_argument("--temp", help="DuckDB spill folder (default: inside --folder)")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0

    n_cases = int(args.cases)
    info = machine_info()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    base = Path(args.folder or tempfile.mkdtemp(prefix="pekso-ltm-"))
    events, out = base / "events", base / "stays.parquet"
    temp = Path(args.temp or base / "spill")
    out.unlink(missing_ok=True)
    try:
        start = time.perf_counter()
        if (base / "truth.json").exists() and events.is_dir():
            truth = json.loads((base / "truth.json").read_text())
            print(f"events already written in {events}")
        else:
            truth = write_events(n_cases, events)
            (base / "truth.json").write_text(json.dumps(truth))
        made = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in events.glob("*.parquet")) / 2**20
        print(
            f"{truth['cases']:,} cases, {truth['events']:,} events, {truth['stays']:,} stays "
            f"({truth['open_stays']:,} open); Parquet {size_mb:,.0f} MB in "
            f"{len(list(events.glob('*.parquet')))} files, made in {made:.0f} s"
        )
        cmd = [sys.executable, __file__, "--worker", str(events / "*.parquet"), str(out)]
        cmd += [args.memory_limit, str(temp)]
        with tempfile.TemporaryFile("w+") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, text=True)
            _, status, usage = os.wait4(proc.pid, 0)
            stdout.seek(0)
            lines = stdout.read().strip().splitlines()
        if os.waitstatus_to_exitcode(status) != 0 or not lines:
            print("the run failed")
            return 1
        res = json.loads(lines[-1])
        peak = usage.ru_maxrss / 2**20  # kilobytes -> GB
        print(
            f"time_in_stage(to=...) with memory_limit={args.memory_limit}: "
            f"{res['time_in_stage_s']:.0f} s wall, {res['time_in_stage_cpu_s']:.0f} s CPU; "
            f"peak RSS of the process {peak:.2f} GB; stays file {res['stays_file_mb']:,} MB"
        )
        print(
            f"stage_summary of the stays file: {res['stage_summary_s']:.2f} s "
            f"({res['summary_stays']:,} stays summarised)"
        )
        ok = (
            res["stays"] == truth["stays"]
            and res["open_stays"] == truth["open_stays"]
            and res["summary_stays"] == truth["stays"]
        )
        print(
            f"check: {res['stays']:,} stays, {res['open_stays']:,} open in the file: "
            + ("as planted" if ok else f"MISMATCH (planted {truth['stays']:,})")
        )
        print(f"load average now: {os.getloadavg()[0]:.1f}")
        return 0 if ok else 1
    finally:
        if not args.keep and not args.folder:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
