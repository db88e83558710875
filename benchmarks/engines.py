"""Benchmark: time_in_stage against a hand-written DuckDB query, Polars and (if installed) pm4py.

One synthetic event log per size is written to a Parquet file; every engine computes the stays
of the same events in its own subprocess (so its peak memory is its own: the parent reads the
child's ``ru_maxrss`` with ``os.wait4``), and every engine must find the same number of stays
and of open stays (checked against the numbers the generator planted; the run fails if not).

The events: shuffled rows, case ids as text (``"K00000042"``), stages as text, the five helping
stages in order, about 30 % of stays with a repeated event of the same stage, 20 % of cases
still open at ``as_of`` (they stop somewhere in stages 1-5 with no closure); the other cases
end with ``ditutup``. Every event is before ``as_of``.

Engines (each reads the Parquet file and ends with the stays in memory):

* ``duckdb_sql``: one hand-written DuckDB query (lag/lead over the case's events ordered by time
  then stage order), fetched as a pandas DataFrame (``.df()``), the same output as
  ``time_in_stage``;
* ``time_in_stage``: ``pk.time_in_stage("events.parquet", as_of=...)``;
* ``time_in_stage_frame``: ``pk.time_in_stage(frame)`` on the events already read into pandas
  (the read, ``pd.read_parquet``, is timed apart); this process also times ``stage_summary``;
* ``polars``: the same stays with Polars' lazy API (``scan_parquet`` ... ``collect``), left as a
  Polars DataFrame;
From ``--sink-from`` cases (default 10M) the stays no longer fit in memory as a DataFrame on a
laptop: every engine then writes them to a Parquet file instead (``COPY ... TO``,
``time_in_stage(..., to=...)``, ``sink_parquet``), the engines that need the events in pandas
are left out, and ``stage_summary`` is timed on the stays file.

* ``pm4py``: ``pm4py.format_dataframe`` + ``pm4py.discover_performance_dfg`` (not stays but the
  closest pm4py offers), only when pm4py can be imported. pm4py (AGPL) is never a dependency of
  the toolkit; the benchmark prints a note and skips it when it is absent.

    .venv/bin/python benchmarks/engines.py                          # 100k and 1M cases
    .venv/bin/python benchmarks/engines.py --sizes 100000,1000000,10000000
    .venv/bin/python benchmarks/engines.py --sizes 100000 --engines duckdb_sql,time_in_stage
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AS_OF = "2024-06-30T00:00:00+07:00"
STAGES = ("proses_awal", "asesmen", "analisa_masalah", "intervensi", "terminasi")
CLOSED = "ditutup"
ENGINES = ("duckdb_sql", "time_in_stage", "time_in_stage_frame", "polars", "pm4py")
US_PER_DAY = 86_400 * 10**6


# ---------------------------------------------------------------------------------- events
def make_events(
    n_cases: int, seed: int = 42, *, first: int = 0, width: int | None = None
) -> tuple[Any, dict[str, int]]:
    """The event table (pyarrow) of ``n_cases`` cases and the stays it must give.

    Case ids are ``K`` and the numbers ``first`` ... ``first + n_cases - 1`` on ``width`` digits
    (default: one more than ``n_cases`` has), so chunks of a larger log get distinct ids."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    as_of = int(np.datetime64(AS_OF[:19], "us").astype(np.int64)) - 7 * 3600 * 10**6
    is_open = rng.random(n_cases) < 0.20
    reached = np.where(is_open, rng.integers(1, len(STAGES) + 1, n_cases), len(STAGES))
    durations = (rng.exponential(12.0, (n_cases, len(STAGES))) * US_PER_DAY).astype(np.int64) + 1
    entry = np.zeros((n_cases, len(STAGES) + 1), dtype=np.int64)
    np.cumsum(durations, axis=1, out=entry[:, 1:])  # entry[:, k] = entry to stage k from start
    end = entry[np.arange(n_cases), reached]  # closure (closed) or leaving the last reached stage
    # closed cases end before as_of; open ones are inside their last stage at as_of
    room = (730 * US_PER_DAY * rng.random(n_cases)).astype(np.int64)
    last_entry = entry[np.arange(n_cases), reached - 1]
    start = np.where(
        is_open, as_of - last_entry - 1 - room % (end - last_entry), as_of - end - room
    )
    times = start[:, None] + entry

    stage_of = np.tile(np.arange(len(STAGES)), n_cases)
    case_of = np.repeat(np.arange(n_cases), len(STAGES))
    keep = stage_of < np.repeat(reached, len(STAGES))
    case_s, stage_s = case_of[keep], stage_of[keep]
    enter_s = times[case_s, stage_s]
    leave_s = times[case_s, stage_s + 1]
    leave_s = np.where(is_open[case_s] & (stage_s == reached[case_s] - 1), as_of, leave_s)
    repeat = rng.random(len(case_s)) < 0.30
    extra_t = enter_s[repeat] + ((leave_s[repeat] - enter_s[repeat]) * rng.random(repeat.sum()))
    extra_t = np.minimum(extra_t.astype(np.int64), leave_s[repeat] - 1)
    closed = np.flatnonzero(~is_open)
    case = np.concatenate([case_s, case_s[repeat], closed])
    stage = np.concatenate([stage_s, stage_s[repeat], np.full(len(closed), len(STAGES))])
    closure = times[closed, len(STAGES)]
    when = np.concatenate([enter_s, np.maximum(extra_t, enter_s[repeat] + 1), closure])
    order = rng.permutation(len(case))
    names = pa.array([*STAGES, CLOSED])
    width = width or len(str(n_cases)) + 1
    ids = pa.array([f"K{i:0{width}d}" for i in range(first, first + n_cases)])
    table = pa.table(
        {
            "case_id": ids.take(pa.array(case[order])),
            "stage": names.take(pa.array(stage[order])),
            "timestamp": pa.array(when[order], type=pa.timestamp("us", tz="UTC")),
        }
    )
    truth = {
        "cases": n_cases,
        "events": len(case),
        "stays": int(len(case_s)),
        "open_stays": int(is_open.sum()),
        "stays_with_repeat": int(repeat.sum()),
    }
    return table, truth


