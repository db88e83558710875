"""Where stays end: competing exits of a stage (Aalen–Johansen cumulative incidence).

A stay in a helping stage ends in one of three ways: the case moves **forward** to a later stage
(``"forward"``), goes **back** to an earlier one (``"rework"``), or is **closed** (``"close"``, e.g.
a case closed during assessment). The codes are the ``kind`` of the move in
:func:`~pekso_toolkit.stays.flow.transitions` (an exit ``"forward"`` there is ``"forward"`` or
``"skip"``); labels in Bahasa Indonesia and English are in :data:`EXIT_LABELS`. Stays still open at
``as_of`` are censored. Treating the other exits as censoring (one Kaplan–Meier curve per exit)
over-states every exit: the curves can add up to more than 100 %. The Aalen–Johansen estimator
(lifelines) gives the cumulative incidence of each exit in the presence of the others; at any day
the incidences of the three exits plus the share still in the stage add up to one.

Supervisors ask "of the cases in assessment, how many were closed within 30 days without
reaching an intervention?" — that is ``cum_incidence`` of ``"close"`` at day 30.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.publish.disclosure import suppress_small_cells
from pekso_toolkit.stays.summary import stage_position, stays_stage_ids

__all__ = ["EXITS", "EXIT_COLUMNS", "EXIT_LABELS", "exit_fits", "stage_exits"]

#: The ways a stay can end, in this order: the ``kind`` codes of
#: :func:`~pekso_toolkit.stays.flow.transitions` (``"forward"`` includes its ``"skip"``).
EXITS = ("forward", "rework", "close")

#: Labels of the exits: (Bahasa Indonesia, English); show one with
#: :func:`pekso_toolkit.core.i18n.pick`.
EXIT_LABELS = {
    "forward": ("maju ke tahap berikutnya", "moved forward"),
    "rework": ("kembali ke tahap sebelumnya", "moved back (rework)"),
    "close": ("kasus ditutup", "case closed"),
}

#: Columns of :func:`stage_exits` after the group columns.
EXIT_COLUMNS = (
    "stage",
    "exit",
    "exit_label_id",
    "exit_label_en",
    "n_stays",
    "n_exits",
    "day",
    "cum_incidence",
    "ci_low",
    "ci_high",
)

#: Durations are counted to this resolution (days) before fitting: one hour.
EXIT_RESOLUTION = 1 / 24

_NEEDS = ("stage", "next_stage", "days", "observed")


def exit_codes(stays: pd.DataFrame, model: StageModel | None = None) -> np.ndarray:
    """The exit of each stay as an integer: 0 open (censored), 1 forward, 2 back, 3 closed.

    A stay that ended in something else (a state other than closure, or a stage not in the
    model) counts as censored at its end.
    """
    missing = [c for c in _NEEDS if c not in stays.columns]
    if missing:
        raise KeyError(
            f"the stays table lacks column(s) {missing}; make it with pk.time_in_stage(log, "
            "as_of=...)"
        )
    helping = stays_stage_ids(stays, model)
    closed_id = (model or StageModel.default()).closed_id
    order = {sid: i for i, sid in enumerate(helping)}
    here = stays["stage"].astype(str).map(order).to_numpy(dtype=float)
    nxt_ids = stays["next_stage"].astype("string")
    nxt = nxt_ids.map(order).astype(float).to_numpy()
    observed = stays["observed"].to_numpy(dtype=bool)
    code = np.zeros(len(stays), dtype=np.int64)
    code[observed & (nxt > here)] = 1
    code[observed & (nxt < here)] = 2
    if closed_id is not None:
        code[observed & (nxt_ids == closed_id).fillna(False).to_numpy(dtype=bool)] = 3
    return code


def _fit_exit(
    days: np.ndarray, code: np.ndarray, exit_code: int, alpha: float, resolution: float | None
) -> AalenJohansenFitter:
    """One Aalen–Johansen fit of the exit numbered ``exit_code`` (see :func:`exit_codes`).

    lifelines breaks ties between exits of different kinds at the same time by random jitter
    (and reseeds numpy's global random state). Here the ties are broken before the fit, by
    moving each exit a tiny, fixed step earlier per kind: the estimate does not depend on the
    order of exits at one time, exits still come before stays censored at that time, and the
    result is the same on every run.
    """
    if resolution:  # rounded up: a stay of 0 days (same-time events) ends in the first step
        days = np.maximum(np.ceil(days / resolution), 1.0) * resolution
    frame = pd.DataFrame({"t": days, "e": code})
    agg = frame.groupby(["t", "e"], sort=True).size().reset_index(name="w")
    step = (resolution or 1e-6) / 1000
    kind = agg["e"].to_numpy()
    times = agg["t"].to_numpy(dtype=float) - kind * step
    fitter = AalenJohansenFitter(alpha=alpha, calculate_variance=True)
    with warnings.catch_warnings():
        # 0 / 0 in the variance where every stay at risk has left: the interval is NaN there
        warnings.simplefilter("ignore", RuntimeWarning)
        fitter.fit(times, kind, event_of_interest=exit_code, weights=agg["w"].to_numpy(dtype=float))
    return fitter


def _value_at(fitter: AalenJohansenFitter, day: float) -> tuple[float, float, float]:
    cif = fitter.cumulative_density_.iloc[:, 0]
    pos = int(np.searchsorted(cif.index.to_numpy(dtype=float), day, side="right")) - 1
    if pos < 0:
        return 0.0, np.nan, np.nan
    # the two bounds, whatever their column names (lifelines 0.30 labels them the other way round)
    bounds = fitter.confidence_interval_.iloc[pos].to_numpy(dtype=float)
    est = min(max(float(cif.iloc[pos]), 0.0), 1.0)  # rounding can step outside 0..1
    lo, hi = float(np.min(bounds)), float(np.max(bounds))
    if est == 0.0:
        lo, hi = 0.0, 0.0
    return est, lo, hi


def exit_fits(
    stays: pd.DataFrame,
    *,
    stage: str,
    model: StageModel | None = None,
    alpha: float = 0.05,
    resolution: float | None = EXIT_RESOLUTION,
) -> dict[str, AalenJohansenFitter]:
    """Aalen–Johansen fits of the exits of one stage's stays.

    Returns
    -------
    dict of exit -> lifelines.AalenJohansenFitter
        In :data:`EXITS` order, only exits that occur. Each fitter has ``cumulative_density_``
        (cumulative incidence by day) and ``confidence_interval_``.
    """
    stage_ids = stays_stage_ids(stays, model)
    if stage not in stage_ids:
        raise KeyError(f"stage {stage!r} is not a helping stage; known: {', '.join(stage_ids)}")
    keep = stage_position(stays, stage_ids) == stage_ids.index(stage)
    data = stays.loc[keep]
    code = exit_codes(data, model)
    days = data["days"].to_numpy(dtype=float)
    fits = {}
    for i, name in enumerate(EXITS, start=1):
        if np.any(code == i):
            fits[name] = _fit_exit(days, code, i, alpha, resolution)
    return fits


def stage_exits(
    stays: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    at: Iterable[float] = (7, 14, 30, 60, 90),
    model: StageModel | None = None,
    alpha: float = 0.05,
    resolution: float | None = EXIT_RESOLUTION,
    min_count: int | None = None,
) -> pd.DataFrame:
    """How stays of each stage end, and by when: cumulative incidence of each exit.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    by : str or list of str, optional
        Group column(s) carried on the stays (e.g. ``"office"``).
    at : iterable of float
        Days at which the cumulative incidence is read (default 7, 14, 30, 60, 90), in the unit
        of the stays (calendar or working days).
    model : StageModel, optional
        Stage order (default: the toolkit's model, as recorded on the stays).
    alpha : float
        1 - confidence level of the intervals (default 0.05: 95 %).
    resolution : float or None
        Durations are rounded up to this many days before fitting (default one hour; a stay of
        0 days counts as ending within the first hour), which keeps the fits quick on large
        tables; None fits exact durations.
    min_count : int, optional
        Pass the table through
        :func:`~pekso_toolkit.publish.disclosure.suppress_small_cells` with this threshold:
        ``n_stays`` and ``n_exits`` below it are masked with the figures computed from
        them (blocks: the exits of one stage, group and day).

    Returns
    -------
    pandas.DataFrame
        One row per group, helping stage, exit and day (stages with no stays are left out):
        the ``by`` columns, then ``stage`` (categorical), ``exit`` (categorical:
        ``"forward"``, ``"rework"`` back to an earlier stage, ``"close"`` closed; the ``kind``
        codes of :func:`~pekso_toolkit.stays.flow.transitions`), ``exit_label_id`` and
        ``exit_label_en`` (the exit's label in Bahasa Indonesia and English), ``n_stays`` (stays
        of the stage, open ones included), ``n_exits`` (stays that ended this way, over the
        whole follow-up), ``day``, ``cum_incidence`` (share of the stage's stays that ended this
        way by ``day``, Aalen–Johansen, open stays censored, 0–1) and ``ci_low`` / ``ci_high``
        (its confidence interval; NaN where not defined).

        At a given day the three incidences of a stage add up to at most one; the rest is the
        share of stays still in the stage.
    """
    by_cols = as_list(by)
    for col in by_cols:
        if col not in stays.columns:
            raise KeyError(f"by: column {col!r} is not in the stays table")
    days_at = sorted(float(d) for d in at)
    if not days_at or any(d < 0 for d in days_at):
        raise ValueError("at: give one or more days, none negative, e.g. at=(7, 30, 90)")
    stage_ids = stays_stage_ids(stays, model)
    pos = stage_position(stays, stage_ids)
    code_all = exit_codes(stays, model)
    days_all = stays["days"].to_numpy(dtype=float)
    if by_cols:
        groups = stays[by_cols].drop_duplicates().sort_values(by_cols).reset_index(drop=True)
        key = pd.MultiIndex.from_frame(stays[by_cols].astype(object))
        group_keys = pd.MultiIndex.from_frame(groups.astype(object))
        group_of = group_keys.get_indexer(key)
    else:
        groups = pd.DataFrame(index=[0])
        group_of = np.zeros(len(stays), dtype=np.int64)

    rows: list[dict[str, Any]] = []
    for g in range(len(groups)):
        for s, stage in enumerate(stage_ids):
            mask = (group_of == g) & (pos == s)
            n_stays = int(mask.sum())
            if n_stays == 0:
                continue
            code = code_all[mask]
            days = days_all[mask]
            for i, name in enumerate(EXITS, start=1):
                n_exits = int((code == i).sum())
                fitter = _fit_exit(days, code, i, alpha, resolution) if n_exits else None
                for day in days_at:
                    est, lo, hi = (0.0, 0.0, 0.0) if fitter is None else _value_at(fitter, day)
                    row: dict[str, Any] = {c: groups.at[g, c] for c in by_cols}
                    row.update(
                        stage=stage,
                        exit=name,
                        exit_label_id=EXIT_LABELS[name][0],
                        exit_label_en=EXIT_LABELS[name][1],
                        n_stays=n_stays,
                        n_exits=n_exits,
                        day=day,
                        cum_incidence=est,
                        ci_low=lo,
                        ci_high=hi,
                    )
                    rows.append(row)
    table = pd.DataFrame(rows, columns=[*by_cols, *EXIT_COLUMNS])
    table["stage"] = pd.Categorical(table["stage"], categories=stage_ids, ordered=True)
    table["exit"] = pd.Categorical(table["exit"], categories=list(EXITS), ordered=True)
    table = table.astype({"exit_label_id": "string", "exit_label_en": "string"})
    table = table.astype({"n_stays": "int64", "n_exits": "int64", "day": "float64"})
    table.attrs = {k: v for k, v in stays.attrs.items() if k in ("as_of", "days")}
    if min_count is not None:
        table = suppress_small_cells(
            table,
            threshold=min_count,
            count_cols=["n_stays", "n_exits"],
            derived={c: "n_exits" for c in ("cum_incidence", "ci_low", "ci_high")},
            margins=[[*by_cols, "stage", "day"]],
        )
    return table
