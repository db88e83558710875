"""Benchmark: time_in_stage and stage_summary on synthetic logs of 10k, 100k and 1M cases.

Each log has about five events per case in shuffled row order, and about 20 % of the cases are
still open at ``as_of``. Every size runs in its own subprocess so that its peak memory (the
process's high-water mark of resident memory, VmHWM, reset after the log is built) is its own.

    .venv/bin/python benchmarks/time_in_stage.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/time_in_stage.py --sizes 10000   # one size
    .venv/bin/python benchmarks/time_in_stage.py --pm4py         # also time pm4py (throwaway venv)

With ``--pm4py`` a throwaway virtual environment is made in the temporary folder, pm4py is
installed there, and ``pm4py.format_dataframe`` + ``pm4py.discover_performance_dfg`` are timed
on the same events (written to Parquet) in that environment's Python. pm4py is never imported
by the toolkit or its tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _shared import load_simlog  # noqa: E402

AS_OF = "2024-06-30"
SPAN_DAYS = 450.0  # cases start uniformly in the 450 days before as_of: about 20 % still open
PM4PY_VENV = Path(tempfile.gettempdir()) / "pekso-bench-pm4py"

PM4PY_RUNNER = r"""
import json, sys, time
import pandas as pd
import pm4py
df = pd.read_parquet(sys.argv[1])
df["stage"] = df["stage"].astype(str)
t0 = time.perf_counter()
log = pm4py.format_dataframe(df, case_id="case_id", activity_key="stage",
                             timestamp_key="timestamp")
