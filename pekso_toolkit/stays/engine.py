"""The stay engine: one DuckDB query turns events into stays (and moves between stages).

DuckDB is embedded (no server). The events are read from a pandas DataFrame, a DuckDB relation,
a Parquet dataset (a path or glob) or a table of a DuckDB database file; the query sorts each
case's events by time and the documented tie rank (see
:func:`pekso_toolkit.events.eventlog.tie_rank`), merges runs of the same stage, finds the next
run of each run (``lead``), numbers the visits and censors open stays at ``as_of``. The query
runs with a memory limit and a temporary directory, so logs larger than memory spill to disk
instead of failing.
"""

# The SQL is assembled from the stage model's ids, column names and a path, each quoted; no
# value typed by a user ends up in a query unquoted.
# ruff: noqa: S608
from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.stays.calendar import Holidays, calendar_table

__all__ = [
    "DATABASE_SUFFIXES",
    "DEFAULT_TABLE",
    "StayRows",
    "connect",
    "event_order",
    "event_relation",
    "is_database_file",
    "settings",
    "sql_name",
    "skipped_step",
    "sql_text",
    "stay_rows",
    "stays_query",
    "transition_counts",
    "working_days_ns",
]

#: Share of the machine's memory DuckDB may use before it spills to :data:`TEMP_DIRECTORY`.
MEMORY_SHARE = 0.5
#: Where DuckDB spills intermediate results when a query does not fit in memory.
TEMP_DIRECTORY = os.path.join(tempfile.gettempdir(), "pekso_duckdb")
#: A path ending so is a DuckDB database file (anything else is read as Parquet).
DATABASE_SUFFIXES = (".duckdb", ".db", ".ddb")
#: The table of events read from a DuckDB database file when no other is named.
DEFAULT_TABLE = "events"

_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


def _memory_limit() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return "4GB"
    return f"{max(256, int(total * MEMORY_SHARE) // 2**20)}MB"


