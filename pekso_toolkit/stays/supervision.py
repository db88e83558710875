"""What supervisors ask: overdue cases, forgotten steps, and how much ignoring open cases misleads.

All functions take tables made elsewhere (stays from :func:`pekso_toolkit.time_in_stage`,
forgotten-step checks from :func:`pekso_toolkit.forgotten_steps`) and return tidy DataFrames;
none of them draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import FORGOTTEN, StageModel
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.publish.gate import publication_spec, publish
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.conformance import forgotten_steps
from pekso_toolkit.stays.durations import to_utc
from pekso_toolkit.stays.engine import connect, register_frame, skipped_step
from pekso_toolkit.stays.summary import stage_summary
from pekso_toolkit.store.casestore import CaseStore

__all__ = [
    "censoring_bias",
    "forgotten_summary",
    "overdue_cases",
    "skipped_analysis",
]


def overdue_cases(
    stays: pd.DataFrame,
    *,
    as_of: Any = None,
    targets: Mapping[str, float] | None = None,
    model: StageModel | None = None,
    columns: Sequence[str] = ("office", "worker"),
    min_count: int | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Cases waiting now in a stage for longer than the stage's target.

    Parameters
    ----------
    stays : DataFrame
        Output of :func:`pekso_toolkit.time_in_stage` (its ``days`` unit is kept).
    as_of : date-like
        The analysis date; must be the one the stays were computed with.
    targets : mapping, optional
        Stage id -> target days (default: the stage model's targets).
    model : StageModel, optional
        Default :meth:`StageModel.default`.
    columns : sequence of str
        Case columns to show when present (never client identity).
    min_count : int, optional
        When given, the table that may be published instead of the case list: overdue stays
        counted per ``by`` group and stage, through the publication gate
        (:func:`pekso_toolkit.publish`) with this threshold.
    by : str or list of str, optional
        Group columns of the counted table (e.g. ``"office"``); only with ``min_count``.

    Returns
    -------
    DataFrame
        One row per open stay past its target, most overdue first: ``case_id, stage,
        entered_at, days`` (in the stay unit), ``target_days``, ``days_over`` (``days -
        target_days``), ``times_target`` (``days / target_days``), then ``columns``. A list of
        single cases: ``attrs["internal"]`` is True and the publication gate refuses it.

        With ``min_count``: the ``by`` columns, ``stage`` (every stage with a target),
        ``n_overdue`` (open stays past target), ``median_days_over`` and ``suppressed``.
    """
    model = model or StageModel.default()
    targets = dict(targets) if targets is not None else model.targets
    as_of_utc = to_utc(recorded_as_of(stays, as_of))
    open_ = stays[~stays["observed"].astype(bool)]
    if len(open_) and (open_["entered_at"] > as_of_utc).any():
        raise ValueError("stays entered after as_of: compute the stays with the same as_of")
    target = open_["stage"].astype(str).map(targets).astype("float64")
    late = open_[(target.notna() & (open_["days"] > target)).to_numpy()].copy()
    late["target_days"] = target[late.index]
    late["days_over"] = late["days"] - late["target_days"]
    late["times_target"] = late["days"] / late["target_days"]
    keep = ["case_id", "stage", "entered_at", "days", "target_days", "days_over", "times_target"]
    keep += [c for c in columns if c in late.columns and c not in keep]
    out = late[keep].sort_values("times_target", ascending=False).reset_index(drop=True)
    out.attrs["internal"] = True  # one row per case
    if min_count is None:
        return out
    return _overdue_counts(stays, late, as_list(by), targets, min_count)


def _overdue_counts(
    stays: pd.DataFrame,
    late: pd.DataFrame,
    keys: list[str],
    targets: Mapping[str, float],
    min_count: int,
) -> pd.DataFrame:
    """Overdue stays counted per group and stage (every group of the stays, zeros included)."""
    stages = (
        [s for s in stays["stage"].cat.categories if s in targets]
        if hasattr(stays["stage"], "cat")
        else sorted({str(s) for s in stays["stage"]} & set(targets))
    )
    groups = (
        stays[keys].drop_duplicates().reset_index(drop=True) if keys else pd.DataFrame(index=[0])
    )
    grid = groups.merge(pd.DataFrame({"stage": stages}), how="cross")
    late = late.assign(stage=late["stage"].astype(str))
    agg = late.groupby([*keys, "stage"], observed=True, dropna=False)["days_over"]
    counted = pd.DataFrame(
        {"n_overdue": agg.size(), "median_days_over": agg.median()}
    ).reset_index()
    out = grid.merge(counted, on=[*keys, "stage"], how="left")
    out["n_overdue"] = out["n_overdue"].fillna(0).astype("int64")
    out.attrs["publication"] = publication_spec(
        count_cols=["n_overdue"],
        derived={"median_days_over": "n_overdue"},
        margins=[keys, ["stage"]] if keys else [[]],
    )
    return publish(out, min_count=min_count)


