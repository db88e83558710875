"""Time in stage: one row per stay, with open stays right-censored at ``as_of``.

A *stay* is an uninterrupted period a case spends in one helping stage. It starts at the first
event that puts the case in that stage and ends when the case enters any other stage or state
(another helping stage, ``ditutup`` or ``dibuka_kembali``). Consecutive events of the same stage
merge into one stay. A stay that has not ended by ``as_of`` is *open*: its duration runs to
``as_of`` and it is marked ``observed=False`` (right-censored). Open stays must be analysed as
censored (Kaplan–Meier, see :func:`pekso_toolkit.stays.summary.stage_summary`), never dropped.

Durations are counted in calendar days or in working days (Mon–Fri minus Indonesian public
holidays, measured in Asia/Jakarta local time, with fractions of days kept).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from pekso_toolkit.core import times
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import tie_key
from pekso_toolkit.events.sorting import arrow_strings, first_appearance_codes, sorted_positions
from pekso_toolkit.stays.asof import recorded_as_of

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
            ts = ts.dt.tz_localize(DEFAULT_TZ)
        frame = frame.assign(timestamp=ts.dt.tz_convert("UTC"))
    if frame["timestamp"].isna().any():
        row = int(np.flatnonzero(frame["timestamp"].isna().to_numpy())[0])
        raise EventLogError(f"row {row}: the timestamp is missing; every event needs a time")
    return frame, model


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
    return np.asarray(index.tz_convert(tz).tz_localize(None).asi8)


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
    """Events up to ``as_of`` in (case, time, stage) order."""

    n: int
    rows: np.ndarray | None  # positions in the input frame (None: same as sorted order)
    ts: np.ndarray  # int64 ns, UTC
    stage: np.ndarray  # stage codes (int16)
    case_code: np.ndarray  # 0, 1, ... in case_id order


def sorted_events(
    frame: pd.DataFrame, as_of_ns: int | None, model: StageModel, *, presorted: bool = False
) -> SortedEvents:
    """Sort the events (ignoring those after ``as_of_ns``) by case, time and stage order.

    ``presorted=True`` trusts the row order (an EventLog's events are sorted on loading).
    """
    ts = _ns(frame["timestamp"])
    stage = frame["stage"].cat.codes.to_numpy().astype(np.int16)
    case_col = frame["case_id"]
    rows = None
    if as_of_ns is not None:
        keep = ts <= as_of_ns
        if not keep.all():
            rows = np.flatnonzero(keep)
            ts, stage, case_col = ts[rows], stage[rows], case_col.take(rows)
        del keep
    case_arr = arrow_strings(case_col)
    if case_arr.null_count:
        missing_at = np.flatnonzero(case_arr.is_null().to_numpy(zero_copy_only=False))[0]
        row = int(missing_at if rows is None else rows[missing_at])
        raise EventLogError(f"row {row}: case_id is missing; every event needs a case")
    if presorted:
        tie = stage
    else:
        tie = tie_key(
            stage,
            lambda: first_appearance_codes(case_arr),
            ts,
            model,
        )
    order, case_code, sorted_ts = sorted_positions(case_arr, ts, tie, presorted)
    if order is not None:
        ts = ts[order] if sorted_ts is None else sorted_ts
        stage = stage[order]
        rows = order if rows is None else rows[order]
    return SortedEvents(len(ts), rows, ts, stage, case_code)


class EventRuns(NamedTuple):
    """Events up to ``as_of`` in (case, time, stage) order, grouped in runs of one stage.

    One entry per run (a stretch of consecutive events of a case in the same stage).
    """

    run_stage: np.ndarray
    run_case: np.ndarray
    has_next: np.ndarray  # the case has a later run
    next_stage: np.ndarray  # -1 when there is no later run


def _run_starts(ev: SortedEvents) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, new_case)``: masks of length n + 1 (the extra last entry True) marking the
    first event of each run and of each case."""
    n, code, stage = ev.n, ev.case_code, ev.stage
    new_case = np.ones(n + 1, dtype=bool)
    if n > 1:
        np.not_equal(code[1:], code[:-1], out=new_case[1:n])
    starts = new_case.copy()
    if n > 1:
        starts[1:n] |= stage[1:] != stage[:-1]
    return starts, new_case


def event_runs(
    frame: pd.DataFrame, as_of_ns: int | None, model: StageModel, *, presorted: bool = False
) -> EventRuns:
    """Sort the events (ignoring those after ``as_of_ns``) and find the runs of each case."""
    ev = sorted_events(frame, as_of_ns, model, presorted=presorted)
    starts, new_case = _run_starts(ev)
    bounds = np.flatnonzero(starts)  # first row of each run, then n
    run, nxt = bounds[:-1], bounds[1:]
    run_stage = ev.stage[run]
    has_next = ~new_case[nxt]
    next_stage = np.full(len(run), -1, dtype=np.int16)
    next_stage[:-1] = run_stage[1:]
    next_stage[~has_next] = -1
    return EventRuns(run_stage, ev.case_code[run], has_next, next_stage)


def _utc_datetimes(ns: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """UTC datetimes over int64 nanoseconds (NaT = int64 min), without copying the values."""
    values = ns.view("datetime64[ns]")
    try:
        return pd.arrays.DatetimeArray._simple_new(values, dtype=_UTC_NS)
    except (AttributeError, TypeError):  # pragma: no cover - other pandas versions
        return pd.DatetimeIndex(values).tz_localize("UTC").array


def _visits(s_case: np.ndarray, s_stage: np.ndarray) -> np.ndarray:
    """Visit number of each stay (1 + earlier stays of the same case in the same stage).

    Stays are in case and time order. Only cases whose stays do not move strictly forward
    through the stage codes can visit a stage twice, so only their stays are counted.
    """
    visit = np.ones(len(s_case), dtype=np.int64)
    if len(s_case) < 2:
        return visit
    back = (s_case[1:] == s_case[:-1]) & (s_stage[1:] <= s_stage[:-1])
    if not back.any():
        return visit
    cases = np.unique(s_case[1:][back])
    pos = np.searchsorted(cases, s_case)
    pos[pos == len(cases)] = 0
    idx = np.flatnonzero(cases[pos] == s_case)
    case, stage = s_case[idx], s_stage[idx].astype(np.int64)
    # within the selected stays: number the stays of each (case, stage) pair in time order
    pair = case * (int(stage.max()) + 1) + stage
    order = np.argsort(pair, kind="stable")
    sorted_pair = pair[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_pair[1:] != sorted_pair[:-1]
    at = np.arange(len(order))
    count = at - np.maximum.accumulate(np.where(first, at, 0)) + 1
    visit[idx[order]] = count
    return visit


def time_in_stage(
    log: Any,
    *,
    as_of: Any = None,
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
    as_of_ts = to_utc(recorded_as_of(log, as_of))
    as_of_ns = int(as_of_ts.value)
    if carry is None:
        carried = [c for c in frame.columns if c not in _CORE]
    else:
        unknown = [c for c in carry if c not in frame.columns]
        if unknown:
            raise EventLogError(f"carry: column(s) {unknown} are not in the event table")
        carried = [c for c in carry if c not in _CORE]

    # Large logs: fresh arrays cost page faults as much as the arithmetic, so intermediate
    # arrays are reused (``out=``) where that keeps the code clear.
    ev = sorted_events(frame, as_of_ns, model, presorted=not isinstance(log, pd.DataFrame))
    n, rows, ts, stage = ev.n, ev.rows, ev.ts, ev.stage
    starts, new_case = _run_starts(ev)
    bounds = np.flatnonzero(starts)  # first row of each run, then n
    del starts
    helping = np.array([s.kind == "stage" for s in model.stages], dtype=bool)
    stay_run = np.flatnonzero(helping[stage[bounds[:-1]]])
    first_row = bounds[stay_run]  # sorted row of the stay's first event
    stay_run += 1
    next_row = np.take(bounds, stay_run, out=stay_run)  # next run's first row (or n)
    del bounds
    s_closed = ~new_case[next_row]  # the case entered something else after the stay
    open_ = ~s_closed
    s_stage = stage[first_row]
    s_in = ts[first_row]
    s_out = ts.take(next_row, mode="clip")
    s_out[open_] = as_of_ns
    s_next = stage.take(next_row, mode="clip")
    s_next[open_] = -1
    last_row = np.subtract(next_row, 1, out=next_row)  # the stay's last event
    s_case = ev.case_code[first_row]
    visit = _visits(s_case, s_stage)

    if days == "calendar":
        length = np.subtract(s_out, s_in, out=s_case).astype(float)
        length /= _NS_PER_DAY
    else:
        length = _working_days_ns(s_in, s_out, holidays, DEFAULT_TZ)
    del s_case

    src_first = first_row if rows is None else np.take(rows, first_row, out=first_row)
    dtype = model.dtype
    s_out[open_] = np.iinfo(np.int64).min  # NaT while open
    out: dict[str, Any] = {
        "case_id": frame["case_id"].array.take(src_first),
        "stage": pd.Categorical.from_codes(s_stage, dtype=dtype),
        "visit": visit,
        "entered_at": _utc_datetimes(s_in),
        "left_at": _utc_datetimes(s_out),
        "next_stage": pd.Categorical.from_codes(s_next, dtype=dtype),
        "days": length,
        "observed": s_closed,
    }
    del src_first, first_row
    if carried:
        present = {col: ~np.asarray(frame[col].array.isna(), dtype=bool) for col in carried}
        gaps = [col for col in carried if not present[col].all()]
        if rows is None:
            src_last = last_row
        elif gaps:  # the sorted positions are still needed below
            src_last = rows[last_row]
        else:
            src_last = np.take(rows, last_row, out=last_row)
        for col in carried:
            if col not in gaps:
                out[col] = frame[col].array.take(src_last)
        if gaps:
            case_start = np.maximum.accumulate(np.where(new_case[:n], np.arange(n), 0))
            for col in gaps:
                # the case's last non-missing value at or before the stay's last event
                notna = present[col] if rows is None else present[col][rows]
                last = np.maximum.accumulate(np.where(notna, np.arange(n), -1))
                pick = last[last_row]
                pick = np.where(pick >= case_start[last_row], pick, -1)
                src = pick if rows is None else np.where(pick >= 0, rows[pick], -1)
                out[col] = frame[col].array.take(src, allow_fill=bool(np.any(src < 0)))
    stays = pd.DataFrame(out, copy=False)
    stays.attrs = {
        "as_of": as_of_ts,
        "days": days,
        "stages": [s.id for s in model.helping_stages],
        "targets": dict(model.targets),
        "target_unit": model.target_unit,
    }
    return stays
