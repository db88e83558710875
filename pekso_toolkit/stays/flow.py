"""Flow of cases through the stages: backlog (work in progress) over time and transitions.

Both take an event log (or stays) and return tidy frames; nothing here draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.publish.gate import publication_spec, publish
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.durations import _log_tz, events_and_model, time_in_stage, to_utc
from pekso_toolkit.stays.engine import connect, register_frame, transition_counts
from pekso_toolkit.stays.summary import stage_position, stays_stage_ids

__all__ = ["transitions", "wip"]


def _stays_of(log: Any, as_of: Any, model: StageModel | None) -> pd.DataFrame:
    """Stays of a log (or the stays table itself when one is given)."""
    if isinstance(log, pd.DataFrame) and {"entered_at", "left_at", "observed"} <= set(log.columns):
        recorded = log.attrs.get("as_of")
        zone = log.attrs.get("tz", DEFAULT_TZ)
        if recorded is not None and pd.Timestamp(recorded) != to_utc(as_of, tz=zone):
            raise ValueError("the stays were made with another as_of; recompute time_in_stage")
        return log
    return time_in_stage(log, as_of=as_of, model=model, carry=[])


def wip(
    log: Any,
    *,
    as_of: Any = None,
    freq: str = "W",
    model: StageModel | None = None,
    min_count: int | None = None,
) -> pd.DataFrame:
    """Work in progress: cases in each stage at the end of each period, with arrivals and exits.

    Parameters
    ----------
    log : EventLog, event DataFrame, or stays DataFrame
        An event log (stays are computed as of ``as_of``) or the output of ``time_in_stage``.
    as_of : date-like
        The analysis date; the last period ends there.
    freq : str
        Period length as a pandas period alias: ``"D"``, ``"W"`` (weeks ending Sunday),
        ``"M"``, ``"Q"``, ``"Y"``.
    model : StageModel, optional
        Stage model of a DataFrame input.
    min_count : int, optional
        Publish through the gate (:func:`pekso_toolkit.publish`) with this threshold: small
        counts masked (totals per period are taken as published).

    Returns
    -------
    pandas.DataFrame
        One row per period and helping stage, periods from the first stay to ``as_of``:
        ``period_end`` (last day of the period, datetime, in the log's ``tz`` (default
        ``DEFAULT_TZ``); for the last period the
        day of ``as_of``), ``stage`` (categorical), ``n_cases`` (cases in the stage at the end
        of the period; for the last period at ``as_of``), ``arrivals`` (stays that began in the
        period, rework included), ``exits`` (stays that ended in the period, whatever came next).
    """
    as_of = recorded_as_of(log, as_of)
    stays = _stays_of(log, as_of, model)
    zone = stays.attrs.get("tz", DEFAULT_TZ)
    when = to_utc(as_of, tz=zone)
    stage_ids = stays_stage_ids(stays, model)
    stage_dtype = pd.CategoricalDtype(stage_ids, ordered=True)
    columns = ["period_end", "stage", "n_cases", "arrivals", "exits"]
    if stays.empty:
        return pd.DataFrame({c: [] for c in columns}).astype({"stage": stage_dtype})
    local_now = when.tz_convert(zone)
    first = stays["entered_at"].min().tz_convert(zone)
    periods = pd.period_range(
        first.tz_localize(None).to_period(freq), local_now.tz_localize(None).to_period(freq)
    )
    ends = (periods + 1).start_time.tz_localize(zone)  # exclusive end of each period
    # the last snapshot is taken just after as_of, so events at as_of itself count
    ends_ns = np.minimum(ends.tz_convert("UTC").as_unit("ns").asi8, when.value + 1)
    starts_ns = np.concatenate([[np.iinfo(np.int64).min], ends_ns[:-1]])
    pos = stage_position(stays, stage_ids)
    entered = stays["entered_at"].dt.as_unit("ns").array.asi8
    left_raw = stays["left_at"].dt.as_unit("ns")
    left = np.where(left_raw.isna().to_numpy(), np.iinfo(np.int64).max, left_raw.array.asi8)
    frames = []
    labels = (ends - pd.Timedelta(1, "ns")).normalize()
    labels = labels.where(ends_ns <= when.value, local_now.normalize())
    for i, stage in enumerate(stage_ids):
        mine = pos == i
        e_sorted = np.sort(entered[mine])
        l_sorted = np.sort(left[mine])
        # in the stage at instant b: entered before b and not left before b
        in_at_end = np.searchsorted(e_sorted, ends_ns, "left") - np.searchsorted(
            l_sorted, ends_ns, "left"
        )
        arrivals = np.searchsorted(e_sorted, ends_ns, "left") - np.searchsorted(
            e_sorted, starts_ns, "left"
        )
        exits = np.searchsorted(l_sorted, ends_ns, "left") - np.searchsorted(
            l_sorted, starts_ns, "left"
        )
        frames.append(
            pd.DataFrame(
                {
                    "period_end": labels,
                    "stage": pd.Categorical([stage] * len(ends), dtype=stage_dtype),
                    "n_cases": in_at_end.astype(np.int64),
                    "arrivals": arrivals.astype(np.int64),
                    "exits": exits.astype(np.int64),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["period_end", "stage"], kind="stable", ignore_index=True)
    out.attrs = {"as_of": when, "freq": freq}
    out.attrs["publication"] = publication_spec(
        count_cols=["n_cases", "arrivals", "exits"], margins=[["period_end"]]
    )
    return out if min_count is None else publish(out, min_count=min_count)


def transitions(
    log: Any,
    *,
    as_of: Any = None,
    model: StageModel | None = None,
    min_count: int | None = None,
) -> pd.DataFrame:
    """Moves between stages and states, counted, including rework and reopenings.

    Repeated events of the same stage are one stay, not a move. Events with the same timestamp
    are read in stage-model order, so date-only exports never make up backward moves.

    Parameters
    ----------
    log : EventLog or event DataFrame
        The events.
    as_of : date-like, optional
        Ignore events after this instant (default: use every event).
    model : StageModel, optional
        Stage model of a DataFrame input.
    min_count : int, optional
        Publish through the gate (:func:`pekso_toolkit.publish`) with this threshold: small
        counts masked (moves out of each stage are taken as published totals).

    Returns
    -------
    pandas.DataFrame
        One row per observed (from, to) pair, in model order: ``from_stage``, ``to_stage``
        (categoricals of the model's ids), ``kind``, ``n`` (moves) and ``n_cases`` (cases with
        at least one such move). ``kind`` is ``"forward"`` (to the next helping stage),
        ``"skip"`` (forward past one or more helping stages), ``"rework"`` (back to an earlier
        helping stage), ``"close"`` (to the closed state), ``"reopen"`` (out of the closed state,
        or into the reopened state) or ``"resume"`` (from the reopened state into a stage).
    """
    zone = _log_tz(log, None)
    frame, model = events_and_model(log, model, tz=zone)
    as_of_ns = None if as_of is None else int(to_utc(as_of, tz=zone).value)
    con = connect()
    try:
        register_frame(con, frame)
        counts = transition_counts(con, model, as_of_ns)
    finally:
        con.close()
    k = len(model.ids)
    pair = counts["src"].to_numpy(dtype=np.int64) * k + counts["dst"].to_numpy(dtype=np.int64)
    n = np.zeros(k * k, dtype=np.int64)
    n_cases = np.zeros(k * k, dtype=np.int64)
    n[pair] = counts["n"].to_numpy()
    n_cases[pair] = counts["n_cases"].to_numpy()
    found = np.flatnonzero(n)
    kinds = [s.kind for s in model.stages]
    helping_pos = {i: p for p, i in enumerate(i for i, s in enumerate(kinds) if s == "stage")}
    labels = []
    for p in found:
        a, b = divmod(int(p), k)
        if kinds[b] == "closed":
            kind = "close"
        elif kinds[a] == "closed" or kinds[b] == "reopened":
            kind = "reopen"
        elif kinds[a] == "reopened":
            kind = "resume"
        else:
            step = helping_pos[b] - helping_pos[a]
            kind = "forward" if step == 1 else "skip" if step > 1 else "rework"
        labels.append(kind)
    dtype = model.dtype
    out = pd.DataFrame(
        {
            "from_stage": pd.Categorical.from_codes(found // k, dtype=dtype),
            "to_stage": pd.Categorical.from_codes(found % k, dtype=dtype),
            "kind": pd.array(labels, dtype="string"),
            "n": n[found].astype(np.int64),
            "n_cases": n_cases[found].astype(np.int64),
        }
    )
    out.attrs["publication"] = publication_spec(
        count_cols=["n", "n_cases"], margins=[["from_stage"]]
    )
    return out if min_count is None else publish(out, min_count=min_count)
