"""Time in stage: one row per stay, with open stays right-censored at ``as_of``.

A *stay* is an uninterrupted period a case spends in one helping stage. It starts at the first
event that puts the case in that stage and ends when the case enters any other stage or state
(another helping stage, ``ditutup`` or ``dibuka_kembali``). Consecutive events of the same stage
merge into one stay. A stay that has not ended by ``as_of`` is *open*: its duration runs to
``as_of`` and it is marked ``observed=False`` (right-censored). Open stays must be analysed as
censored (Kaplan–Meier, see :func:`pekso_toolkit.stays.summary.stage_summary`), never dropped.

Durations are counted in calendar days or in working days (Mon–Fri minus Indonesian public
holidays, measured in the local time of the log's time zone (``tz``, by default Asia/Jakarta),
with fractions of days kept).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload

import duckdb
import numpy as np
import pandas as pd

from pekso_toolkit.core import times
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import AnalysisError, EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import canonical_ids_and_times, with_columns
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.calendar import Holidays
from pekso_toolkit.stays.engine import (
    DEFAULT_TABLE,
    _is_source,
    connect,
    event_order,
    event_relation,
    register_frame,
    settings,
    sql_name,
    sql_text,
    stay_rows,
    stays_query,
    working_days_ns,
)
from pekso_toolkit.stays.stayfile import METADATA_KEY, encode_attrs, read_stays

__all__ = [
    "DEFAULT_TZ",
    "STAY_COLUMNS",
    "read_stays",
    "time_in_stage",
    "to_utc",
    "working_days",
]

#: Time zone in which naive dates and times are read and working days are counted.

#: The columns every stays table starts with (carried case columns follow).
STAY_COLUMNS = (
    "case_id",
    "stage",
    "visit",
    "entered_at",
    "left_at",
    "next_stage",
    "days",
    "observed",
)

_NS_PER_DAY = 86_400 * 10**9
_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_CORE = ("case_id", "stage", "timestamp")

DayCount = Literal["calendar", "working"]


# ---------------------------------------------------------------------------------- inputs
def to_utc(when: Any, *, tz: str = DEFAULT_TZ) -> pd.Timestamp:
    """Read a date or time as a UTC timestamp; naive values are read in ``tz`` (Asia/Jakarta).

    ``"2024-06-30"`` means 2024-06-30 00:00 local time.

    >>> to_utc("2024-06-30")
    Timestamp('2024-06-29 17:00:00+0000', tz='UTC')
    """
    return times.to_utc(when, tz=tz, field="as_of")


def events_and_model(
    log: Any, model: StageModel | None = None, *, tz: str = DEFAULT_TZ
) -> tuple[pd.DataFrame, StageModel]:
    """The canonical event frame and stage model of an ``EventLog`` or a canonical DataFrame.

    A DataFrame needs the columns ``case_id``, ``stage`` and ``timestamp``; ``stage`` values must
    be ids of ``model`` (default :meth:`StageModel.default`). Naive timestamps are read in
    Asia/Jakarta. Rows need not be sorted.
    """
    if isinstance(log, pd.DataFrame):
        frame = log
        model = model or StageModel.default()
    elif hasattr(log, "events") and hasattr(log, "model"):
        frame = log.events
        model = model or log.model
    else:
        raise TypeError(
            f"expected an EventLog or a DataFrame of events, not {type(log).__name__}; "
            "load a file with pk.load_events(...)"
        )
    missing = [c for c in _CORE if c not in frame.columns]
    if missing:
        raise EventLogError(
            f"tabel kejadian tidak punya kolom {missing}; perlu case_id, stage dan timestamp "
            "(baca ekspor dengan pk.load_events(..., case=, stage=, timestamp=))",
            f"the event table lacks column(s) {missing}; it needs case_id, stage and timestamp "
            "(load exports with pk.load_events(..., case=, stage=, timestamp=))",
        )
    dtype = model.dtype
    stage = frame["stage"]
    if not (isinstance(stage.dtype, pd.CategoricalDtype) and stage.dtype == dtype):
        coded = stage.astype(dtype)  # text read straight into the model's categories
        missing = coded.isna().to_numpy()  # unknown or missing stages (cheap: codes of -1)
        if missing.any():  # e.g. numbers: compare them as text before refusing
            coded = stage.astype("string").astype(dtype)
            missing = coded.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise EventLogError(
                f"baris {row}: tahap {stage.iloc[row]!r} tidak ada di model tahapan; tahap yang "
                f"dikenal: {', '.join(model.ids)} (petakan nama lain dengan "
                "load_events(..., stage_map=...))",
                f"row {row}: stage {stage.iloc[row]!r} is not in the stage model; known stages: "
                f"{', '.join(model.ids)} (map other names with load_events(..., stage_map=...))",
                field="stage",
            )
        frame = with_columns(frame, stage=coded)
    frame = canonical_ids_and_times(frame, tz)
    if frame["timestamp"].isna().any():
        row = int(np.flatnonzero(frame["timestamp"].isna().to_numpy())[0])
        raise EventLogError(
            f"baris {row}: waktu kosong; setiap kejadian perlu waktu",
            f"row {row}: the timestamp is missing; every event needs a time",
            field="timestamp",
        )
    return frame, model


def _carry_error(unknown: list[str]) -> EventLogError:
    return EventLogError(
        f"carry: kolom {unknown} tidak ada di tabel kejadian",
        f"carry: column(s) {unknown} are not in the event table",
        field="carry",
    )


def _ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of a tz-aware datetime Series."""
    return np.asarray(series.dt.as_unit("ns").array.asi8)


