"""The paths cases take: a process map of moves between stages, and whole-case durations.

:func:`process_map` counts every move between stages and states (forward, skipping stages, back
for rework, closure, reopening) with the time spent before the move. Those times are
**censoring-aware**: a stay still open at ``as_of`` may end in any move later, so the time before
a move is read from the Aalen–Johansen cumulative incidence of that move (the other moves
competing, open stays censored) rather than from the finished moves alone, which would favour
quick moves while long stays are still running.

:func:`case_durations` gives the time from a case's first event to its closure, open cases
censored (Kaplan–Meier), like :func:`~pekso_toolkit.stays.summary.stage_summary` for whole cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, qth_survival_times

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.publish.disclosure import suppress_small_cells
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.durations import _log_tz, events_and_model, sorted_events, to_utc

__all__ = [
    "CASE_DURATION_COLUMNS",
    "MOVE_KINDS",
    "PROCESS_MAP_COLUMNS",
    "case_durations",
    "case_table",
    "process_map",
]

#: Kinds of move, in drawing order.
MOVE_KINDS = ("forward", "skip", "rework", "close", "reopen", "resume")

#: Columns of :func:`process_map`.
PROCESS_MAP_COLUMNS = (
    "from_stage",
    "to_stage",
    "kind",
    "n_cases",
    "n_moves",
    "share_of_exits",
    "median_days",
    "p90_days",
)

#: Columns of :func:`case_durations` after the group columns.
CASE_DURATION_COLUMNS = (
    "n_cases",
    "n_open",
    "n_reopened",
    "median_days",
    "median_ci_low",
    "median_ci_high",
    "p75_days",
    "p90_days",
    "mean_days_completed",
)

_NS_PER_DAY = 86_400 * 10**9


class _Runs:
    """Runs of one stage per case (events up to ``as_of`` in case, time, stage order)."""

    def __init__(self, log: Any, as_of: Any, model: StageModel | None) -> None:
        zone = _log_tz(log, None)
        frame, self.model = events_and_model(log, model, tz=zone)
        if as_of is None:
            if frame.empty:
                raise ValueError("the event log is empty; there is nothing to map")
            self.as_of = pd.Timestamp(frame["timestamp"].max()).tz_convert("UTC")
        else:
            self.as_of = to_utc(as_of, tz=zone)
        ev = sorted_events(frame, int(self.as_of.value), self.model)
        self.frame = frame
        self.rows = ev.rows
        n = ev.n
        new_case = np.ones(n, dtype=bool)
        if n > 1:
            new_case[1:] = ev.case_code[1:] != ev.case_code[:-1]
        starts = new_case.copy()
        if n > 1:
            starts[1:] |= ev.stage[1:] != ev.stage[:-1]
        first = np.flatnonzero(starts)
        self.first_row = first
        self.stage = ev.stage[first].astype(np.int64)
        self.case = ev.case_code[first].astype(np.int64)
        self.ts = ev.ts[first]
        self.case_first = new_case[first]
        self.has_next = np.zeros(len(first), dtype=bool)
        if len(first) > 1:
            self.has_next[:-1] = self.case[1:] == self.case[:-1]
        self.next_stage = np.full(len(first), -1, dtype=np.int64)
        self.next_stage[:-1] = self.stage[1:]
        self.next_stage[~self.has_next] = -1
        end = np.full(len(first), int(self.as_of.value), dtype=np.int64)
        end[:-1] = np.where(self.has_next[:-1], self.ts[1:], end[:-1])
        self.days = (end - self.ts) / _NS_PER_DAY


def _kinds(model: StageModel) -> np.ndarray:
    """Kind of each (from, to) pair of stage codes, as an index into MOVE_KINDS (-1: none)."""
    k = len(model.ids)
    kinds = [s.kind for s in model.stages]
    helping = [i for i, s in enumerate(kinds) if s == "stage"]
    pos = {i: p for p, i in enumerate(helping)}
    out = np.full((k, k), -1, dtype=np.int64)
    for a in range(k):
        for b in range(k):
            if a == b:
                continue
            if kinds[b] == "closed":
                out[a, b] = MOVE_KINDS.index("close")
            elif kinds[a] == "closed" or kinds[b] == "reopened":
                out[a, b] = MOVE_KINDS.index("reopen")
            elif kinds[a] == "reopened":
                out[a, b] = MOVE_KINDS.index("resume")
            else:
                step = pos[b] - pos[a]
                name = "forward" if step == 1 else "skip" if step > 1 else "rework"
                out[a, b] = MOVE_KINDS.index(name)
    return out


def _conditional_quantiles(
    days: np.ndarray, target: np.ndarray, targets: np.ndarray, qs: Sequence[float]
) -> np.ndarray:
    """Time by which a share ``q`` of the moves to each target have happened, open stays censored.

    ``target`` is the next state of each stay (-1 for a stay still open). The Aalen–Johansen
    cumulative incidence of each target is computed stay by stay (at tied times moves come before
    censored stays, and the step-by-step products equal the grouped estimate); the quantile is
    the first time the incidence reaches ``q`` times its last value. Without open stays this is
    the plain empirical quantile of the moves' times.
    """
    order = np.lexsort((target < 0, days))
    d = days[order]
    t = target[order]
    n = len(d)
    at_risk = n - np.arange(n, dtype=float)
    moved = t >= 0
    survive = np.cumprod(np.where(moved, 1.0 - 1.0 / at_risk, 1.0))
    before = np.concatenate([[1.0], survive[:-1]])
    step = np.where(moved, before / at_risk, 0.0)
    out = np.full((len(targets), len(qs)), np.nan)
    for i, tgt in enumerate(targets):
        mine = np.flatnonzero(t == tgt)
        if len(mine) == 0:
            continue
        cif = np.cumsum(step[mine])
        total = cif[-1]
        for j, q in enumerate(qs):
            hit = int(np.searchsorted(cif, q * total * (1 - 1e-12), side="left"))
            out[i, j] = d[mine[min(hit, len(mine) - 1)]]
    return out


def process_map(
    log: Any,
    *,
    as_of: Any = None,
    min_count: int | None = None,
    model: StageModel | None = None,
) -> pd.DataFrame:
    """Every move between stages and states, with cases, moves and the time before the move.

    Parameters
    ----------
    log : EventLog or event DataFrame
        The events (``case_id``, ``stage``, ``timestamp``).
    as_of : date-like, optional
        The analysis date: events after it are ignored and stays still open then are censored
        there. Default: the time of the last event in the log.
    min_count : int, optional
        Pass the table through
        :func:`~pekso_toolkit.publish.disclosure.suppress_small_cells` (``n_cases`` and
        ``n_moves`` below it masked, with the times and share of that row).
    model : StageModel, optional
        Stage model of a DataFrame input.

    Returns
    -------
    pandas.DataFrame
        One row per observed (from, to) pair, in stage-model order of ``from_stage`` then
        ``to_stage``: ``from_stage``, ``to_stage`` (categoricals of the model's ids), ``kind``
        (``"forward"`` to the next helping stage, ``"skip"`` forward past one or more stages,
        ``"rework"`` back to an earlier stage, ``"close"`` into the closed state,
        ``"reopen"`` out of the closed state (into the reopened state or straight into a
        stage), ``"resume"`` from the reopened state into a stage — the kinds of
        :func:`~pekso_toolkit.stays.flow.transitions`), ``n_cases`` (cases with at least one
        such move), ``n_moves``,
        ``share_of_exits`` (this move's share of the stays of ``from_stage`` that have ended,
        0–1), ``median_days`` and ``p90_days`` (calendar days spent in ``from_stage`` before the
        move: the time by which half / 90 % of these moves have happened, from the
        Aalen–Johansen cumulative incidence with the other moves competing and stays still open
        at ``as_of`` censored).

        ``attrs``: ``as_of`` (UTC), ``days`` (``"calendar"``), ``stages`` (every stage and state
        id in model order), ``n_open`` (stays open at ``as_of`` per stage id).
    """
    runs = _Runs(log, as_of, model)
    model = runs.model
    k = len(model.ids)
    kind_of = _kinds(model)
    src, dst = runs.stage, runs.next_stage
    rows: list[dict[str, Any]] = []
    n_open: dict[str, int] = {}
    for a in range(k):
        mine = src == a
        if not mine.any():
            continue
        n_open[model.ids[a]] = int((dst[mine] < 0).sum())
        targets, counts = np.unique(dst[mine][dst[mine] >= 0], return_counts=True)
        if len(targets) == 0:
            continue
        q = _conditional_quantiles(runs.days[mine], dst[mine], targets, (0.5, 0.9))
        ended = int(counts.sum())
        for i, (b, count) in enumerate(zip(targets, counts)):
            pair = mine & (dst == b)
            rows.append(
                {
                    "from_stage": int(a),
                    "to_stage": int(b),
                    "kind": MOVE_KINDS[kind_of[a, b]],
                    "n_cases": int(len(np.unique(runs.case[pair]))),
                    "n_moves": int(count),
                    "share_of_exits": count / ended,
                    "median_days": q[i, 0],
                    "p90_days": q[i, 1],
                }
            )
    table = pd.DataFrame(rows, columns=list(PROCESS_MAP_COLUMNS))
    dtype = model.dtype
    table["from_stage"] = pd.Categorical.from_codes(
        table["from_stage"].to_numpy(dtype=np.int64), dtype=dtype
    )
    table["to_stage"] = pd.Categorical.from_codes(
        table["to_stage"].to_numpy(dtype=np.int64), dtype=dtype
    )
    table["kind"] = table["kind"].astype("string")
    table = table.astype({"n_cases": "int64", "n_moves": "int64"})
    for col in ("share_of_exits", "median_days", "p90_days"):
        table[col] = table[col].astype(float)
    table.attrs = {
        "as_of": runs.as_of,
        "days": "calendar",
        "stages": list(model.ids),
        "n_open": n_open,
    }
    if min_count is not None:
        attrs = dict(table.attrs)
        table = suppress_small_cells(
            table,
            threshold=min_count,
            count_cols=["n_cases", "n_moves"],
            derived={c: "n_moves" for c in ("share_of_exits", "median_days", "p90_days")},
            margins=[["from_stage"]],
        )
        table.attrs = attrs
    return table


# ---------------------------------------------------------------------------------- cases
def case_table(
    log: Any,
    *,
    as_of: Any = None,
    by: str | Sequence[str] | None = None,
    model: StageModel | None = None,
) -> pd.DataFrame:
    """One row per case: when it started, whether and when it was closed, how long it took.

    Parameters
    ----------
    log : EventLog or event DataFrame
        The events.
    as_of : date-like, optional
        The analysis date (default: the time of the last event).
    by : str or list of str, optional
        Event columns to carry (the case's last non-missing value up to ``as_of``).
    model : StageModel, optional
        Stage model of a DataFrame input.

    Returns
    -------
    pandas.DataFrame
        ``case_id``, the ``by`` columns, ``started_at`` (first event, UTC), ``closed_at`` (the
        closing event when the case is closed at ``as_of``, else NaT), ``days`` (calendar days
        from the first event to the closure, or to ``as_of`` while open), ``observed`` (False =
        open at ``as_of``: censored), ``reopened`` (the case was reopened at least once),
        ``last_stage`` (stage or state of the last event).
    """
    by_cols = as_list(by)
    runs = _Runs(log, as_of, model)
    model = runs.model
    missing = [c for c in by_cols if c not in runs.frame.columns]
    if missing:
        raise KeyError(f"by: column(s) {missing} are not in the event table")
    closed = model.ids.index(model.closed_id) if model.closed_id is not None else -1
    reopened = model.ids.index(model.reopened_id) if model.reopened_id is not None else -1
    first = np.flatnonzero(runs.case_first)
    # each case's last run: the one before the next case's first (none when there is no case)
    last = (np.append(first[1:], len(runs.stage))[: len(first)] - 1).astype(np.int64)
    is_closed = runs.stage[last] == closed
    ends = np.where(is_closed, runs.ts[last], int(runs.as_of.value))
    n_reopen = np.bincount(
        np.repeat(np.arange(len(first)), np.diff(np.append(first, len(runs.stage)))),
        weights=runs.stage == reopened,
        minlength=len(first),
    )
    src_first = runs.first_row[first]
    if runs.rows is not None:
        src_first = runs.rows[src_first]
    out: dict[str, Any] = {"case_id": runs.frame["case_id"].array.take(src_first)}
    if by_cols:
        # the case's last non-missing value at or before as_of
        frame = runs.frame
        keep = frame["timestamp"] <= runs.as_of
        sub = frame.loc[keep, ["case_id", "timestamp", *by_cols]].sort_values(
            ["case_id", "timestamp"], kind="stable"
        )
        last_values = sub.groupby("case_id", sort=False, observed=True)[by_cols].last()
        picked = last_values.reindex(pd.Index(out["case_id"]))
        for col in by_cols:
            out[col] = picked[col].array
    stamps = pd.DatetimeIndex(runs.ts[first].view("datetime64[ns]")).tz_localize("UTC")
    closed_ns = np.where(is_closed, runs.ts[last], np.iinfo(np.int64).min)
    out["started_at"] = stamps
    out["closed_at"] = pd.DatetimeIndex(closed_ns.view("datetime64[ns]")).tz_localize("UTC")
    out["days"] = (ends - runs.ts[first]) / _NS_PER_DAY
    out["observed"] = is_closed
    out["reopened"] = n_reopen > 0
    out["last_stage"] = pd.Categorical.from_codes(runs.stage[last], dtype=model.dtype)
    table = pd.DataFrame(out)
    table.attrs = {"as_of": runs.as_of, "days": "calendar"}
    return table


def _km_row(days: np.ndarray, observed: np.ndarray, alpha: float) -> list[float]:
    if len(days) == 0:
        return [np.nan] * 5
    ticks = np.rint(np.maximum(days, 0.0) * 1440) / 1440  # to the minute, as stage_summary
    frame = pd.DataFrame({"t": ticks, "e": observed})
    agg = frame.groupby(["t", "e"], sort=True).size().reset_index(name="w")
    kmf = KaplanMeierFitter(alpha=alpha).fit(
        agg["t"], event_observed=agg["e"], weights=agg["w"].to_numpy(dtype=float)
    )
    q = qth_survival_times([0.5, 0.25, 0.1], kmf.survival_function_).iloc[:, 0].to_numpy()
    ci = median_survival_times(kmf.confidence_interval_)
    vals = [q[0], ci.iloc[0, 0], ci.iloc[0, 1], q[1], q[2]]
    return [float(v) if np.isfinite(float(v)) else np.nan for v in vals]


def case_durations(
    log: Any,
    *,
    as_of: Any = None,
    by: str | Sequence[str] | None = None,
    min_count: int | None = None,
    model: StageModel | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Whole-case durations (first event to closure), open cases censored (Kaplan–Meier).

    A case is finished when its last event up to ``as_of`` is the closure (``ditutup``); a
    reopened case that has not been closed again is open. Its duration runs from its first event
    to that closure (time closed before a reopening included), or to ``as_of`` while open.

    Parameters
    ----------
    log : EventLog or event DataFrame
        The events.
    as_of : date-like, optional
        The analysis date (default: the time of the last event in the log).
    by : str or list of str, optional
        Event columns to group by (each case counted with its last value up to ``as_of``).
    min_count : int, optional
        Pass the table through
        :func:`~pekso_toolkit.publish.disclosure.suppress_small_cells` (``n_cases``,
        ``n_open`` and ``n_reopened`` below it masked with the figures of that row).
    model : StageModel, optional
        Stage model of a DataFrame input.
    alpha : float
        1 - confidence level of the median's interval.

    Returns
    -------
    pandas.DataFrame
        One row (per group when ``by`` is given): the ``by`` columns, ``n_cases``, ``n_open``
        (open at ``as_of``: censored), ``n_reopened`` (cases reopened at least once),
        ``median_days`` with ``median_ci_low`` / ``median_ci_high``, ``p75_days``, ``p90_days``
        (Kaplan–Meier, calendar days; NaN when the estimate does not fall that low yet) and
        ``mean_days_completed`` (closed cases only; biased low when many are open). The per-case
        durations are :func:`case_table`.
    """
    by_cols = as_list(by)
    as_of = recorded_as_of(log, as_of)  # open cases are censored at a date the user states
    cases = case_table(log, as_of=as_of, by=by_cols or None, model=model)
    if by_cols:
        grouped = cases.groupby(by_cols, sort=True, observed=True, dropna=False)
        parts = [(key if isinstance(key, tuple) else (key,), g) for key, g in grouped]
    else:
        parts = [((), cases)]
    rows = []
    for key, part in parts:
        days = part["days"].to_numpy(dtype=float)
        obs = part["observed"].to_numpy(dtype=bool)
        km = _km_row(days, obs, alpha)
        rows.append(
            {
                **dict(zip(by_cols, key)),
                "n_cases": len(part),
                "n_open": int((~obs).sum()),
                "n_reopened": int(part["reopened"].sum()),
                "median_days": km[0],
                "median_ci_low": km[1],
                "median_ci_high": km[2],
                "p75_days": km[3],
                "p90_days": km[4],
                "mean_days_completed": float(days[obs].mean()) if obs.any() else np.nan,
            }
        )
    table = pd.DataFrame(rows, columns=[*by_cols, *CASE_DURATION_COLUMNS])
    for col in by_cols:
        if isinstance(cases[col].dtype, pd.CategoricalDtype):
            table[col] = pd.Categorical(table[col], dtype=cases[col].dtype)
    table = table.astype({"n_cases": "int64", "n_open": "int64", "n_reopened": "int64"})
    table.attrs = dict(cases.attrs)
    if min_count is not None:
        counts = ["n_cases", "n_open", "n_reopened"]
        table = suppress_small_cells(
            table,
            threshold=min_count,
            count_cols=counts,
            derived={c: "n_cases" for c in CASE_DURATION_COLUMNS if c not in counts},
        )
        table.attrs = dict(cases.attrs)
    return table