# ---------------------------------------------------------------------------------- engines
def _ids_sql() -> str:
    return "[" + ", ".join(f"'{s}'" for s in (*STAGES, CLOSED)) + "]"


HAND_SQL = """
WITH ev AS (
    SELECT case_id, stage, timestamp AS ts, list_position({ids}, stage) AS ord
    FROM read_parquet('{path}')
    WHERE timestamp <= TIMESTAMPTZ '{as_of}'
),
marked AS (
    SELECT *, lag(stage) OVER (PARTITION BY case_id ORDER BY ts, ord) AS prev_stage
    FROM ev
),
runs AS (
    SELECT case_id, stage, ts, ord,
           lead(ts) OVER w AS left_at, lead(stage) OVER w AS next_stage
    FROM marked
    WHERE prev_stage IS DISTINCT FROM stage
    WINDOW w AS (PARTITION BY case_id ORDER BY ts, ord)
)
SELECT case_id, stage,
       row_number() OVER (PARTITION BY case_id, stage ORDER BY ts) AS visit,
       ts AS entered_at, left_at, next_stage,
       (epoch_us(coalesce(left_at, TIMESTAMPTZ '{as_of}')) - epoch_us(ts)) / 86400e6 AS days,
       left_at IS NOT NULL AS observed
FROM runs
WHERE stage <> '{closed}'
ORDER BY case_id, entered_at
"""


def run_duckdb_sql(path: str, out: str | None = None) -> Any:
    import duckdb

    sql = HAND_SQL.format(ids=_ids_sql(), path=path, as_of=AS_OF, closed=CLOSED)
    con = duckdb.connect()
    try:
        if out is None:
            return con.sql(sql).df()
        con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
        return out
    finally:
        con.close()


