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

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import duckdb
import numpy as np
import pandas as pd

from pekso_toolkit.core import times
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import AnalysisError, EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import canonical_ids_and_times, tie_rank
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.engine import (
    DEFAULT_TABLE,
    _is_source,
    connect,
    event_relation,
    register_frame,
    settings,
    stay_rows,
)

__all__ = ["DEFAULT_TZ", "STAY_COLUMNS", "time_in_stage", "to_utc", "working_days"]

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
_WEEKMASK = "1111100"

DayCount = Literal["calendar", "working"]
Holidays = str | Iterable[Any] | None


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
        values = stage.astype("string")
        coded = values.astype(dtype)
        bad = coded.isna() & values.notna()
        if bad.any() or stage.isna().any():
            row = int(np.flatnonzero(bad.to_numpy() | stage.isna().to_numpy())[0])
            raise EventLogError(
                f"baris {row}: tahap {stage.iloc[row]!r} tidak ada di model tahapan; tahap yang "
                f"dikenal: {', '.join(model.ids)} (petakan nama lain dengan "
                "load_events(..., stage_map=...))",
                f"row {row}: stage {stage.iloc[row]!r} is not in the stage model; known stages: "
                f"{', '.join(model.ids)} (map other names with load_events(..., stage_map=...))",
                field="stage",
            )
        frame = frame.assign(stage=coded)
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
@functools.lru_cache(maxsize=32)
def _country_holidays(country: str, first_year: int, last_year: int) -> np.ndarray:
    import holidays as holidays_lib

    try:
        days = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError as exc:
        raise ValueError(
            f"no public-holiday calendar for country {country!r}; use 'ID' for Indonesia, "
            "a list of dates, or None for weekends only"
        ) from exc
    return np.array(sorted(days), dtype="datetime64[D]")


def _holiday_array(holidays: Holidays, first_year: int, last_year: int) -> np.ndarray:
    if holidays is None:
        return np.array([], dtype="datetime64[D]")
    if isinstance(holidays, str):
        return _country_holidays(holidays.upper(), first_year, last_year)
    dates = [pd.Timestamp(d).date() for d in holidays]
    return np.array(sorted(set(dates)), dtype="datetime64[D]")


def _local_ns(utc_ns: np.ndarray, tz: str) -> np.ndarray:
    index = pd.DatetimeIndex(utc_ns.view("datetime64[ns]")).tz_localize("UTC")
    local = np.asarray(index.tz_convert(tz).tz_localize(None).asi8)
    return local.copy() if np.shares_memory(local, utc_ns) else local