def connect(
    *,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    progress: bool = False,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to disk beyond ``memory_limit``.

    Parameters
    ----------
    memory_limit : str, optional
        E.g. ``"2GB"`` (default: half of the machine's memory).
    temp_directory : str, optional
        Spill directory (default :data:`TEMP_DIRECTORY`).
    progress : bool
        Show DuckDB's progress bar for long queries.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit or _memory_limit(),
        "temp_directory": temp_directory or TEMP_DIRECTORY,
        "preserve_insertion_order": False,
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET TimeZone = 'UTC'")  # a TIMESTAMP cast to TIMESTAMPTZ is read in UTC
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
    return con


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The settings of a connection that decide how large a log it can take.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        E.g. from :func:`connect`.

    Returns
    -------
    dict
        ``memory_limit`` (text, as DuckDB shows it, e.g. ``"286.1 MiB"``),
        ``memory_limit_bytes`` (int, that figure in bytes, to within 0.05 of its unit),
        ``temp_directory`` (str, where it spills), ``enable_progress_bar`` (bool) and
        ``threads`` (int).
    """
    names = ("memory_limit", "temp_directory", "enable_progress_bar", "threads")
    row = con.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchall()
    values = dict(zip(names, row[0]))
    number, _, unit = str(values["memory_limit"]).partition(" ")
    try:
        limit = int(float(number) * _UNITS[unit or "bytes"])
    except (KeyError, ValueError):  # e.g. no limit
        limit = -1
    return {
        "memory_limit": str(values["memory_limit"]),
        "memory_limit_bytes": limit,
        "temp_directory": str(values["temp_directory"]),
        "enable_progress_bar": str(values["enable_progress_bar"]).lower() == "true",
        "threads": int(values["threads"]),
    }


def _is_source(log: Any) -> bool:
    return isinstance(log, (str, os.PathLike, duckdb.DuckDBPyRelation, pa.Table))


def is_database_file(source: Any) -> bool:
    """Whether ``source`` names a DuckDB database file (by its suffix, see
    :data:`DATABASE_SUFFIXES`) rather than Parquet."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    return os.fspath(source).lower().endswith(DATABASE_SUFFIXES)


def sql_name(name: str) -> str:
    """A column or table name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(text: str) -> str:
    """A text value quoted for SQL."""
    return "'" + text.replace("'", "''") + "'"


def _database_table(con: duckdb.DuckDBPyConnection, path: str, table: str) -> str:
    """Attach the database file read-only; the SQL name of its table (or view) ``table``."""
    if not os.path.exists(path):
        raise EventLogError(
            f"Berkas basis data {path} tidak ditemukan; periksa jalurnya.",
            f"The database file {path} was not found; check the path.",
            field="log",
        )
    quoted = path.replace("'", "''")
    try:
        con.execute(f"ATTACH '{quoted}' AS ev_db (READ_ONLY)")
    except duckdb.Error as exc:
        raise EventLogError(
            f"Berkas {path} tidak dapat dibuka sebagai basis data DuckDB ({exc}).",
            f"The file {path} could not be opened as a DuckDB database ({exc}).",
            field="log",
        ) from exc
    schema, _, name = table.rpartition(".")
    found = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'ev_db' "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = 'ev_db' AND NOT internal ORDER BY ALL"
    ).fetchall()
    for row_schema, row_name in found:
        if row_name == name and (schema or "main") == row_schema:
            return f"ev_db.{sql_name(row_schema)}.{sql_name(row_name)}"
    names = ", ".join(n if s == "main" else f"{s}.{n}" for s, n in found) or "-"
    raise EventLogError(
        f"Basis data {path} tidak punya tabel {table!r}; tabel yang ada: {names}. "
        f"Sebutkan tabel kejadiannya dengan table='...'.",
        f"The database {path} has no table {table!r}; its tables: {names}. "
        f"Name the table of events with table='...'.",
        field="table",
    )


def event_relation(
    con: duckdb.DuckDBPyConnection,
    source: Any,
    model: StageModel,
    *,
    tz: str,
    carried: Sequence[str] = (),
    table: str = DEFAULT_TABLE,
) -> list[str]:
    """Register the view ``ev_in`` (``case_id, code, ts, __row``, carried columns) over a
    Parquet path/glob, a table of a DuckDB database file, a DuckDB relation or an Arrow
    table; return the
    carried columns found (``carried=["*"]``: every column other than the three needed).

    ``code`` is the stage's position in the model, ``ts`` nanoseconds since the epoch (UTC; naive
    times are read in ``tz``). A relation (which may belong to another connection) is copied
    into a temporary table of ``con``, within its memory limit. Unknown or missing values raise
    :class:`EventLogError`.
    """
    if isinstance(source, duckdb.DuckDBPyRelation):
        reader = getattr(source, "to_arrow_reader", None) or source.fetch_record_batch
        con.register("ev_reader", reader())
        con.execute("CREATE OR REPLACE TEMP TABLE ev_src AS SELECT * FROM ev_reader")
        con.unregister("ev_reader")
        src = "ev_src"
    elif isinstance(source, pa.Table):  # read in place, not copied
        con.register("ev_arrow", source)
        src = "ev_arrow"
    elif is_database_file(source):
        src = _database_table(con, os.fspath(source), table)
    else:
        path = os.fspath(source).replace("'", "''")
        src = f"read_parquet('{path}')"
    try:
        described = con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        where = os.fspath(source)
        raise EventLogError(
            f"Berkas kejadian {where} tidak dapat dibaca sebagai Parquet ({exc}); periksa jalur "
            "atau pola berkasnya (mis. 'kejadian/*.parquet').",
            f"The event files {where} could not be read as Parquet ({exc}); check the path or "
            "pattern (e.g. 'events/*.parquet').",
            field="log",
        ) from exc
    types = {row[0]: str(row[1]) for row in described}
    missing = [c for c in ("case_id", "stage", "timestamp") if c not in types]
    if missing:
        raise EventLogError(
            f"Tabel kejadian tidak punya kolom {missing}; perlu case_id, stage dan timestamp.",
            f"The event table lacks column(s) {missing}; it needs case_id, stage and timestamp.",
            field=missing[0],
        )
    ts_type = types["timestamp"].upper()
    if "TIME ZONE" in ts_type or ts_type.startswith("TIMESTAMPTZ"):  # an instant: kept to the ns
        ts = "epoch_ns(timestamp)"
    else:
        # naive times (or text) are local times in tz: their nanoseconds minus tz's UTC offset
        # at that time (DuckDB's time zone functions work in microseconds)
        zone = tz.replace("'", "''")
        local = "CAST(timestamp AS TIMESTAMP_NS)"
        micro = f"CAST({local} AS TIMESTAMP)"
        offset_us = f"epoch_us({micro}) - epoch_us(timezone('{zone}', {micro}))"
        ts = f"epoch_ns({local}) - 1000 * ({offset_us})"
    ids = ", ".join("'" + s.replace("'", "''") + "'" for s in model.ids)
    every = "*" in carried
    extra = [
        c
        for c in (list(types) if every else carried)
        if c in types and c not in ("case_id", "stage", "timestamp")
    ]
    cols = "".join(f", {sql_name(c)}" for c in extra)
    con.sql(
        f"""CREATE OR REPLACE TEMP VIEW ev_in AS
        SELECT CAST(case_id AS VARCHAR) AS case_id,
               CAST(list_position([{ids}], CAST(stage AS VARCHAR)) - 1 AS SMALLINT) AS code,
               {ts} AS ts, 0::BIGINT AS __row{cols}
        FROM {src}"""
    )
    bad = con.execute(
        "SELECT count(*) FILTER (code IS NULL OR code < 0), count(*) FILTER (ts IS NULL), "
        "count(*) FILTER (case_id IS NULL) FROM ev_in"
    ).fetchall()[0]
    if any(bad):
        known = ", ".join(model.ids)
        raise EventLogError(
            f"{bad[0]} kejadian punya tahap di luar model tahap ({known}), {bad[1]} tanpa waktu "
            f"dan {bad[2]} tanpa nomor kasus; baca berkasnya dulu dengan pk.load_events(...) "
            "untuk melihat baris mana dan cara memperbaikinya.",
            f"{bad[0]} event(s) have a stage outside the stage model ({known}), {bad[1]} no "
            f"timestamp and {bad[2]} no case id; load the files with pk.load_events(...) first "
            "to see which rows and how to fix them.",
            field="stage" if bad[0] else ("timestamp" if bad[1] else "case_id"),
        )
    return extra


def _arrow_strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A pandas string column as Arrow strings (missing values null).

    A ``string[python]`` column is passed as its object array (``numpy.asarray`` of the array
    is a view, not a copy): pandas' own conversion first copies the array and looks for missing
    values, which takes as long again on millions of rows. Other columns (Arrow-backed,
    object) are converted by pyarrow.
    """
    values = series.array
    if isinstance(values, pd.arrays.StringArray):
        return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    return pa.array(values, type=pa.string(), from_pandas=True)


def register_frame(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, gaps: Sequence[str] = ()
) -> None:
    """Register the view ``ev_in`` over a canonical event frame (row numbers kept in ``__row``).

    For each column of ``gaps`` a flag ``__has_<i>`` says whether the row has a value.
    """
    columns: dict[str, Any] = {
        "case_id": _arrow_strings(frame["case_id"]),
        "code": frame["stage"].cat.codes.to_numpy().astype(np.int16),
        "ts": pd.DatetimeIndex(frame["timestamp"]).as_unit("ns").asi8,
        "__row": np.arange(len(frame), dtype=np.int64),
    }
    for i, col in enumerate(gaps):
        columns[f"__has_{i}"] = frame[col].notna().to_numpy(dtype=bool)
    con.register("ev_in", pa.table(columns))


def _tie_sql(model: StageModel) -> str:
    """SQL of the CTE ``ranked``: the events of ``ev`` with their rank ``tie`` among the events
    of their case at their time (:func:`pekso_toolkit.events.eventlog.tie_rank`, doubled to
    stay an integer). This is the one place the engine states the tie rule."""
    if model.reopened_id is None:
        return "SELECT *, 2 * code AS tie FROM ev"
    r = model.ids.index(model.reopened_id)
    alone = f"CASE WHEN code = {r} THEN -2 ELSE 2 * code END"  # a reopening ranks first
    if model.closed_id is None:
        return f"SELECT *, {alone} AS tie FROM ev"
    c, k = model.ids.index(model.closed_id), len(model.ids)
    # the documented tie rule: a reopening ranks first among equal times, unless a closure
    # shares its case and time: then closed, reopened, then the stage entered
    return f"""
        SELECT ev.*, CASE
            WHEN b.ts IS NULL THEN {alone}
            WHEN code = {r} THEN {2 * c + 1}
            WHEN code = {c} THEN {2 * c}
            ELSE 2 * ({k} + code) END AS tie
        FROM ev LEFT JOIN (
            SELECT case_id, ts FROM ev WHERE code = {r}
            INTERSECT SELECT case_id, ts FROM ev WHERE code = {c}
        ) AS b ON ev.case_id = b.case_id AND ev.ts = b.ts"""


def _ranked_sql(model: StageModel, as_of_ns: int | None) -> str:
    """``WITH ev AS (...), ranked AS (...)``: the events of ``ev_in`` up to ``as_of_ns`` (all
    when None) with their tie rank ``tie``; each case's events are in order by
    ``ts, tie, __row``."""
    keep = "" if as_of_ns is None else f"WHERE ts <= {int(as_of_ns)}"
    return f"""
    WITH ev AS (SELECT * FROM ev_in {keep}),
    ranked AS ({_tie_sql(model)})"""


def _runs_sql(model: StageModel, as_of_ns: int | None, fills: Sequence[str]) -> str:
    """CTEs ``runs``: one row per run of one stage (``is_start``), with the next run's stage
    and time; ``fills`` are window expressions over the case's events up to each event."""
    fill_cols = "".join(
        f", last_value({expr} IGNORE NULLS) OVER (w ROWS UNBOUNDED PRECEDING) AS __f{i}"
        for i, expr in enumerate(fills)
    )
    pick = "".join(
        f", CASE WHEN is_end THEN __f{i} ELSE lead(__f{i}) OVER v END AS __f{i}"
        for i in range(len(fills))
    )
    return (
        _ranked_sql(model, as_of_ns)
        + f""",
    marked AS (
        SELECT *, lag(code) OVER w AS prev_code, lead(code) OVER w AS after_code,
               lead(ts) OVER w AS after_ts{fill_cols}
        FROM ranked
        WINDOW w AS (PARTITION BY case_id ORDER BY ts, tie, __row)
    ),
    bounds AS (
        SELECT *, prev_code IS DISTINCT FROM code AS is_start,
               after_code IS DISTINCT FROM code AS is_end
        FROM marked
        WHERE prev_code IS DISTINCT FROM code OR after_code IS DISTINCT FROM code
    ),
    runs AS (
        SELECT case_id, code, ts, tie, __row, is_start,
               CASE WHEN is_end THEN after_code ELSE lead(after_code) OVER v END AS next_code,
               CASE WHEN is_end THEN after_ts ELSE lead(after_ts) OVER v END AS next_ts,
               CASE WHEN is_end THEN __row ELSE lead(__row) OVER v END AS last_row{pick}
        FROM bounds
        WINDOW v AS (PARTITION BY case_id ORDER BY ts, tie, __row)
    )"""
    )


@dataclass(frozen=True)
class StayRows:
    """The stays as columns of numbers, in (case, entry time) order."""

    case_id: pa.ChunkedArray
    stage: np.ndarray  # stage codes
    visit: np.ndarray
    entered: np.ndarray  # int64 ns UTC
    left: np.ndarray  # int64 ns UTC; as_of while open
    days: np.ndarray  # float: calendar or working days from entered to left
    next_stage: np.ndarray  # stage code, -1 while open
    observed: np.ndarray
    first_row: np.ndarray  # the stay's first event (row of the input; 0 for a file)
    last_row: np.ndarray  # the stay's last event
    fills: list[Any]  # one array per fill expression (values, or rows with -1 for none)


_NS_PER_DAY = 86_400 * 10**9


def _local_ns(column: str, zone: str) -> str:
    """SQL: the local wall-clock time in ``zone`` of a UTC instant (int64 ns), as int64 ns."""
    zone = zone.replace("'", "''")
    utc = f"(make_timestamp({column} // 1000) AT TIME ZONE 'UTC')"
    return f"(epoch_us(timezone('{zone}', {utc})) * 1000 + {column} % 1000)"


def register_calendar(
    con: duckdb.DuckDBPyConnection, first_ns: int, last_ns: int, holidays: Holidays, zone: str
) -> None:
    """Register the table ``cal`` (:func:`pekso_toolkit.stays.calendar.calendar_table`) over the
    local dates of the instants ``first_ns`` to ``last_ns`` (UTC ns) in ``zone``."""
    bounds = con.execute(
        f"SELECT {_local_ns('a', zone)} // {_NS_PER_DAY}, {_local_ns('b', zone)} // {_NS_PER_DAY}"
        f" FROM (SELECT {int(first_ns)}::BIGINT AS a, {int(last_ns)}::BIGINT AS b)"
    ).fetchall()[0]
    con.register("cal", calendar_table(int(bounds[0]), int(bounds[1]), holidays))


def _days_sql(days: str, zone: str) -> tuple[str, str]:
    """SQL for the days of a stay from ``entered`` to ``left_ns`` (UTC ns): the expression and
    the joins it needs (to the calendar ``cal`` for working days).

    Working days: W(start date) x (part of the start date after the start) + W(end date) x
    (part of the end date before the end) + the working dates strictly between the two dates,
    where W is 1 on a working day; on one date this leaves the working part between the two.
    """
    if days == "calendar":
        return f"CAST(left_ns - entered AS DOUBLE) / {_NS_PER_DAY}", ""
    head, tail = _local_ns("entered", zone), _local_ns("left_ns", zone)
    day = _NS_PER_DAY
    expr = (
        f"CAST(c0.working * ({day} - {head} % {day}) + c1.working * ({tail} % {day}) AS DOUBLE)"
        f" / {day} + CAST(c1.before - c0.through AS DOUBLE)"
    )
    joins = (
        f" JOIN cal AS c0 ON c0.day = {head} // {day} JOIN cal AS c1 ON c1.day = {tail} // {day}"
    )
    return expr, joins


def stays_query(
    con: duckdb.DuckDBPyConnection,
    model: StageModel,
    as_of_ns: int,
    fills: Sequence[str] = (),
    *,
    days: str = "calendar",
    holidays: Holidays = "ID",
    zone: str = "UTC",
    visits: bool = True,
) -> str:
    """SQL of the stays of the events in the view ``ev_in``, open stays censored at
    ``as_of_ns``: ``case_id, code, visit, entered, left_ns, next_code, observed, first_row,
    last_row, tie`` (the tie rank of the first event), ``__f0...`` (the fills), ``days``; in no
    particular order.

    For working days the calendar ``cal`` is registered on ``con`` first (from the earliest
    event to ``as_of``). ``visits=False`` leaves ``visit`` NULL (one sort fewer, for a caller
    that numbers the visits of the ordered stays itself: :func:`number_visits`).
    """
    helping = ", ".join(str(i) for i, s in enumerate(model.stages) if s.kind == "stage")
    fill_out = "".join(f", __f{i}" for i in range(len(fills)))
    if days == "working":
        first = con.execute(f"SELECT min(ts) FROM ev_in WHERE ts <= {int(as_of_ns)}").fetchall()
        register_calendar(con, first[0][0] or int(as_of_ns), int(as_of_ns), holidays, zone)
    expr, joins = _days_sql(days, zone)
    visit = (
        "row_number() OVER (PARTITION BY case_id, code ORDER BY ts, tie, __row)"
        if visits
        else "NULL::BIGINT"
    )
    return (
        _runs_sql(model, as_of_ns, fills)
        + f""",
    stays AS (
        SELECT case_id, code,
               {visit} AS visit,
               ts AS entered, coalesce(next_ts, {int(as_of_ns)}) AS left_ns,
               coalesce(next_code, -1)::SMALLINT AS next_code, next_code IS NOT NULL AS observed,
               __row AS first_row, last_row, tie{fill_out}
        FROM runs
        WHERE is_start AND code IN ({helping})
    )
    SELECT stays.*, {expr} AS days
    FROM stays{joins}"""
    )


def stay_rows(
    con: duckdb.DuckDBPyConnection,
    model: StageModel,
    as_of_ns: int,
    fills: Sequence[str] = (),
    *,
    days: str = "calendar",
    holidays: Holidays = "ID",
    zone: str = "UTC",
) -> StayRows:
    """Stays of the events in the view ``ev_in``, open stays censored at ``as_of_ns``, in
    (case, entry time) order."""
    query = stays_query(
        con, model, as_of_ns, fills, days=days, holidays=holidays, zone=zone, visits=False
    )
    sql = f"SELECT * FROM ({query}) ORDER BY case_id, entered, tie, first_row"
    table = _fetch(con, sql)
    stage = table.column("code").to_numpy().astype(np.int16, copy=False)

    def num(name: str, dtype: Any) -> np.ndarray:
        return table.column(name).to_numpy().astype(dtype, copy=False)

    return StayRows(
        case_id=table.column("case_id"),
        stage=stage,
        visit=number_visits(table.column("case_id"), stage),
        entered=num("entered", np.int64),
        left=num("left_ns", np.int64),
        days=num("days", float),
        next_stage=num("next_code", np.int16),
        observed=num("observed", bool),
        first_row=num("first_row", np.int64),
        last_row=num("last_row", np.int64),
        fills=[table.column(f"__f{i}") for i in range(len(fills))],
    )


def _case_starts(case_id: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """For rows grouped by case: True where a case's first row is (the id changes)."""
    ids = case_id.combine_chunks() if isinstance(case_id, pa.ChunkedArray) else case_id
    starts = np.ones(len(ids), dtype=bool)
    if len(ids) > 1:
        changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
        starts[1:] = changed.to_numpy(zero_copy_only=False)
    return starts


def number_visits(case_id: pa.ChunkedArray | pa.Array, stage: np.ndarray) -> np.ndarray:
    """The visit number of each stay (1 for the case's first stay in its stage, 2 for the next
    one, ...) of stays in (case, entry) order.

    The stays are put in (case, stage) order by a stable sort of one integer key, which keeps
    entry order within each stage; a stay's visit is its place in its (case, stage) group. The
    key is already in case order, so the sort has little to do.
    """
    n = len(stage)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new_case = _case_starts(case_id)
    width = int(stage.max()) + 1
    key = np.cumsum(new_case, dtype=np.int64) * width + stage
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    start = np.ones(n, dtype=bool)
    start[1:] = ranked[1:] != ranked[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    visit = np.empty(n, dtype=np.int64)
    visit[order] = np.arange(n) - first + 1
    return visit


def working_days_ns(
    start_ns: np.ndarray, end_ns: np.ndarray, holidays: Holidays, zone: str
) -> np.ndarray:
    """Working days between UTC instants (int64 ns arrays, ``start <= end``), fractions kept,
    computed by the engine with the calendar table (see :func:`_days_sql`)."""
    if len(start_ns) == 0:
        return np.zeros(0, dtype=float)
    con = connect()
    try:
        pairs = pa.table(
            {
                "i": np.arange(len(start_ns), dtype=np.int64),
                "entered": np.asarray(start_ns, dtype=np.int64),
                "left_ns": np.asarray(end_ns, dtype=np.int64),
            }
        )
        con.register("pairs", pairs)
        register_calendar(con, int(np.min(start_ns)), int(np.max(end_ns)), holidays, zone)
        expr, joins = _days_sql("working", zone)
        sql = f"SELECT i, {expr} AS days FROM pairs{joins} ORDER BY i"
        return con.sql(sql).fetchnumpy()["days"].astype(float)
    finally:
        con.close()


def transition_counts(
    con: duckdb.DuckDBPyConnection, model: StageModel, as_of_ns: int | None
) -> pd.DataFrame:
    """Moves between runs of the events in ``ev_in``: ``src, dst, n, n_cases`` (stage codes)."""
    sql = (
        _runs_sql(model, as_of_ns, ())
        + """
    SELECT code AS src, next_code AS dst, count(*) AS n, count(DISTINCT case_id) AS n_cases
    FROM runs WHERE is_start AND next_code IS NOT NULL
    GROUP BY ALL ORDER BY src, dst"""
    )
    return con.sql(sql).df()


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table = con.sql(sql).arrow()
    if isinstance(table, pa.RecordBatchReader):  # pragma: no cover - duckdb versions differ
        table = table.read_all()
    return table


def event_order(
    con: duckdb.DuckDBPyConnection, model: StageModel, as_of_ns: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The order in which the analyses read the events of the view ``ev_in``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection with the view ``ev_in`` (e.g. from :func:`register_frame`).
    model : StageModel
        The stage model whose codes ``ev_in`` holds (it decides the tie rank).
    as_of_ns : int or None
        Events after this instant (UTC ns) are left out; None keeps all.

    Returns
    -------
    rows : numpy.ndarray of int64
        ``__row`` of the events kept, in order by case id, time, the documented tie rank
        (:func:`pekso_toolkit.events.eventlog.tie_rank`) and ``__row``.
    case_code : numpy.ndarray of int64
        For each of those events, its case's number: 0, 1, ... in case id order.
    """
    order = " SELECT __row, case_id FROM ranked ORDER BY case_id, ts, tie, __row"
    sql = _ranked_sql(model, as_of_ns) + order
    table = _fetch(con, sql)
    rows = table.column("__row").to_numpy().astype(np.int64, copy=False)
    case_code = np.cumsum(_case_starts(table.column("case_id")), dtype=np.int64) - 1
    return rows, case_code


def skipped_step(
    con: duckdb.DuckDBPyConnection,
    model: StageModel,
    as_of_ns: int | None,
    *,
    step: int,
    entry: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cases of ``ev_in`` that entered stage ``entry`` without stage ``step`` before it.

    Each case's events up to ``as_of_ns`` are read in the order of :func:`event_order`; an
    episode starts at the case's first event and at each reopening. A case is *skipped* when,
    in any episode, its first ``entry`` event had no ``step`` event before it (or at it, when
    ``step == entry``) in that episode.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection with the view ``ev_in``.
    model : StageModel
        The stage model (it decides the tie rank and which state reopens a case).
    as_of_ns : int or None
        Events after this instant (UTC ns) are left out; None keeps all.
    step, entry : int
        Stage codes of the step that must come first and of the stage entered.

    Returns
    -------
    first_row : numpy.ndarray of int64
        For each case with an ``entry`` event up to ``as_of_ns``, in case id order: ``__row``
        of its first event.
    skipped : numpy.ndarray of bool
        Whether that case skipped ``step`` in some episode.
    """
    reopen = -1 if model.reopened_id is None else model.ids.index(model.reopened_id)
    step, entry = int(step), int(entry)
    # only reopenings, steps and entries are numbered (the tie rank still sees every event)
    sql = (
        _ranked_sql(model, as_of_ns)
        + f""",
    numbered AS (
        SELECT case_id, code, row_number() OVER w AS pos,
               count(*) FILTER (code = {reopen}) OVER w AS episode
        FROM ranked
        WHERE code IN ({reopen}, {step}, {entry})
        WINDOW w AS (PARTITION BY case_id ORDER BY ts, tie, __row ROWS UNBOUNDED PRECEDING)
    ),
    episodes AS (
        SELECT case_id, min(pos) FILTER (code = {entry}) AS entered,
               min(pos) FILTER (code = {step}) AS stepped
        FROM numbered
        GROUP BY case_id, episode
    ),
    per_case AS (
        SELECT case_id,
               NOT bool_and(coalesce(stepped <= entered, false)) FILTER (entered IS NOT NULL)
                   AS skipped
        FROM episodes
        GROUP BY case_id
        HAVING count(entered) > 0
    ),
    firsts AS (
        SELECT case_id, arg_min(__row, {{'ts': ts, 'tie': tie, 'row': __row}}) AS first_row
        FROM ranked
        GROUP BY case_id
    )
    SELECT first_row, skipped FROM per_case JOIN firsts USING (case_id) ORDER BY case_id"""
    )
    table = _fetch(con, sql)
    first_row = table.column("first_row").to_numpy().astype(np.int64, copy=False)
    skipped = table.column("skipped").to_numpy().astype(bool, copy=False)
    return first_row, skipped