def run_polars(path: str, out: str | None = None) -> Any:
    import polars as pl

    when = datetime.fromisoformat(AS_OF).astimezone(UTC)
    as_of = pl.lit(when, dtype=pl.Datetime("us", "UTC"))
    order = {s: i for i, s in enumerate((*STAGES, CLOSED))}
    same_case_before = pl.col("case_id") == pl.col("case_id").shift(1)
    same_case_after = pl.col("case_id") == pl.col("case_id").shift(-1)
    same_stage_before = pl.col("stage") == pl.col("stage").shift(1)
    runs = (
        pl.scan_parquet(path)
        .filter(pl.col("timestamp") <= as_of)
        .with_columns(pl.col("stage").replace_strict(order, return_dtype=pl.Int8).alias("ord"))
        .sort(["case_id", "timestamp", "ord"])
        .filter(~(same_case_before & same_stage_before).fill_null(False))
        .with_columns(
            pl.when(same_case_after).then(pl.col("timestamp").shift(-1)).alias("left_at"),
            pl.when(same_case_after).then(pl.col("stage").shift(-1)).alias("next_stage"),
        )
        .filter(pl.col("stage") != CLOSED)
        .with_columns(pl.int_range(1, pl.len() + 1).over(["case_id", "stage"]).alias("visit"))
        .select(
            "case_id",
            "stage",
            "visit",
            pl.col("timestamp").alias("entered_at"),
            "left_at",
            "next_stage",
            (
                (pl.coalesce("left_at", as_of) - pl.col("timestamp")).dt.total_microseconds()
                / US_PER_DAY
            ).alias("days"),
            pl.col("left_at").is_not_null().alias("observed"),
        )
    )
    if out is None:
        return runs.collect()
    runs.sink_parquet(out)
    return out


def run_time_in_stage(path: str, out: str | None = None) -> Any:
    from pekso_toolkit.stays.durations import time_in_stage

    if out is None:
        return time_in_stage(path, as_of=AS_OF)
    return time_in_stage(path, as_of=AS_OF, to=out, overwrite=True)


PM4PY_NOTE = (
    "pm4py is not installed: its comparison is skipped (pm4py is AGPL and never a dependency; "
    "install it in a throwaway environment to include it)"
)


def run_pm4py(frame: Any) -> Any:
    import pm4py

    log = pm4py.format_dataframe(
        frame, case_id="case_id", activity_key="stage", timestamp_key="timestamp"
    )
    return pm4py.discover_performance_dfg(log)


def _counts(stays: Any) -> tuple[int, int, float]:
    """Stays, open stays and the total days of the finished stays (of a frame or a file)."""
    if isinstance(stays, (str, Path)):
        import duckdb

        row = duckdb.execute(
            "SELECT count(*), count(*) FILTER (NOT observed), sum(days) FILTER (observed) "
            "FROM read_parquet(?)",
            [str(stays)],
        ).fetchall()[0]
        return int(row[0]), int(row[1]), float(row[2])
    if type(stays).__module__.startswith("polars"):
        import polars as pl

        n_open = stays.filter(~pl.col("observed")).height
        total = float(stays.filter(pl.col("observed"))["days"].sum())
        return stays.height, n_open, total
    observed = stays["observed"].to_numpy(dtype=bool)
    return len(stays), int((~observed).sum()), float(stays["days"].to_numpy()[observed].sum())