# ---------------------------------------------------------------------------------- working days
def working_days(
    start: Any,
    end: Any,
    *,
    holidays: Holidays = "ID",
    tz: str = DEFAULT_TZ,
) -> np.ndarray:
    """Working days between two instants (or arrays of instants), fractions kept.

    Weekends and public holidays count zero; a working day counts the part of it that lies between
    ``start`` and ``end`` in ``tz`` local time. Friday 15:00 to Monday 09:00 is
    9/24 + 9/24 = 0.75 working days.

    Parameters
    ----------
    start, end : date-like or array-like of date-likes
        Instants; naive values are read in ``tz``.
    holidays : "ID", other country code, list of dates, or None
        ``"ID"`` uses the Indonesian public holidays of the ``holidays`` package; a list gives the
        holidays yourself; None counts weekends only.
    tz : str
        Time zone in which days begin and end (default Asia/Jakarta).

    Returns
    -------
    numpy.ndarray of float
        Working days, one per pair (negative when ``end`` is before ``start``).
    """
    s = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(np.asarray(start, dtype=object))))
    e = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(np.asarray(end, dtype=object))))
    s = s.tz_localize(tz) if s.tz is None else s
    e = e.tz_localize(tz) if e.tz is None else e
    s_ns = np.asarray(s.tz_convert("UTC").as_unit("ns").asi8)
    e_ns = np.asarray(e.tz_convert("UTC").as_unit("ns").asi8)
    s_ns, e_ns = np.broadcast_arrays(s_ns, e_ns)
    swap = e_ns < s_ns
    lo = np.where(swap, e_ns, s_ns)
    hi = np.where(swap, s_ns, e_ns)
    out = working_days_ns(lo, hi, holidays, tz)
    return np.where(swap, -out, out)


# ---------------------------------------------------------------------------------- stays
class SortedEvents(NamedTuple):
    """Events up to ``as_of`` in (case, time, stage order) order, as arrays."""

    n: int
    rows: np.ndarray  # positions in the input frame
    ts: np.ndarray  # int64 ns, UTC
    stage: np.ndarray  # stage codes of the model
    case_code: np.ndarray  # 0, 1, ... in case_id order


def sorted_events(frame: pd.DataFrame, as_of_ns: int | None, model: StageModel) -> SortedEvents:
    """Sort canonical events (ignoring those after ``as_of_ns``) by case, time and the
    documented tie rule (:func:`pekso_toolkit.events.eventlog.tie_rank`), rows in any order.

    The order is the stay engine's (:func:`pekso_toolkit.stays.engine.event_order`), so every
    analysis reads the events as :func:`time_in_stage` does.
    """
    con = connect()
    try:
        register_frame(con, frame)
        rows, case_code = event_order(con, model, as_of_ns)
    finally:
        con.close()
    ts = _ns(frame["timestamp"])[rows]
    stage = frame["stage"].cat.codes.to_numpy()[rows].astype(np.int64)
    return SortedEvents(len(rows), rows, ts, stage, case_code)