def forgotten_summary(
    checks: Any,
    *,
    by: str | Sequence[str] | None = None,
    min_count: int | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """How often each often-forgotten (★) step was forgotten, among the cases that reached it.

    Each ★ checklist item is its own row, counted over the cases that reached its checkpoint:
    cases that left intake (capacity judged, service contract), cases that entered intervention
    (the analysis items), closed cases (the termination contract), cases whose contract scope was
    amended (the scope-change item; it does not apply, and never counts, when the scope never
    changed). See :func:`pekso_toolkit.forgotten_steps`.

    Parameters
    ----------
    checks : CaseStore or DataFrame
        A case store, or the output of :func:`pekso_toolkit.forgotten_steps`.
    by : str or list of str, optional
        Group columns (e.g. ``"office"`` or ``"worker"``).
    min_count : int or None
        Suppress counts below this (and the shares derived from them) through
        :func:`pekso_toolkit.suppress_small_cells`, each item's counts adding up over the
        groups; None (default) publishes all.
    lang : str, optional
        Language of ``step_label``.

    Returns
    -------
    DataFrame
        One row per ★ item (per group), in stage-model order: the ``by`` columns, ``step``
        (``contract_boundaries``, ``analysis``, ``termination_contract``), ``step_label`` (in
        ``lang``), ``item`` (checklist item id), ``label_id, label_en`` (item labels),
        ``checkpoint``, ``n_reached`` (cases that reached the checkpoint), ``n_forgotten``
        (of those, cases where the item was unticked there), ``share`` (``n_forgotten /
        n_reached``, NaN when none reached), and ``suppressed`` when ``min_count`` is given.
    """
    if isinstance(checks, CaseStore):
        checks = forgotten_steps(checks)
    if not isinstance(checks, pd.DataFrame) or not {"item", "reached", "forgotten"} <= set(
        checks.columns
    ):
        raise ValueError(
            "forgotten_summary needs a CaseStore or the table of pk.forgotten_steps(store); "
            "CaseStore.flags() does not say which cases reached each step"
        )
    keys = as_list(by)
    order = {item: i for i, item in enumerate(pd.unique(checks["item"]))}
    meta = ["step", "item", "label_id", "label_en", "checkpoint"]
    grouped = checks.groupby([*keys, *meta], sort=False, observed=True, dropna=False)
    out = grouped.agg(n_reached=("reached", "sum"), n_forgotten=("forgotten", "sum"))
    out = out.reset_index()
    for col in ("n_reached", "n_forgotten"):
        out[col] = out[col].astype("int64")
    out["share"] = out["n_forgotten"] / out["n_reached"].where(out["n_reached"] > 0)
    out.insert(
        len(keys) + 1,
        "step_label",
        out["step"].map(lambda s: pick(*FORGOTTEN[s], lang) if s in FORGOTTEN else s),
    )
    out = out.sort_values(
        [*keys, "item"], key=lambda s: s.map(order) if s.name == "item" else s, kind="stable"
    ).reset_index(drop=True)
    out.attrs["publication"] = publication_spec(
        count_cols=["n_reached", "n_forgotten"],
        derived={"share": ["n_forgotten", "n_reached"]},
        margins=["item"],  # each item's counts add up over the groups, not across items
        complements={"n_forgotten": "n_reached"},  # n_reached - n_forgotten is a count too
    )
    if min_count is not None:
        out = publish(out, min_count=min_count)
    return out


def skipped_analysis(
    log: Any,
    *,
    as_of: Any = None,
    analysis: str = "analisa_masalah",
    intervention: str = "intervensi",
) -> pd.DataFrame:
    """Cases that entered intervention without passing through problem analysis.

    This is the part of the "forgotten analysis" that an event log shows by itself (a case store
    also knows whether the analysis was written down: see :meth:`CaseStore.flags`).

    Parameters
    ----------
    log : EventLog or DataFrame
        Canonical events (``case_id, stage, timestamp`` and case columns), rows in any order:
        they are read in (case, time, stage order) order with the tie rule of
        :func:`pekso_toolkit.time_in_stage` (a reopening at a closing's instant comes right after
        the closing, other equal times follow the stage model's order).
    as_of : date-like
        Events after this moment are ignored.
    analysis, intervention : str
        Stage ids of the analysis stage and of the stage that must come after it.

    Returns
    -------
    DataFrame
        One row per case that entered ``intervention``: ``case_id``, ``skipped_analysis``
        (True when no ``analysis`` event came before its first entry into ``intervention``
        since the case was opened or last reopened), then the case's other columns as on its
        first event (e.g. office, worker, category).
    """
    if not isinstance(log, EventLog):
        log = EventLog(events=log)  # checked
    as_of_ns = int(to_utc(recorded_as_of(log, as_of), tz=log.tz).value)
    model, events = log.model, log.events
    step, entry = model.ids.index(analysis), model.ids.index(intervention)
    con = connect()
    try:
        register_frame(con, events)
        # episodes restart at each reopening: a reopened case needs a new analysis
        first_row, skipped = skipped_step(con, model, as_of_ns, step=step, entry=entry)
    finally:
        con.close()
    out = pd.DataFrame(
        {
            "case_id": events["case_id"].array.take(first_row).astype("string"),
            "skipped_analysis": skipped,
        }
    )
    extra = [c for c in events.columns if c not in ("case_id", "stage", "timestamp")]
    if extra:  # the case's other columns as on its first event
        out = out.join(events[extra].take(first_row).reset_index(drop=True))
    return out.reset_index(drop=True)


def censoring_bias(
    stays: pd.DataFrame, *, model: StageModel | None = None, min_count: int | None = None
) -> pd.DataFrame:
    """Side by side: the honest Kaplan–Meier median and the naive one that drops open stays.

    Tools that measure only finished transitions leave out the cases still waiting on the
    extract date. Those are the long stays, so the naive median is too short; the Kaplan–Meier
    median counts open stays as "at least this long" (right-censored).

    Parameters
    ----------
    stays : DataFrame
        Output of :func:`pekso_toolkit.time_in_stage`.
    model : StageModel, optional
        Default :meth:`StageModel.default`.
    min_count : int, optional
        Suppress small cells (see :func:`pekso_toolkit.suppress_small_cells`).

    Returns
    -------
    DataFrame
        One row per stage in model order: ``stage, n_stays, n_open, share_open``,
        ``median_km`` (Kaplan–Meier median, open stays censored; NA when not reached),
        ``median_ci_low, median_ci_high``, ``median_completed_only`` (median of finished stays
        only: the naive figure), ``understatement_days`` (``median_km -
        median_completed_only``) and ``understatement_share`` (that difference as a share of
        ``median_km``). Units are those of the stays (calendar or working days).
    """
    summary = stage_summary(stays, model=model)
    done = stays[stays["observed"].astype(bool)]
    naive = done.groupby("stage", observed=False)["days"].median()
    out = pd.DataFrame(
        {
            "stage": summary["stage"],
            "n_stays": summary["n_stays"],
            "n_open": summary["n_open"],
            "share_open": summary["n_open"] / summary["n_stays"].where(summary["n_stays"] > 0),
            "median_km": summary["median_days"],
            "median_ci_low": summary["median_ci_low"],
            "median_ci_high": summary["median_ci_high"],
            "median_completed_only": summary["stage"].astype(str).map(naive).astype("float64"),
        }
    )
    out["understatement_days"] = out["median_km"] - out["median_completed_only"]
    out["understatement_share"] = out["understatement_days"] / out["median_km"]
    km = ("median_km", "median_ci_low", "median_ci_high")
    naive_cols = ("median_completed_only", "understatement_days", "understatement_share")
    out.attrs["publication"] = publication_spec(
        count_cols=["n_stays", "n_open"],
        derived={  # the naive figures come from the n_stays - n_open finished stays
            "share_open": ["n_stays", "n_open"],
            **{col: "n_stays" for col in km},
            **{col: ["n_stays", "n_open"] for col in naive_cols},
        },
        complements={"n_open": "n_stays"},
    )
    if min_count is not None:
        out = publish(out, min_count=min_count)
    return out
