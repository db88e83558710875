"""Conformance to the practice: forgotten steps at their checkpoints, contract boundaries, and
every departure from the stage model with the event that shows it.

An event log shows the stage path only (stages skipped, moves back); a case store also knows the
contracts, checklist ticks and plan steps (see :mod:`pekso_toolkit.store.checks` for the rules).
All functions return tidy DataFrames and never client identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import AnalysisError
from pekso_toolkit.publish.disclosure import suppress_small_cells
from pekso_toolkit.stays.durations import events_and_model, sorted_events, to_utc
from pekso_toolkit.store.casestore import CaseStore
from pekso_toolkit.store.checks import (
    BOUNDARY_KINDS,
    FINDING_KINDS,
    Finding,
    StepCheck,
    recorded_histories,
    review_case,
)

__all__ = [
    "DEVIATION_KINDS",
    "contract_checks",
    "deviation_summary",
    "deviations",
    "forgotten_steps",
]

#: Deviation kind -> (label in Bahasa Indonesia, label in English), in reporting order.
DEVIATION_KINDS: dict[str, tuple[str, str]] = {
    "stage_skipped": ("Tahap dilewati", "Stage skipped"),
    "moved_back": ("Kembali ke tahap sebelumnya", "Moved back to an earlier stage"),
    **{
        k: FINDING_KINDS[k]
        for k in (
            "plan_before_analysis",
            "closed_without_termination_contract",
            "contract_without_boundaries",
            "follow_up_without_new_contract",
        )
    },
}

_FINDING_COLUMNS = [
    "case_id",
    "office",
    "worker",
    "kind",
    "label_id",
    "label_en",
    "at",
    "stage",
    "from_stage",
    "event_kind",
    "event_id",
    "detail",
]


def _review(store: CaseStore, as_of: Any) -> tuple[list[StepCheck], list[Finding]]:
    limit = None if as_of is None else to_utc(as_of).to_pydatetime()
    checks: list[StepCheck] = []
    findings: list[Finding] = []
    for events in recorded_histories(store, as_of=limit).values():
        c, f = review_case(events, store.model)
        checks += c
        findings += f
    return checks, findings


def _with_case_columns(frame: pd.DataFrame, store: CaseStore) -> pd.DataFrame:
    cases = store.cases().set_index("case_id")
    for col in ("office", "worker"):
        frame[col] = frame["case_id"].map(cases[col]).astype("string")
    return frame


def _utc(values: list[Any]) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True))


def forgotten_steps(store: CaseStore, *, as_of: Any = None) -> pd.DataFrame:
    """Each often-forgotten (★) checklist item of each recorded case, judged at its checkpoint.

    Checkpoints: the case **left intake** (the capacity and service-contract items), **entered
    intervention** (the analysis items), was **closed** (the termination contract), or its
    **scope changed** through an amendment (the scope-change item: it does not apply, and never
    counts as forgotten, when the scope never changed). An item is forgotten when it was
    unticked at (any passage of) its checkpoint. See :mod:`pekso_toolkit.store.checks`.

    Parameters
    ----------
    store : CaseStore
        The case store; imported cases (no checklist) are left out.
    as_of : date-like, optional
        Events dated after this moment are ignored (default: all).

    Returns
    -------
    DataFrame
        One row per recorded case and ★ item, in case and model order: ``case_id, office,
        worker`` (latest), ``step`` (``contract_boundaries``, ``analysis`` or
        ``termination_contract``), ``item`` (checklist item id), ``label_id, label_en`` (item
        labels), ``checkpoint`` (see above), ``reached`` (bool), ``reached_at`` (UTC, first
        time), ``forgotten`` (bool; False when not reached), ``forgotten_at`` (UTC) and
        ``event_id`` (Int64: the stage event where it was first found unticked).
    """
    checks, _ = _review(store, as_of)
    labels = {item.id: (item.label_id, item.label_en) for _, item in store.model.forgotten_items}
    frame = pd.DataFrame(
        {
            "case_id": pd.array([c.case_id for c in checks], dtype="string"),
            "step": pd.array([c.step for c in checks], dtype="string"),
            "item": pd.array([c.item for c in checks], dtype="string"),
            "label_id": pd.array([labels[c.item][0] for c in checks], dtype="string"),
            "label_en": pd.array([labels[c.item][1] for c in checks], dtype="string"),
            "checkpoint": pd.array([c.checkpoint for c in checks], dtype="string"),
            "reached": np.array([c.reached for c in checks], dtype=bool),
            "reached_at": _utc([c.reached_at for c in checks]),
            "forgotten": np.array([c.forgotten for c in checks], dtype=bool),
            "forgotten_at": _utc([c.forgotten_at for c in checks]),
            "event_id": pd.array([c.event_id for c in checks], dtype="Int64"),
        }
    )
    frame = _with_case_columns(frame, store)
    first = ["case_id", "office", "worker"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _findings_frame(
    findings: Sequence[Finding], labels: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": pd.array([f.case_id for f in findings], dtype="string"),
            "kind": pd.array([f.kind for f in findings], dtype="string"),
            "label_id": pd.array([labels[f.kind][0] for f in findings], dtype="string"),
            "label_en": pd.array([labels[f.kind][1] for f in findings], dtype="string"),
            "at": _utc([f.at for f in findings]),
            "stage": pd.array([f.stage for f in findings], dtype="string"),
            "from_stage": pd.array([None] * len(findings), dtype="string"),
            "event_kind": pd.array([f.event_kind for f in findings], dtype="string"),
            "event_id": pd.array([f.event_id for f in findings], dtype="Int64"),
            "detail": pd.array([f.detail for f in findings], dtype="string"),
        }
    )


def contract_checks(store: CaseStore, *, as_of: Any = None) -> pd.DataFrame:
    """Contract-boundary findings of the recorded cases, one row per finding.

    Kinds (``kind``):

    * ``undecided_at_signing``: a problem known when a contract was signed (or followed up) that
      the contract puts neither in nor out of scope (problems already referred out are settled);
    * ``added_without_amendment``: a problem added while a contract was in force that no later
      amendment or follow-up contract placed in or out of scope;
    * ``out_of_scope_not_referred``: a problem out of scope in its latest contract version and
      never referred (rujukan);
    * ``plan_before_analysis``: a plan step recorded before the analysis (the analysis stage
      entered since the opening or last reopening, and an analysis item ticked).

    Parameters
    ----------
    store : CaseStore
    as_of : date-like, optional
        Events dated after this moment are ignored (default: all).

    Returns
    -------
    DataFrame
        ``case_id, office, worker, kind, label_id, label_en, at`` (UTC time of the event that
        shows it), ``stage`` (the case's stage then), ``from_stage`` (NA), ``event_kind``,
        ``event_id`` (store event), ``detail`` (problem id, with the contract id for
        ``undecided_at_signing``; plan step id for ``plan_before_analysis``).
    """
    _, findings = _review(store, as_of)
    frame = _findings_frame([f for f in findings if f.kind in BOUNDARY_KINDS], FINDING_KINDS)
    return _with_case_columns(frame, store)[_FINDING_COLUMNS].reset_index(drop=True)


def _stage_deviations(log: Any, as_of: Any) -> pd.DataFrame:
    frame, model = events_and_model(log)
    as_of_ns = None if as_of is None else int(to_utc(as_of).value)
    ev = sorted_events(frame, as_of_ns, model)
    helping = [s.id for s in model.helping_stages]
    pos = np.array([helping.index(s) if s in helping else -1 for s in model.ids], dtype=np.int64)
    hp = pos[ev.stage] if ev.n else np.zeros(0, dtype=np.int64)
    same = ev.case_code[1:] == ev.case_code[:-1]
    valid = same & (hp[:-1] >= 0) & (hp[1:] >= 0)
    skip = valid & (hp[1:] > hp[:-1] + 1)
    back = valid & (hp[1:] < hp[:-1])
    at = np.flatnonzero(skip | back) + 1  # sorted position of the event that shows it
    rows = at if ev.rows is None else ev.rows[at]
    taken = frame.take(rows)
    ids = np.asarray(model.ids)
    prev = hp[at - 1]
    cur = hp[at]
    detail = [";".join(helping[a + 1 : b]) if b > a else "" for a, b in zip(prev, cur, strict=True)]
    kinds = np.where(cur > prev, "stage_skipped", "moved_back")
    out = pd.DataFrame(
        {
            "case_id": pd.array(taken["case_id"].astype(str).to_numpy(), dtype="string"),
            "kind": pd.array(kinds, dtype="string"),
            "label_id": pd.array([DEVIATION_KINDS[k][0] for k in kinds], dtype="string"),
            "label_en": pd.array([DEVIATION_KINDS[k][1] for k in kinds], dtype="string"),
            "at": pd.to_datetime(taken["timestamp"], utc=True).to_numpy(),
            "stage": pd.array(ids[ev.stage[at]], dtype="string"),
            "from_stage": pd.array(ids[ev.stage[at - 1]], dtype="string"),
            "event_kind": pd.array(["stage"] * len(at), dtype="string"),
            "event_id": pd.array([None] * len(at), dtype="Int64"),
            "detail": pd.array(detail, dtype="string"),
        }
    )
    out["at"] = pd.to_datetime(out["at"], utc=True)
    for col in ("office", "worker"):
        if col in taken.columns:
            out[col] = pd.array(taken[col].astype("string").to_numpy(), dtype="string")
    return out


def deviations(log_or_store: Any, *, as_of: Any = None) -> pd.DataFrame:
    """Each departure from the practice, per case, with the event that shows it.

    From an event log (or a canonical event frame, rows in any order): the stage path only,

    * ``stage_skipped``: a forward move between helping stages that jumps over one or more
      (``detail`` names them; e.g. assessment straight to intervention skips the analysis);
    * ``moved_back``: a move to an earlier helping stage (rework).

    The first stage of a case and the first stage after a reopening are not judged (exports
    often start mid-way; a reopened case resumes where it needs to). From a :class:`CaseStore`:
    those for every case (imported ones included), plus for recorded cases

    * ``plan_before_analysis``: a plan step recorded before the analysis;
    * ``closed_without_termination_contract``: a closing with the termination-contract item
      unticked (``detail`` names the items);
    * ``contract_without_boundaries``: the case left intake before a service contract with its
      scope was signed;
    * ``follow_up_without_new_contract``: after a reopening the case went back into service
      before a new (follow-up) contract was signed.

    Parameters
    ----------
    log_or_store : EventLog, DataFrame or CaseStore
    as_of : date-like, optional
        Events after this moment are ignored (default: all).

    Returns
    -------
    DataFrame
        One row per deviation, by case and time: ``case_id, office, worker`` (at the event for
        logs, latest for store findings; NA when unknown), ``kind`` (see above), ``label_id,
        label_en``, ``at`` (UTC), ``stage`` (stage entered, or the case's stage then),
        ``from_stage`` (stage left, for stage moves), ``event_kind`` (``"stage"`` for a stage
        move, else the store event kind), ``event_id`` (store event, NA for stage moves),
        ``detail``.
    """
    if isinstance(log_or_store, CaseStore):
        store = log_or_store
        stage = _stage_deviations(store.stage_events(), as_of)
        _, findings = _review(store, as_of)
        found = _findings_frame([f for f in findings if f.kind in DEVIATION_KINDS], DEVIATION_KINDS)
        found = _with_case_columns(found, store)
        parts = [p for p in (stage, found) if len(p)]
        out = pd.concat(parts, ignore_index=True) if parts else found
    else:
        out = _stage_deviations(log_or_store, as_of)
    for col in ("office", "worker"):
        if col not in out.columns:
            out[col] = pd.array([None] * len(out), dtype="string")
    order = {k: i for i, k in enumerate(DEVIATION_KINDS)}
    out = out.assign(_k=out["kind"].map(order)).sort_values(["case_id", "at", "_k"], kind="stable")
    return out[_FINDING_COLUMNS].reset_index(drop=True)


def deviation_summary(
    deviations: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    min_count: int | None = None,
) -> pd.DataFrame:
    """How many cases departed from the practice in each way, per group.

    Parameters
    ----------
    deviations : DataFrame
        Output of :func:`deviations`.
    by : str or list of str, optional
        Group columns, e.g. ``"office"``, ``"worker"``, or ``"month"`` (the month of the event
        in Asia/Jakarta time, ``YYYY-MM``, made from ``at`` when the table has no such column).
        ``"kind"`` may be one of them, to place it among the groups (rows are always per kind).
    min_count : int, optional
        Suppress counts below this through :func:`pekso_toolkit.suppress_small_cells` (each
        kind's counts add up over the groups); None (default) publishes all.

    Returns
    -------
    DataFrame
        One row per group and kind found: the ``by`` columns, ``kind`` (after them, unless
        ``by`` names it), ``label_id, label_en``,
        ``n_cases`` (distinct cases with that deviation), ``n_deviations`` (events), then
        ``suppressed`` when ``min_count`` is given.
    """
    keys = as_list(by)
    table = deviations
    if "month" in keys and "month" not in table.columns:
        table = table.assign(
            month=table["at"].dt.tz_convert(DEFAULT_TZ).dt.strftime("%Y-%m").astype("string")
        )
    missing = [k for k in keys if k not in table.columns]
    if missing:
        raise AnalysisError(
            f"by: kolom {missing} tidak ada di tabel penyimpangan; pilih kolom yang ada, mis. "
            "'office' atau 'month'",
            f"by: column(s) {missing} are not in the deviations table; group by columns it has, "
            "e.g. 'office' or 'month'",
            field="by",
        )
    group_keys = keys if "kind" in keys else [*keys, "kind"]
    grouped = table.groupby(group_keys, sort=True, observed=True, dropna=False)
    out = grouped.agg(n_cases=("case_id", "nunique"), n_deviations=("case_id", "size"))
    out = out.reset_index()
    labels = {**DEVIATION_KINDS, **FINDING_KINDS}
    out.insert(len(group_keys), "label_id", out["kind"].map(lambda k: labels[k][0]))
    out.insert(len(group_keys) + 1, "label_en", out["kind"].map(lambda k: labels[k][1]))
    order = {k: i for i, k in enumerate(labels)}
    out = out.sort_values(
        group_keys, key=lambda s: s.map(order) if s.name == "kind" else s
    ).reset_index(drop=True)
    for col in ("n_cases", "n_deviations"):
        out[col] = out[col].astype("int64")
    if min_count is not None:
        out = suppress_small_cells(
            out, threshold=min_count, count_cols=["n_cases", "n_deviations"], margins=["kind"]
        )
    return out