# ---------------------------------------------------------------------------------- worker
def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(engine: str, path: str, repeats: int, sink: bool = False) -> dict[str, Any]:
    """Time one engine in this process; returns medians and the checks.

    ``sink``: the engine writes its stays to a Parquet file beside the events instead of
    returning them (logs whose stays do not fit in memory as a DataFrame)."""
    import pandas as pd

    # each engine imports only what it needs before the baseline is taken
    if engine == "polars":
        import polars  # noqa: F401
    elif engine == "duckdb_sql":
        import duckdb  # noqa: F401
    elif engine == "pm4py":
        import pm4py  # noqa: F401
    else:
        import pekso_toolkit.stays.durations  # noqa: F401
    result: dict[str, Any] = {"engine": engine, "rss_after_imports_mb": round(_rss_mb())}
    frame = None
    if engine in ("time_in_stage_frame", "pm4py"):
        start = time.perf_counter()
        frame = pd.read_parquet(path)
        result["read_s"] = round(time.perf_counter() - start, 3)
    out = str(Path(path).with_name(f"stays-{engine}.parquet")) if sink else None
    run = {
        "duckdb_sql": lambda: run_duckdb_sql(path, out),
        "time_in_stage": lambda: run_time_in_stage(path, out),
        "polars": lambda: run_polars(path, out),
        "time_in_stage_frame": lambda: run_time_in_stage(frame),  # type: ignore[arg-type]
        "pm4py": lambda: run_pm4py(frame),
    }[engine]
    walls, cpus = [], []
    for _ in range(repeats):
        if out is not None:
            Path(out).unlink(missing_ok=True)
        start, start_cpu = time.perf_counter(), time.process_time()
        stays = run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    result["wall_s"] = statistics.median(walls)
    result["cpu_s"] = statistics.median(cpus)
    result["walls"] = [round(w, 3) for w in walls]
    if engine != "pm4py":
        result["stays"], result["open_stays"], result["days_finished"] = _counts(stays)
    if engine == "time_in_stage_frame" or (engine == "time_in_stage" and sink):
        from pekso_toolkit.stays.summary import stage_summary

        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            stage_summary(stays)
            times.append(time.perf_counter() - start)
        result["stage_summary_s"] = statistics.median(times)
    if out is not None:
        Path(out).unlink(missing_ok=True)
    return result


def run_engine(
    engine: str, path: str, repeats: int, sink: bool, python: str | None = None
) -> dict[str, Any] | None:
    """Run ``worker`` in a subprocess (of ``python``, default this interpreter); adds the
    child's own peak RSS (``ru_maxrss``)."""
    cmd = [python or sys.executable, __file__, "--worker", engine, "--parquet", path]
    cmd += ["--repeats", str(repeats)] + (["--sink"] if sink else [])
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read().strip().splitlines()[-3:]
            print(f"  {engine}: failed (exit {proc.returncode}): {' | '.join(tail)}")
            return None
        result: dict[str, Any] = json.loads(out.read().strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)  # Linux: kilobytes
    return result


