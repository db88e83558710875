"""Time in stage: one row per stay, with open stays right-censored at ``as_of``.

A *stay* is an uninterrupted period a case spends in one helping stage. It starts at the first
event that puts the case in that stage and ends when the case enters any other stage or state
(another helping stage, ``ditutup`` or ``dibuka_kembali``). Consecutive events of the same stage
merge into one stay. A stay that has not ended by ``as_of`` is *open*: its duration runs to
``as_of`` and it is marked ``observed=False`` (right-censored). Open stays must be analysed as
censored (Kaplan–Meier, see :func:`pekso_toolkit.analysis.stage_summary`), never dropped.

Durations are counted in calendar days or in working days (Mon–Fri minus Indonesian public
holidays, measured in Asia/Jakarta local time, with fractions of days kept).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pekso_toolkit.errors import EventLogError
from pekso_toolkit.stages import StageModel

__all__ = ["LOCAL_TZ", "STAY_COLUMNS", "time_in_stage", "to_utc", "working_days"]

#: Time zone in which naive dates and times are read and working days are counted.
LOCAL_TZ = "Asia/Jakarta"

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
_CORE = ("case_id", "stage", "timestamp")
_WEEKMASK = "1111100"

DayCount = Literal["calendar", "working"]
Holidays = str | Iterable[Any] | None


# ---------------------------------------------------------------------------------- inputs
def to_utc(when: Any, *, tz: str = LOCAL_TZ) -> pd.Timestamp:
    """Read a date or time as a UTC timestamp; naive values are read in ``tz`` (Asia/Jakarta).

    ``"2024-06-30"`` means 2024-06-30 00:00 local time.

    >>> to_utc("2024-06-30")
    Timestamp('2024-06-29 17:00:00+0000', tz='UTC')
    """
    try:
        stamp = pd.Timestamp(when)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"as_of {when!r} is not a date or time; give e.g. '2024-06-30' or a Timestamp"
        ) from exc
    if pd.isna(stamp):
        raise ValueError("as_of is missing (NaT); give the analysis date, e.g. '2024-06-30'")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    return stamp.tz_convert("UTC").as_unit("ns")


def events_and_model(log: Any, model: StageModel | None = None) -> tuple[pd.DataFrame, StageModel]:
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
            f"the event table lacks column(s) {missing}; it needs case_id, stage and timestamp "
            "(load exports with pk.load_events(..., case=, stage=, timestamp=))"
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
                f"row {row}: stage {stage.iloc[row]!r} is not in the stage model; known stages: "
                f"{', '.join(model.ids)} (map other names with load_events(..., stage_map=...))"
            )
        frame = frame.assign(stage=coded)
    if not isinstance(frame["case_id"].dtype, pd.StringDtype):
        frame = frame.assign(case_id=frame["case_id"].astype("string"))
    ts = frame["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype) or str(ts.dtype.tz) != "UTC":
        if not pd.api.types.is_datetime64_any_dtype(ts.dtype):
            ts = pd.to_datetime(ts, format="mixed")
        if ts.dt.tz is None:
            ts = ts.dt.tz_localize(LOCAL_TZ)
        frame = frame.assign(timestamp=ts.dt.tz_convert("UTC"))
    if frame["timestamp"].isna().any():
        row = int(np.flatnonzero(frame["timestamp"].isna().to_numpy())[0])
        raise EventLogError(f"row {row}: the timestamp is missing; every event needs a time")
    return frame, model


def _ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of a tz-aware datetime Series."""
    return np.asarray(series.dt.as_unit("ns").array.asi8)


def _arrow_strings(series: pd.Series) -> pa.Array:
    """The values of a string column as one pyarrow string array."""
    arr = series.array
    if hasattr(arr, "_pa_array"):  # string[pyarrow]
        return pa.concat_arrays(arr._pa_array.chunks)
    values = arr._ndarray if hasattr(arr, "_ndarray") else series.to_numpy(dtype=object)
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = series.astype("string").to_numpy(dtype=object, na_value=None)
        return pa.array(values, type=pa.large_string(), from_pandas=True)