t1 = time.perf_counter()
dfg = pm4py.discover_performance_dfg(log)
t2 = time.perf_counter()
print(json.dumps({"format": t1 - t0, "dfg": t2 - t1, "pm4py": pm4py.__version__}))
"""


# ---------------------------------------------------------------------------------- machine
def machine_info() -> dict[str, Any]:
    import lifelines
    import numpy
    import pandas
    import pyarrow

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram_gb, 1),
        "load_avg_1min": round(load[0], 2),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "lifelines": lifelines.__version__,
    }


# ---------------------------------------------------------------------------------- memory
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def _reset_peak() -> bool:
    """Reset VmHWM to the current resident size (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------- worker
def warm_memory(gigabytes: float) -> float:
    """Touch (then free) this much memory once; returns the seconds it took.

    Virtual machines often back guest memory lazily: the first touch of each page can cost
    ~2.5 s per GB, which would be counted against whichever step first needs the memory.
    """
    import numpy as np

    start = time.perf_counter()
    if gigabytes > 0:
        block = np.ones(int(gigabytes * 1024**3 // 8))
        del block
    return time.perf_counter() - start


def worker(n_cases: int, repeats: int, parquet: str | None) -> dict[str, Any]:
    from pekso_toolkit.events.eventlog import EventLog
    from pekso_toolkit.stays.durations import time_in_stage
    from pekso_toolkit.stays.exits import stage_exits
    from pekso_toolkit.stays.summary import stage_summary

    sim = load_simlog().simulate(n_cases, seed=42, as_of=AS_OF, span_days=SPAN_DAYS, shuffle=True)
    events = sim.events[sim.events["timestamp"] <= sim.as_of].reset_index(drop=True)
    closed = int((events["stage"] == "ditutup").sum())
    if parquet:
        events[["case_id", "stage", "timestamp"]].to_parquet(parquet)
    result: dict[str, Any] = {
        "cases": n_cases,
        "events": len(events),
        "open_case_share": round(1 - closed / n_cases, 3),
        "repeats": repeats,
    }

    def timed(label: str, fn: Any) -> Any:
        times = []
        cpu = []
        out = None
        base = _status_kb("VmRSS")
        can_reset = _reset_peak()
        for _ in range(repeats):
            out = None
            start = time.perf_counter()
            start_cpu = time.process_time()
            out = fn()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        peak = _status_kb("VmHWM")
        result[label] = {
            "median_s": round(statistics.median(times), 3),
            "cpu_s": round(statistics.median(cpu), 3),
            "min_s": round(min(times), 3),
            "rss_before_mb": round(base / 1024),
            "peak_rss_mb": round(peak / 1024) if can_reset else None,
        }
        return out

    stays = timed("time_in_stage_shuffled", lambda: time_in_stage(events, as_of=AS_OF))
    result["stays"] = len(stays)
    result["open_stays"] = int((~stays["observed"]).sum())
    timed("time_in_stage_working_days", lambda: time_in_stage(events, as_of=AS_OF, days="working"))
    timed("stage_summary", lambda: stage_summary(stays))
    timed("stage_summary_by_office", lambda: stage_summary(stays, by="office"))
    timed("stage_exits", lambda: stage_exits(stays))
    start = time.perf_counter()
    log = EventLog.from_frame(events)
    result["eventlog_from_frame_s"] = round(time.perf_counter() - start, 3)
    timed("time_in_stage_eventlog", lambda: time_in_stage(log, as_of=AS_OF))
    result["peak_rss_process_mb"] = round(_status_kb("VmHWM") / 1024)
    return result


# ---------------------------------------------------------------------------------- pm4py
def pm4py_python() -> Path | None:
    python = PM4PY_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"making a throwaway venv for pm4py in {PM4PY_VENV} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PM4PY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "pm4py", "pyarrow"], check=True
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"pm4py comparison skipped: could not install pm4py ({exc})")
        return None
    return python


def time_pm4py(python: Path, parquet: str) -> dict[str, Any] | None:
    proc = subprocess.run(
        [str(python), "-c", PM4PY_RUNNER, parquet], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(f"pm4py run failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="numbers of cases")
    parser.add_argument("--repeats", type=int, default=5, help="runs per step (small sizes)")
    parser.add_argument(
        "--repeats-large", type=int, default=3, help="runs per step from 1M cases up"
    )
    parser.add_argument("--pm4py", action="store_true", help="also time pm4py (throwaway venv)")
    parser.add_argument(
        "--pm4py-max", type=int, default=1_000_000, help="largest size timed with pm4py"
    )
    parser.add_argument(
        "--warm-gb", type=float, default=3.0, help="memory to touch once before timing (GB)"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        repeats = args.repeats_large if args.worker >= 1_000_000 else args.repeats
        print(json.dumps(worker(args.worker, repeats, args.parquet)))
        return

    info = machine_info()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    print("(other work on the machine inflates wall times: compare the load average and CPU times)")
    took = warm_memory(args.warm_gb)
    print(f"touched {args.warm_gb:g} GB of memory once before timing ({took:.1f} s)")
    python = pm4py_python() if args.pm4py else None
    for size in [int(s) for s in args.sizes.split(",")]:
        parquet = None
        if python is not None and size <= args.pm4py_max:
            parquet = str(Path(tempfile.gettempdir()) / f"pekso-bench-{size}.parquet")
        cmd = [sys.executable, __file__, "--worker", str(size), "--repeats", str(args.repeats)]
        cmd += ["--repeats-large", str(args.repeats_large)]
        if parquet:
            cmd += ["--parquet", parquet]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{size} cases: failed\n{proc.stderr}")
            continue
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        runs = res["repeats"]
        how = f"median of {runs} runs" if runs > 1 else "1 run"
        print(
            f"\n{size:,} cases, {res['events']:,} events (shuffled rows), "
            f"{res['open_case_share']:.0%} of cases open, {res['stays']:,} stays "
            f"({res['open_stays']:,} open); {how}; load average after: {load:.1f}"
        )
        for key in (
            "time_in_stage_shuffled",
            "time_in_stage_working_days",
            "time_in_stage_eventlog",
            "stage_summary",
            "stage_summary_by_office",
            "stage_exits",
        ):
            r = res[key]
            peak = "n/a" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:,} MB"
            print(
                f"  {key:28s} {r['median_s']:8.3f} s wall {r['cpu_s']:8.3f} s CPU   "
                f"peak RSS {peak:>9s} (RSS before {r['rss_before_mb']:,} MB)"
            )
        print(f"  {'EventLog.from_frame (sort)':28s} {res['eventlog_from_frame_s']:8.3f} s")
        print(f"  peak RSS of the whole run      {res['peak_rss_process_mb']:,} MB")
        if parquet and python is not None:
            pm = time_pm4py(python, parquet)
            if pm:
                total = pm["format"] + pm["dfg"]
                ours = res["time_in_stage_shuffled"]["median_s"]
                print(
                    f"  pm4py {pm['pm4py']}: format_dataframe {pm['format']:.3f} s + "
                    f"discover_performance_dfg {pm['dfg']:.3f} s = {total:.3f} s (1 run); "
                    f"ratio pm4py / time_in_stage = {total / ours:.1f}"
                )
            Path(parquet).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