# ---------------------------------------------------------------------------------- machine
def machine_info() -> dict[str, Any]:
    import duckdb
    import pandas
    import polars
    import pyarrow

    cpu = "unknown"
    ram_gb = float("nan")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram_gb, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
    }


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="numbers of cases, e.g. 1e5,1e6")
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine below 1M cases")
    parser.add_argument("--repeats-large", type=int, default=1, help="runs from 1M cases up")
    parser.add_argument("--engines", default=",".join(ENGINES), help="engines to run")
    parser.add_argument(
        "--sink-from",
        type=float,
        default=1e7,
        help="from this many cases every engine writes its stays to Parquet (not in memory)",
    )
    parser.add_argument(
        "--pm4py-python",
        help="a Python of a separate environment with pm4py, pandas and pyarrow installed "
        "(pm4py is AGPL: never installed with the toolkit); runs the pm4py engine there",
    )
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.parquet, args.repeats, args.sink)))
        return 0

    info = machine_info()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    print("(wall times grow with other work on the machine: see the load average and CPU times)")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "pm4py" in engines and args.pm4py_python:
        print(f"pm4py runs in {args.pm4py_python} (a separate environment)")
    elif "pm4py" in engines and importlib.util.find_spec("pm4py") is None:
        print(PM4PY_NOTE)
        engines.remove("pm4py")
    ok = True
    with tempfile.TemporaryDirectory(prefix="pekso-engines-") as folder:
        for size in [int(float(s)) for s in args.sizes.split(",")]:
            import pyarrow.parquet as pq

            start = time.perf_counter()
            table, truth = make_events(size)
            path = str(Path(folder) / f"events-{size}.parquet")
            pq.write_table(table, path, row_group_size=1_000_000)
            del table
            made = time.perf_counter() - start
            repeats = args.repeats_large if size >= 1_000_000 else args.repeats
            how = f"median of {repeats} runs" if repeats > 1 else "1 run"
            print(
                f"\n{size:,} cases, {truth['events']:,} events (shuffled), {truth['stays']:,} "
                f"stays ({truth['open_stays']:,} open, {truth['stays_with_repeat']:,} with a "
                f"repeated event); Parquet {Path(path).stat().st_size / 2**20:,.0f} MB made in "
                f"{made:.1f} s; {how}"
            )
            sink = size >= args.sink_from
            here = engines
            if sink:
                here = [e for e in engines if e not in ("time_in_stage_frame", "pm4py")]
                print(
                    "  every engine writes its stays to a Parquet file (they do not fit in "
                    "memory as a DataFrame); the engines that need the events in pandas "
                    "(time_in_stage_frame, pm4py) are left out"
                )
            results = {
                e: run_engine(e, path, repeats, sink, args.pm4py_python if e == "pm4py" else None)
                for e in here
            }
            base = results.get("duckdb_sql")
            print(
                f"  {'engine':22s} {'wall s':>8s} {'CPU s':>8s} {'vs SQL':>7s} "
                f"{'peak RSS':>9s} {'(after imports)':>15s} {'stays':>11s} {'open':>9s}"
            )
            for engine, res in results.items():
                if res is None:
                    ok = False
                    continue
                ratio = res["wall_s"] / base["wall_s"] if base else float("nan")
                stays = res.get("stays", "-")
                n_open = res.get("open_stays", "-")
                print(
                    f"  {engine:22s} {res['wall_s']:8.3f} {res['cpu_s']:8.3f} {ratio:6.2f}x "
                    f"{res['peak_rss_mb']:>6,} MB {res['rss_after_imports_mb']:>12,} MB "
                    f"{stays:>11,} {n_open:>9,}"
                    if engine != "pm4py"
                    else f"  {engine:22s} {res['wall_s']:8.3f} {res['cpu_s']:8.3f} "
                    f"{ratio:6.2f}x {res['peak_rss_mb']:>6,} MB "
                    f"{res['rss_after_imports_mb']:>12,} MB (performance DFG, not stays)"
                )
                if "stays" in res and (
                    res["stays"] != truth["stays"] or res["open_stays"] != truth["open_stays"]
                ):
                    ok = False
                    print(
                        f"  !! {engine} found {res['stays']:,} stays ({res['open_stays']:,} "
                        f"open); the events hold {truth['stays']:,} ({truth['open_stays']:,})"
                    )
            totals = {e: r["days_finished"] for e, r in results.items() if r and "stays" in r}
            if totals and max(totals.values()) - min(totals.values()) > 1e-6 * max(
                1.0, max(totals.values())
            ):
                ok = False
                print(f"  !! total days of the finished stays differ: {totals}")
            check = "same stays and open stays in every engine" if ok else "MISMATCH"
            print(f"  check: {check} (and the same total days of finished stays)")
            frame_res = results.get("time_in_stage_frame")
            if frame_res:
                print(
                    f"  pd.read_parquet of the events {frame_res['read_s']:.3f} s (not counted "
                    f"in time_in_stage_frame); stage_summary of the {truth['stays']:,} stays "
                    f"{frame_res['stage_summary_s']:.3f} s"
                )
            pm4py_res, tis_res = results.get("pm4py"), results.get("time_in_stage")
            if pm4py_res and tis_res:
                print(
                    f"  pm4py / time_in_stage: {pm4py_res['wall_s'] / tis_res['wall_s']:.1f}x "
                    f"wall, {pm4py_res['cpu_s'] / tis_res['cpu_s']:.1f}x CPU"
                )
            file_res = results.get("time_in_stage")
            if file_res and "stage_summary_s" in file_res:
                print(
                    f"  stage_summary of the stays file ({truth['stays']:,} stays, aggregated "
                    f"by the engine) {file_res['stage_summary_s']:.3f} s"
                )
            runs = "; ".join(f"{e} {r['walls']}" for e, r in results.items() if r)
            print(f"  runs (wall s): {runs}")
            print(f"  load average now: {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