def _sorted_positions(
    case: pa.Array, ts: np.ndarray, tie: np.ndarray, presorted: bool = False
) -> tuple[np.ndarray | None, np.ndarray]:
    """Row order by (case_id, timestamp, tie rank) and the case number of each sorted row.

    ``tie`` orders events with equal timestamps (the stage order, see :func:`tie_rank`).
    Returns ``(order, case_code)``; ``order`` is None when the rows are already in that order
    (always the case with ``presorted=True``, e.g. for an EventLog, which is sorted on loading).
    ``case_code`` numbers the cases 0, 1, ... in case_id order.
    """
    n = len(ts)
    if n <= 1:
        return None, np.zeros(n, dtype=np.int64)
    diff = pc.not_equal(case.slice(1), case.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    if presorted:
        code = np.zeros(n, dtype=np.int64)
        code[1:] = np.cumsum(diff)
        return None, code
    same = ~diff
    if not np.any((ts[1:] < ts[:-1]) & same) and not np.any(
        (ts[1:] == ts[:-1]) & same & (tie[1:] < tie[:-1])
    ):
        brk = np.flatnonzero(diff)
        greater = pc.greater(pc.take(case, brk + 1), pc.take(case, brk))
        if bool(np.all(greater.to_numpy(zero_copy_only=False))):
            code = np.zeros(n, dtype=np.int64)
            code[1:] = np.cumsum(diff)
            return None, code
    # not sorted: number the cases in case_id order, then sort by (case, time, stage)
    encoded = pc.dictionary_encode(case)
    rank = pc.rank(encoded.dictionary, sort_keys="ascending", tiebreaker="first")
    rank_np = rank.to_numpy().astype(np.int64) - 1
    case_code = rank_np[encoded.indices.to_numpy()]
    order, sorted_code = _argsort_case_time(case_code, ts, tie)
    return order, sorted_code


def _tie_order(case: pa.Array, ts: np.ndarray, stage: np.ndarray, model: StageModel) -> np.ndarray:
    """Order of events with equal timestamps: the event log's rule (stage order, with a
    reopening placed after a closure at the same time and before the stage entered then)."""
    reopened = model.reopened_id
    if reopened is None or not np.any(stage == model.ids.index(reopened)):
        return stage
    from pekso_toolkit.eventlog import tie_rank

    codes = pc.dictionary_encode(case).indices.to_numpy().astype(np.int64)
    rank = tie_rank(stage.astype(np.int64), codes, ts, model)
    return np.unique(rank, return_inverse=True)[1].astype(np.int16).reshape(-1)


def _argsort_case_time(
    case_code: np.ndarray, ts: np.ndarray, stage: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Order by (case, timestamp, stage, row) through one sort of packed 64-bit keys.

    The key packs the case number, the timestamp (coarsened just enough to fit in the bits left),
    the stage and the row number; sorting the keys themselves (faster than an argsort) gives the
    row order in the low bits. When coarsening put two events of a case in the wrong time order,
    a finer key (without the row number) and, failing that, an exact lexical sort take over, so
    the result is always exact. Returns the order and the case numbers in that order.
    """
    n = len(ts)
    low = int(ts.min())
    span_bits = (int(ts.max()) - low).bit_length()
    case_bits = max(1, int(case_code.max()).bit_length())
    stage_bits = max(1, int(stage.max()).bit_length())
    row_bits = max(1, (n - 1).bit_length())
    time_bits = 64 - case_bits - stage_bits - row_bits
    if time_bits >= 8:
        shift = max(0, span_bits - time_bits)
        low_bits = stage_bits + row_bits
        key = case_code.astype(np.uint64) << np.uint64(time_bits + low_bits)
        key |= ((ts - low) >> shift).astype(np.uint64) << np.uint64(low_bits)
        key |= stage.astype(np.uint64) << np.uint64(row_bits)
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        order = (key & np.uint64((1 << row_bits) - 1)).astype(np.int64)
        code = (key >> np.uint64(time_bits + low_bits)).astype(np.int64)
        del key
        if shift == 0 or _time_ordered(ts[order], code):
            return order, code
    time_bits = 62 - case_bits - stage_bits
    if time_bits >= 20:
        shift = max(0, span_bits - time_bits)
        fine = (case_code << (time_bits + stage_bits)) | (((ts - low) >> shift) << stage_bits)
        fine |= stage.astype(np.int64)
        order = np.argsort(fine)
        del fine
        code = case_code[order]
        if shift == 0 or _time_ordered(ts[order], code):
            return order, code
    order = np.lexsort((stage, ts, case_code))
    return order, case_code[order]


def _time_ordered(ts: np.ndarray, case_code: np.ndarray) -> bool:
    """True when the timestamps never go back within a case."""
    return not np.any((ts[1:] < ts[:-1]) & (case_code[1:] == case_code[:-1]))


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
    return np.asarray(index.tz_convert(tz).tz_localize(None).asi8)


def _working_days_ns(
    start_ns: np.ndarray, end_ns: np.ndarray, holidays: Holidays, tz: str
) -> np.ndarray:
    """Working days between UTC instants (arrays of int64 ns), fractions of days kept."""
    if len(start_ns) == 0:
        return np.zeros(0, dtype=float)
    start = _local_ns(start_ns, tz)
    end = _local_ns(end_ns, tz)
    day0 = start // _NS_PER_DAY
    day1 = end // _NS_PER_DAY
    years = pd.DatetimeIndex(np.array([day0.min(), day1.max()]) * _NS_PER_DAY).year
    hol = _holiday_array(holidays, int(years[0]), int(years[1]))
    d0 = day0.astype("datetime64[D]")
    d1 = day1.astype("datetime64[D]")
    work0 = np.is_busday(d0, weekmask=_WEEKMASK, holidays=hol)
    work1 = np.is_busday(d1, weekmask=_WEEKMASK, holidays=hol)
    same = day0 == day1
    # whole days strictly between the two dates
    full = np.busday_count(d0 + 1, np.maximum(d1, d0 + 1), weekmask=_WEEKMASK, holidays=hol)
    head = np.where(same, 0.0, work0 * (((day0 + 1) * _NS_PER_DAY - start) / _NS_PER_DAY))
    tail = np.where(
        same,
        work0 * ((end - start) / _NS_PER_DAY),
        work1 * ((end - day1 * _NS_PER_DAY) / _NS_PER_DAY),
    )
    return np.asarray(head + tail + full, dtype=float)


def working_days(
    start: Any,
    end: Any,
    *,
    holidays: Holidays = "ID",
    tz: str = LOCAL_TZ,
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
class EventRuns(NamedTuple):
    """Events up to ``as_of`` in (case, time, stage) order, grouped in runs of one stage.

    Row arrays have one entry per kept event in sorted order; run arrays one entry per run.
    """

    n: int
    rows: np.ndarray | None  # positions in the input frame (None: same as sorted order)
    case_code: np.ndarray
    new_case: np.ndarray
    run: np.ndarray  # first sorted row of each run
    run_stage: np.ndarray
    run_case: np.ndarray
    run_ts: np.ndarray
    has_next: np.ndarray  # the case has a later run
    next_ts: np.ndarray
    next_stage: np.ndarray  # -1 when there is no later run
    run_last: np.ndarray  # last sorted row of each run


def event_runs(
    frame: pd.DataFrame, as_of_ns: int | None, model: StageModel, *, presorted: bool = False
) -> EventRuns:
    """Sort the events (ignoring those after ``as_of_ns``) and find the runs of each case.

    ``presorted=True`` trusts the row order (an EventLog's events are sorted on loading).
    """
    ts_all = _ns(frame["timestamp"])
    keep = ts_all <= as_of_ns if as_of_ns is not None else None
    rows = np.flatnonzero(keep) if keep is not None and not keep.all() else None
    ts = ts_all if rows is None else ts_all[rows]
    stage_all = frame["stage"].cat.codes.to_numpy().astype(np.int16)
    stage = stage_all if rows is None else stage_all[rows]
    case_col = frame["case_id"] if rows is None else frame["case_id"].take(rows)
    case_arr = _arrow_strings(case_col)
    if case_arr.null_count:
        missing_at = np.flatnonzero(case_arr.is_null().to_numpy(zero_copy_only=False))[0]
        row = int(missing_at if rows is None else rows[missing_at])
        raise EventLogError(f"row {row}: case_id is missing; every event needs a case")
    tie = stage if presorted else _tie_order(case_arr, ts, stage, model)
    order, case_code = _sorted_positions(case_arr, ts, tie, presorted)
    if order is not None:
        ts = ts[order]
        stage = stage[order]
        rows = order if rows is None else rows[order]
    n = len(ts)

    # runs of events in the same stage
    new_case = np.ones(n, dtype=bool)
    new_case[1:] = case_code[1:] != case_code[:-1]
    starts = new_case.copy()
    starts[1:] |= stage[1:] != stage[:-1]
    run = np.flatnonzero(starts)
    run_stage = stage[run]
    run_case = case_code[run]
    run_ts = ts[run]
    has_next = np.zeros(len(run), dtype=bool)
    has_next[:-1] = run_case[1:] == run_case[:-1]
    next_ts = np.empty(len(run), dtype=np.int64)
    next_ts[:-1] = run_ts[1:]
    next_stage = np.full(len(run), -1, dtype=np.int16)
    next_stage[:-1] = run_stage[1:]
    next_stage[~has_next] = -1
    run_last = np.empty(len(run), dtype=np.int64)  # last event row of each run
    run_last[:-1] = run[1:] - 1
    if len(run):
        run_last[-1] = n - 1

    return EventRuns(
        n,
        rows,
        case_code,
        new_case,
        run,
        run_stage,
        run_case,
        run_ts,
        has_next,
        next_ts,
        next_stage,
        run_last,
    )


def time_in_stage(
    log: Any,
    *,
    as_of: Any,
    days: DayCount = "calendar",
    holidays: Holidays = "ID",
    model: StageModel | None = None,
    carry: Sequence[str] | None = None,
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
    log : EventLog or pandas.DataFrame
        An event log, or a canonical event frame (``case_id``, ``stage``, ``timestamp`` plus any
        other columns; rows in any order).
    as_of : str, date, datetime or Timestamp
        The analysis date. Naive values are read in Asia/Jakarta; ``"2024-06-30"`` means
        2024-06-30 00:00 WIB, and events at exactly that instant are included.
    days : {"calendar", "working"}
        Unit of ``days``: calendar days, or working days (weekdays that are not public holidays,
        counted in Asia/Jakarta local time, fractions of days kept).
    holidays : "ID", list of dates or None
        Holidays for working days: the Indonesian calendar of the ``holidays`` package (default),
        your own list of dates, or None for weekends only.
    model : StageModel, optional
        Stage model of a DataFrame input (default :meth:`StageModel.default`); an EventLog
        brings its own.
    carry : list of str, optional
        Other event columns to carry onto the stays (default: every other column).

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

        ``attrs`` records ``as_of`` (UTC Timestamp), ``days`` (unit), ``stages`` (helping stage
        ids in order), ``targets`` and ``target_unit`` of the model.
    """
    frame, model = events_and_model(log, model)
    if days not in ("calendar", "working"):
        raise ValueError(f"days must be 'calendar' or 'working', not {days!r}")
    as_of_ts = to_utc(as_of)
    as_of_ns = int(as_of_ts.value)
    if carry is None:
        carried = [c for c in frame.columns if c not in _CORE]
    else:
        unknown = [c for c in carry if c not in frame.columns]
        if unknown:
            raise EventLogError(f"carry: column(s) {unknown} are not in the event table")
        carried = [c for c in carry if c not in _CORE]

    ev = event_runs(frame, as_of_ns, model, presorted=not isinstance(log, pd.DataFrame))
    n = ev.n
    new_case = ev.new_case
    rows = ev.rows
    run, run_stage, run_case, run_ts = ev.run, ev.run_stage, ev.run_case, ev.run_ts
    has_next, next_ts, next_stage, run_last = ev.has_next, ev.next_ts, ev.next_stage, ev.run_last

    helping = np.array([s.kind == "stage" for s in model.stages], dtype=bool)
    is_stay = helping[run_stage] if len(run) else np.zeros(0, dtype=bool)
    sel = np.flatnonzero(is_stay)
    s_stage = run_stage[sel]
    s_case = run_case[sel]
    s_in = run_ts[sel]
    s_closed = has_next[sel]
    s_out = np.where(s_closed, next_ts[sel], as_of_ns)
    s_next = next_stage[sel]
    s_first_row = run[sel]
    s_last_row = run_last[sel]

    # visit number: 1 + earlier stays of the same case in the same stage
    visit = np.ones(len(sel), dtype=np.int64)
    for code in np.unique(s_stage):
        idx = np.flatnonzero(s_stage == code)
        c = s_case[idx]
        if len(c) == 0:
            continue
        pos = np.arange(len(c))
        first = np.ones(len(c), dtype=bool)
        first[1:] = c[1:] != c[:-1]
        group_start = np.maximum.accumulate(np.where(first, pos, 0))
        visit[idx] = pos - group_start + 1

    if days == "calendar":
        length = (s_out - s_in) / _NS_PER_DAY
    else:
        length = _working_days_ns(s_in, s_out, holidays, LOCAL_TZ)

    src_first = s_first_row if rows is None else rows[s_first_row]
    dtype = model.dtype
    out: dict[str, Any] = {
        "case_id": frame["case_id"].array.take(src_first),
        "stage": pd.Categorical.from_codes(s_stage.astype(np.int64), dtype=dtype),
        "visit": visit,
        "entered_at": pd.DatetimeIndex(s_in.view("datetime64[ns]")).tz_localize("UTC"),
        "left_at": pd.DatetimeIndex(
            np.where(s_closed, s_out, np.iinfo(np.int64).min).view("datetime64[ns]")
        ).tz_localize("UTC"),
        "next_stage": pd.Categorical.from_codes(s_next.astype(np.int64), dtype=dtype),
        "days": np.asarray(length, dtype=float),
        "observed": s_closed,
    }
    if carried:
        case_start = np.maximum.accumulate(np.where(new_case, np.arange(n), 0))
        for col in carried:
            series = frame[col]
            notna = series.notna().to_numpy()
            if notna.all():
                pick = s_last_row
            else:  # last non-missing value of the case at or before the stay's last event
                if rows is not None:
                    notna = notna[rows]
                last = np.maximum.accumulate(np.where(notna, np.arange(n), -1))
                pick = last[s_last_row]
                pick = np.where(pick >= case_start[s_last_row], pick, -1)
            src = pick if rows is None else np.where(pick >= 0, rows[pick], -1)
            out[col] = series.array.take(src, allow_fill=bool(np.any(src < 0)))
    stays = pd.DataFrame(out, copy=False)
    stays.attrs = {
        "as_of": as_of_ts,
        "days": days,
        "stages": [s.id for s in model.helping_stages],
        "targets": dict(model.targets),
        "target_unit": model.target_unit,
    }
    return stays