def case_states(log: Any, *, as_of: Any, tz: str | None = None) -> pd.DataFrame:
    """The state of every case after its last event up to ``as_of`` (its stage, or a state).

    Events are read in the order of :func:`time_in_stage` (case, time, the documented tie rule),
    so the state here is the one after which :func:`time_in_stage` has (or has not) an open stay.
    This gives no durations: the time a case has spent in a stage is the ``days`` of its open
    stay in :func:`time_in_stage`.

    Parameters
    ----------
    log : EventLog or DataFrame
        Canonical events (``case_id``, ``stage``, ``timestamp``), rows in any order.
    as_of : date-like
        Events after this moment are ignored (naive values are read in ``tz``).
    tz : str, optional
        Time zone of naive values (default: the log's, else ``DEFAULT_TZ``).

    Returns
    -------
    pandas.DataFrame
        One row per case with an event up to ``as_of``, in case order: ``case_id`` (string),
        ``stage`` (string: the stage or state id of its last event, e.g. ``ditutup`` or
        ``dibuka_kembali``), ``at`` (UTC: the time of that event).
    """
    zone = _log_tz(log, tz)
    frame, model = events_and_model(log, tz=zone)
    as_of_ns = int(to_utc(as_of, tz=zone).value)
    ev = sorted_events(frame, as_of_ns, model)
    last = np.r_[ev.case_code[1:] != ev.case_code[:-1], True] if ev.n else np.zeros(0, bool)
    ids = np.asarray(model.ids, dtype=object)
    return pd.DataFrame(
        {
            "case_id": frame["case_id"].array.take(ev.rows[last]).astype("string"),
            "stage": pd.array(ids[ev.stage[last]], dtype="string"),
            "at": _utc_datetimes(ev.ts[last]),
        }
    )