def _working_days_ns(
    start_ns: np.ndarray, end_ns: np.ndarray, holidays: Holidays, tz: str
) -> np.ndarray:
    """Working days between UTC instants (arrays of int64 ns, ``start <= end``), fractions kept.

    The calendar is looked up in a table with one entry per local date from the first start to
    the last end (is it a working day, and how many working days come before it), so each pair
    costs a few array look-ups whatever the distance between its dates:

        days = W(start date) x (part of the start date after start)
             + W(end date) x (part of the end date before end)
             + working dates from the day after the start date to the day before the end date

    where W is 1 on working days, else 0. The last term is -W(start date) when both are on the
    same date, which leaves exactly the working part between start and end.
    """
    if len(start_ns) == 0:
        return np.zeros(0, dtype=float)
    head = _local_ns(start_ns, tz)
    tail = _local_ns(end_ns, tz)
    i0 = head // _NS_PER_DAY  # local dates, as days since the epoch
    i1 = tail // _NS_PER_DAY
    first = int(i0.min())
    dates = np.arange(first, int(i1.max()) + 1).astype("datetime64[D]")
    years = pd.DatetimeIndex(dates[[0, -1]]).year
    hol = _holiday_array(holidays, int(years[0]), int(years[1]))
    working = np.is_busday(dates, weekmask=_WEEKMASK, holidays=hol)
    before = np.zeros(len(dates) + 1, dtype=np.int64)  # working dates before each date
    np.cumsum(working, out=before[1:])
    i0 -= first
    i1 -= first
    # (the arrays are reused in place: on large tables fresh arrays cost page faults)
    np.remainder(head, _NS_PER_DAY, out=head)
    np.subtract(_NS_PER_DAY, head, out=head)  # ns of the start date after the start
    np.remainder(tail, _NS_PER_DAY, out=tail)  # ns of the end date before the end
    head *= working[i0]
    tail *= working[i1]
    head += tail
    days = head.astype(float)
    days /= _NS_PER_DAY
    i0 += 1
    full = np.take(before, i1, out=tail)
    full -= np.take(before, i0, out=i1)
    days += full
    return days


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
    out = _working_days_ns(lo, hi, holidays, tz)
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
    documented tie rule (:func:`pekso_toolkit.events.eventlog.tie_rank`), rows in any order."""
    ts = _ns(frame["timestamp"])
    keep = np.arange(len(frame)) if as_of_ns is None else np.flatnonzero(ts <= as_of_ns)
    case_code = pd.factorize(frame["case_id"], sort=True)[0][keep].astype(np.int64)
    stage = frame["stage"].cat.codes.to_numpy()[keep].astype(np.int64)
    ts = ts[keep]
    order = np.lexsort((tie_rank(stage, case_code, ts, model), ts, case_code))
    return SortedEvents(len(order), keep[order], ts[order], stage[order], case_code[order])


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
) -> pd.DataFrame:
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
    log : EventLog, DataFrame, Parquet path or glob, DuckDB file or relation, dask DataFrame
        An event log, or canonical events (``case_id``, ``stage``, ``timestamp`` plus any
        other columns; rows in any order): a DataFrame, a Parquet file or dataset
        (``"events/*.parquet"``, read by DuckDB without loading it into pandas), a DuckDB
        database file (a path ending ``.duckdb``, ``.db`` or ``.ddb``; its table ``table`` is
        read, the file is opened read-only), a DuckDB relation (e.g.
        ``duckdb.read_parquet(...)``, or a query; copied into the analysis connection within
        its memory limit), or a dask DataFrame (see :func:`time_in_stage_dask`; the result is
        the same).
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
    """
    if days not in ("calendar", "working"):
        raise ValueError(f"days must be 'calendar' or 'working', not {days!r}")
    zone = _log_tz(log, tz)
    as_of_ts = to_utc(recorded_as_of(log, as_of), tz=zone)
    if _is_dask(log):
        return time_in_stage_dask(
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
    con = connect(memory_limit=memory_limit, temp_directory=temp_directory, progress=progress)
    try:
        if _is_source(log):
            model = model or StageModel.default()
            wanted = ["*"] if carry is None else list(carry)
            carried = event_relation(con, log, model, tz=zone, carried=wanted, table=table)
            if carry is None:
                carried = [
                    c
                    for c in con.sql("SELECT * FROM ev_in LIMIT 0").columns
                    if c not in (*_CORE, "code", "ts", "__row")
                ]
            elif set(carry) - set(carried) - set(_CORE):
                unknown = sorted(set(carry) - set(carried) - set(_CORE))
                raise _carry_error(unknown)
            rows = stay_rows(con, model, as_of_ts.value, [f'"{c}"' for c in carried])
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
            rows = stay_rows(con, model, as_of_ts.value, fills)
            case_ids = frame["case_id"].array.take(rows.first_row)
    except duckdb.OutOfMemoryException as exc:
        limit = settings(con)["memory_limit"]
        reason = str(exc).strip().splitlines()[0]
        raise AnalysisError(
            f"Memori yang diizinkan (memory_limit={memory_limit or limit!r}) tidak cukup, "
            f"bahkan dengan menulis sementara ke disk ({reason}). Naikkan memory_limit, mis. "
            "memory_limit='4GB', atau hitung per bagian data.",
            f"The memory allowed (memory_limit={memory_limit or limit!r}) is not enough, even "
            f"spilling to disk ({reason}). Raise memory_limit, e.g. memory_limit='4GB', or run "
            "the analysis on part of the data.",
            field="memory_limit",
        ) from exc
    finally:
        con.close()
    if days == "calendar":
        length = (rows.left - rows.entered) / _NS_PER_DAY
    else:
        length = _working_days_ns(rows.entered, rows.left, holidays, zone)
    dtype = model.dtype
    left = np.where(rows.observed, rows.left, np.iinfo(np.int64).min)  # NaT while open
    out: dict[str, Any] = {
        "case_id": case_ids,
        "stage": pd.Categorical.from_codes(rows.stage, dtype=dtype),
        "visit": rows.visit,
        "entered_at": _utc_datetimes(rows.entered),
        "left_at": _utc_datetimes(left),
        "next_stage": pd.Categorical.from_codes(rows.next_stage, dtype=dtype),
        "days": np.asarray(length, dtype=float),
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
    stays.attrs = {
        "as_of": as_of_ts,
        "days": days,
        "tz": zone,
        "stages": [s.id for s in model.helping_stages],
        "targets": dict(model.targets),
        "target_unit": model.target_unit,
    }
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