def _utc_datetimes(ns: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """UTC datetimes over int64 nanoseconds (NaT = int64 min)."""
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").array


def _log_tz(log: Any, tz: str | None) -> str:
    """The time zone of an analysis: given, else the log's own, else ``DEFAULT_TZ``."""
    if tz is not None:
        return tz
    own = getattr(log, "tz", None)
    return own if isinstance(own, str) else DEFAULT_TZ


def _is_dask(log: Any) -> bool:
    return type(log).__module__.split(".")[0] in ("dask", "dask_expr")


@overload
def time_in_stage(
    log: Any,
    *,
    as_of: Any = None,
    days: DayCount = "calendar",
    holidays: Holidays = "ID",
    model: StageModel | None = None,
    carry: Sequence[str] | None = None,
    tz: str | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    progress: bool = False,
    table: str = DEFAULT_TABLE,
    to: None = None,
    overwrite: bool = False,
) -> pd.DataFrame: ...


@overload
def time_in_stage(
    log: Any,
    *,
    as_of: Any = None,
    days: DayCount = "calendar",
    holidays: Holidays = "ID",
    model: StageModel | None = None,
    carry: Sequence[str] | None = None,
    tz: str | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    progress: bool = False,
    table: str = DEFAULT_TABLE,
    to: str | os.PathLike[str],
    overwrite: bool = False,
) -> Path: ...


def time_in_stage(
    log: Any,
    *,
    as_of: Any = None,
    days: DayCount = "calendar",
    holidays: Holidays = "ID",
    model: StageModel | None = None,
    carry: Sequence[str] | None = None,
    tz: str | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    progress: bool = False,
    table: str = DEFAULT_TABLE,
    to: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> pd.DataFrame | Path:
    """One row per stay of a case in a helping stage, open stays censored at ``as_of``.

    Rules
    -----
    * Events after ``as_of`` are ignored: the table is what was known at ``as_of``.
    * A stay starts at the first event of a run of events in the same stage and ends when the case
      enters a different stage or state. Repeated events of the same stage merge into one stay.
    * ``ditutup`` (closed) ends the stay before it; no stay is produced for the closed state.
    * ``dibuka_kembali`` (reopened) is a momentary marker: it produces no stay, and the time from
      the reopening to the next stage event is not counted in any stage. A reopened case with no
      stage event yet by ``as_of`` has no open stay.
    * A case whose last event (up to ``as_of``) is a helping stage has an open stay: ``left_at``
      and ``next_stage`` are missing, ``days`` runs to ``as_of`` and ``observed`` is False.
    * Rows are read in (case, timestamp, stage order) order, so events with the same timestamp
      (date-only exports) never make up backward moves.

    Parameters
    ----------
    log : EventLog, DataFrame, Parquet path/glob, DuckDB file/relation, Arrow table, dask frame
        An event log, or canonical events (``case_id``, ``stage``, ``timestamp`` plus any
        other columns; rows in any order): a DataFrame, a Parquet file or dataset
        (``"events/*.parquet"``, read by DuckDB without loading it into pandas), a DuckDB
        database file (a path ending ``.duckdb``, ``.db`` or ``.ddb``; its table ``table`` is
        read, the file is opened read-only), a DuckDB relation (e.g.
        ``duckdb.read_parquet(...)``, or a query; copied into the analysis connection within
        its memory limit), a ``pyarrow.Table`` (read in place), or a dask DataFrame (see
        :func:`time_in_stage_dask`; the result is the same).
    as_of : str, date, datetime or Timestamp
        The analysis date. Naive values are read in ``tz`` (by default the log's time zone,
        Asia/Jakarta unless loaded otherwise); ``"2024-06-30"`` means 2024-06-30 00:00 there,
        and events at exactly that instant are included.
    days : {"calendar", "working"}
        Unit of ``days``: calendar days, or working days (weekdays that are not public holidays,
        counted on the local calendar of ``tz``, fractions of days kept): a stay ending Friday
        16:00 UTC ends on Friday in Asia/Jakarta but on Saturday in Asia/Jayapura.
    holidays : "ID", list of dates or None
        Holidays for working days: the Indonesian calendar of the ``holidays`` package (default),
        your own list of dates, or None for weekends only.
    model : StageModel, optional
        Stage model of a DataFrame input (default :meth:`StageModel.default`); an EventLog
        brings its own.
    carry : list of str, optional
        Other event columns to carry onto the stays (default: every other column).
    tz : str, optional
        Time zone of naive ``as_of`` and times and of working days (default: the log's ``tz``,
        else ``DEFAULT_TZ``).
    memory_limit : str, optional
        Memory DuckDB may use before spilling to disk, e.g. ``"2GB"`` (default: half the RAM).
        Too small a limit for even the spilled query raises :class:`AnalysisError`.
    temp_directory : str, optional
        Folder DuckDB spills to beyond ``memory_limit`` (default
        :data:`pekso_toolkit.stays.engine.TEMP_DIRECTORY`); put it on a disk with room for
        about the size of the events.
    progress : bool
        Show DuckDB's progress bar (useful for large Parquet datasets).
    table : str
        The table (or view, ``"schema.name"`` outside ``main``) of events in a DuckDB database
        file (default ``"events"``); ignored for other inputs.
    to : str or path-like, optional
        Write the stays to this Parquet file instead of returning them, and return its path.
        From a Parquet dataset or a DuckDB file the stays go from the engine to the file
        without passing through pandas, so logs larger than memory work (with
        ``memory_limit`` and ``progress=True``); the rows are in no particular order. Read the
        file back with :func:`read_stays`, or pass the path to
        :func:`~pekso_toolkit.stays.summary.stage_summary`, which aggregates it in the engine.
        The file is written beside the target first and moved into place when complete.
    overwrite : bool
        Replace an existing ``to`` file (default False: an existing file is an error, so
        earlier results are never lost).

    Returns
    -------
    pandas.DataFrame
        One row per stay, ordered by case and entry time:

        ``case_id`` (string), ``stage`` (ordered categorical of the model's ids),
        ``visit`` (int: 1 for the case's first stay in that stage, 2 after rework, ...),
        ``entered_at`` and ``left_at`` (datetime, UTC; ``left_at`` is NaT while open),
        ``next_stage`` (categorical; the stage or state entered next, NA while open),
        ``days`` (float; calendar or working days from ``entered_at`` to ``left_at``, or to
        ``as_of`` while open), ``observed`` (bool; False = still open at ``as_of``,
        right-censored), then the carried columns. A carried column holds the case's last
        non-missing value recorded at or before the stay's last event (so a case handed to another
        worker during a stay is counted with the worker who held it at its end, or holds it now).

        ``attrs`` records ``as_of`` (UTC Timestamp), ``days`` (unit), ``tz``, ``stages`` (helping
        stage ids in order), ``targets`` and ``target_unit`` of the model.

        With ``to=``: the path of the written file (:class:`pathlib.Path`) instead; the file
        holds the same columns (stage ids as text, times in UTC) and the ``attrs`` in its
        metadata.
    """
    if days not in ("calendar", "working"):
        raise ValueError(f"days must be 'calendar' or 'working', not {days!r}")
    zone = _log_tz(log, tz)
    as_of_ts = to_utc(recorded_as_of(log, as_of), tz=zone)
    target = None if to is None else _output_path(to, overwrite=overwrite)
    if _is_dask(log):
        stays = time_in_stage_dask(
            log,
            as_of=as_of_ts,
            days=days,
            holidays=holidays,
            model=model,
            carry=carry,
            tz=zone,
            memory_limit=memory_limit,
            temp_directory=temp_directory,
        )
    else:
        con = connect(memory_limit=memory_limit, temp_directory=temp_directory, progress=progress)
        try:
            if target is not None and _is_source(log):
                model = model or StageModel.default()
                carried = _source_columns(con, log, model, carry, zone, table)
                fills = [sql_name(c) for c in carried]
                query = stays_query(
                    con, model, as_of_ts.value, fills, days=days, holidays=holidays, zone=zone
                )
                attrs = _stays_attrs(as_of_ts, days, zone, model)
                select = _file_select(query, model, carried)
                return _copy_to_parquet(con, select, attrs, model, target)
            stays = _stays_in_memory(con, log, as_of_ts, days, holidays, model, carry, zone, table)
        except duckdb.OutOfMemoryException as exc:
            raise _memory_error(con, memory_limit, exc) from exc
        finally:
            con.close()
    if target is None:
        return stays
    con = connect(memory_limit=memory_limit, temp_directory=temp_directory, progress=progress)
    try:
        con.register("stays_in", stays)
        model = model or getattr(log, "model", None) or StageModel.default()
        return _copy_to_parquet(con, "SELECT * FROM stays_in", stays.attrs, model, target)
    finally:
        con.close()


def _output_path(to: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """The file ``to`` as a Path; refuse an existing one unless ``overwrite``."""
    target = Path(to)
    if target.exists() and not overwrite:
        raise AnalysisError(
            f"Berkas {target} sudah ada dan tidak ditimpa; pilih nama lain atau tulis "
            "overwrite=True bila hasil lama memang boleh diganti.",
            f"The file {target} already exists and is not overwritten; choose another name, or "
            "pass overwrite=True if the earlier results may be replaced.",
            field="to",
        )
    if not target.parent.is_dir():
        raise AnalysisError(
            f"Folder {target.parent} untuk berkas hasil tidak ada; buat dulu foldernya.",
            f"The folder {target.parent} of the output file does not exist; create it first.",
            field="to",
        )
    return target


def _stays_attrs(as_of: pd.Timestamp, days: str, zone: str, model: StageModel) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "days": days,
        "tz": zone,
        "stages": [s.id for s in model.helping_stages],
        "targets": dict(model.targets),
        "target_unit": model.target_unit,
    }


def _file_select(query: str, model: StageModel, carried: Sequence[str]) -> str:
    """The stays of ``query`` in the columns of :func:`time_in_stage` (stage ids as text)."""
    ids = "[" + ", ".join(sql_text(i) for i in model.ids) + "]"
    cols = "".join(f", __f{i} AS {sql_name(c)}" for i, c in enumerate(carried))
    # stage ids and column names quoted above
    return f"""SELECT case_id, list_extract({ids}, code + 1) AS stage, visit,
           make_timestamp_ns(entered) AS entered_at,
           CASE WHEN observed THEN make_timestamp_ns(left_ns) END AS left_at,
           CASE WHEN next_code >= 0 THEN list_extract({ids}, next_code + 1) END AS next_stage,
           days, observed{cols}
    FROM ({query})"""  # noqa: S608


def _copy_to_parquet(
    con: duckdb.DuckDBPyConnection,
    select: str,
    attrs: dict[str, Any],
    model: StageModel,
    target: Path,
) -> Path:
    """Write the rows of ``select`` to ``target`` (via a file beside it), attrs in metadata."""
    meta = encode_attrs(attrs, list(model.ids)).replace("'", "''")
    part = target.with_name(target.name + ".part")
    where = os.fspath(part).replace("'", "''")
    try:
        con.execute(
            f"COPY ({select}) TO '{where}' "
            f"(FORMAT parquet, KV_METADATA {{'{METADATA_KEY}': '{meta}'}})"
        )
        os.replace(part, target)
    except (duckdb.IOException, PermissionError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise AnalysisError(
            f"Berkas {target} tidak dapat ditulis ({reason}); periksa izin tulis dan ruang "
            "kosong di disk, atau pilih folder lain.",
            f"The file {target} could not be written ({reason}); check write permission and "
            "free disk space, or choose another folder.",
            field="to",
        ) from exc
    finally:
        part.unlink(missing_ok=True)
    return target


def _memory_error(
    con: duckdb.DuckDBPyConnection, memory_limit: str | None, exc: Exception
) -> AnalysisError:
    limit = settings(con)["memory_limit"]
    reason = str(exc).strip().splitlines()[0]
    return AnalysisError(
        f"Memori yang diizinkan (memory_limit={memory_limit or limit!r}) tidak cukup, "
        f"bahkan dengan menulis sementara ke disk ({reason}). Naikkan memory_limit, mis. "
        "memory_limit='4GB', atau hitung per bagian data.",
        f"The memory allowed (memory_limit={memory_limit or limit!r}) is not enough, even "
        f"spilling to disk ({reason}). Raise memory_limit, e.g. memory_limit='4GB', or run "
        "the analysis on part of the data.",
        field="memory_limit",
    )


def _source_columns(
    con: duckdb.DuckDBPyConnection,
    log: Any,
    model: StageModel,
    carry: Sequence[str] | None,
    zone: str,
    table: str,
) -> list[str]:
    """Register ``ev_in`` over a file or relation; the carried columns."""
    wanted = ["*"] if carry is None else list(carry)
    carried = event_relation(con, log, model, tz=zone, carried=wanted, table=table)
    if carry is None:
        return [
            c
            for c in con.sql("SELECT * FROM ev_in LIMIT 0").columns
            if c not in (*_CORE, "code", "ts", "__row")
        ]
    if set(carry) - set(carried) - set(_CORE):
        raise _carry_error(sorted(set(carry) - set(carried) - set(_CORE)))
    return carried


def _stays_in_memory(
    con: duckdb.DuckDBPyConnection,
    log: Any,
    as_of_ts: pd.Timestamp,
    days: DayCount,
    holidays: Holidays,
    model: StageModel | None,
    carry: Sequence[str] | None,
    zone: str,
    table: str,
) -> pd.DataFrame:
    """The stays of :func:`time_in_stage` as a DataFrame."""
    options: dict[str, Any] = {"days": days, "holidays": holidays, "zone": zone}
    if _is_source(log):
        model = model or StageModel.default()
        carried = _source_columns(con, log, model, carry, zone, table)
        rows = stay_rows(con, model, as_of_ts.value, [sql_name(c) for c in carried], **options)
        frame = None
        case_ids: Any = rows.case_id.to_pandas(types_mapper=pd.ArrowDtype).astype("string")
    else:
        frame, model = events_and_model(log, model, tz=zone)
        if carry is None:
            carried = [c for c in frame.columns if c not in _CORE]
        else:
            unknown = [c for c in carry if c not in frame.columns]
            if unknown:
                raise _carry_error(unknown)
            carried = [c for c in carry if c not in _CORE]
        gaps = [c for c in carried if frame[c].isna().any()]
        register_frame(con, frame, gaps)
        fills = [f"CASE WHEN __has_{i} THEN __row END" for i in range(len(gaps))]
        rows = stay_rows(con, model, as_of_ts.value, fills, **options)
        case_ids = frame["case_id"].array.take(rows.first_row)
    dtype = model.dtype
    left = np.where(rows.observed, rows.left, np.iinfo(np.int64).min)  # NaT while open
    out: dict[str, Any] = {
        "case_id": case_ids,
        "stage": pd.Categorical.from_codes(rows.stage, dtype=dtype),
        "visit": rows.visit,
        "entered_at": _utc_datetimes(rows.entered),
        "left_at": _utc_datetimes(left),
        "next_stage": pd.Categorical.from_codes(rows.next_stage, dtype=dtype),
        "days": rows.days,
        "observed": rows.observed,
    }
    if frame is None:
        for col, values in zip(carried, rows.fills):
            out[col] = values.to_pandas()
    else:
        fill_of = dict(zip(gaps, rows.fills))
        for col in carried:
            if col in fill_of:
                # the case's last non-missing value at or before the stay's last event
                src = fill_of[col].fill_null(-1).to_numpy().astype(np.int64)
                out[col] = frame[col].array.take(src, allow_fill=True)
            else:
                out[col] = frame[col].array.take(rows.last_row)
    stays = pd.DataFrame(out)
    stays.attrs = _stays_attrs(as_of_ts, days, zone, model)
    return stays


def time_in_stage_dask(
    log: Any,
    *,
    as_of: Any,
    days: DayCount = "calendar",
    holidays: Holidays = "ID",
    model: StageModel | None = None,
    carry: Sequence[str] | None = None,
    tz: str | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
) -> pd.DataFrame:
    """:func:`time_in_stage` of a dask DataFrame of events: the same stays, computed per case.

    The events are shuffled so that all events of a case land in one partition (``case_id`` is
    the shuffle key), each partition runs the same engine as :func:`time_in_stage`, and the
    stays are gathered and put in (case, entry time) order, so the result equals the
    single-machine result on the same events.

    Notes
    -----
    **Running on a cluster.** Start a ``dask.distributed`` scheduler and workers on the
    machines (``dask scheduler`` on one, ``dask worker tcp://scheduler:8786`` on each of the
    others, or a ``dask_jobqueue`` / ``dask_kubernetes`` cluster), install pekso_toolkit (same
    version) on every worker, and connect before the call; read the events from storage every
    worker can reach::

        from distributed import Client
        import dask.dataframe as dd
        import pekso_toolkit as pk

        client = Client("tcp://scheduler:8786")
        events = dd.read_parquet("s3://bucket/events/*.parquet")  # or a shared file system
        stays = pk.time_in_stage(events, as_of="2024-06-30")

    The events are partitioned by case (``shuffle(on="case_id")``: every event of a case on
    one worker), each partition runs the engine of :func:`time_in_stage`, and only the stays
    (one row per stay) come back to the client, so the client needs memory for the stays, not
    the events. Text columns read by dask are Arrow strings (``string[pyarrow]``); the stays
    keep the column types of the dask DataFrame.

    Parameters and Returns are those of :func:`time_in_stage`; ``log`` is a dask DataFrame.
    ``memory_limit`` and ``temp_directory`` apply to each partition's DuckDB query, on its
    worker.
    """
    zone = _log_tz(log, tz)
    as_of_ts = to_utc(as_of, tz=zone)
    options: dict[str, Any] = {
        "as_of": as_of_ts,
        "days": days,
        "holidays": holidays,
        "model": model,
        "carry": carry,
        "tz": zone,
        "memory_limit": memory_limit,
        "temp_directory": temp_directory,
    }
    meta = time_in_stage(log._meta, **options)  # the empty frame dask keeps of the columns
    parts = log.shuffle(on="case_id").map_partitions(_partition_stays, options, meta=meta)
    stays = parts.compute()
    stays = stays.sort_values(["case_id", "entered_at", "stage"], kind="stable")
    stays = stays.reset_index(drop=True)
    stays.attrs = dict(meta.attrs)
    return stays


def _partition_stays(part: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """The stays of the cases of one partition (all events of each case are in it)."""
    return time_in_stage(part, **options)
