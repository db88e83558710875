"""The supervisor's worklist: which open case needs attention now, and why.

INTERNAL ONLY: the worklist names cases and workers. It is marked ``attrs["internal"] = True`` so
the publication gate refuses it; never put it in a published report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.stays.conformance import FINDING_KINDS, contract_checks, forgotten_steps
from pekso_toolkit.stays.durations import case_states, time_in_stage, to_utc
from pekso_toolkit.stays.supervision import overdue_cases
from pekso_toolkit.store.casestore import CaseStore
from pekso_toolkit.store.checks import BOUNDARY_KINDS, recorded_histories
from pekso_toolkit.store.fold import fold

__all__ = ["TASKS", "worklist"]

#: Task -> (label in Bahasa Indonesia, label in English).
TASKS: dict[str, tuple[str, str]] = {
    "past_target": ("Melewati target tahap", "Past the stage target"),
    "forgotten_step": ("Langkah terlupa", "Forgotten step"),
    "overdue_plan_step": ("Langkah rencana lewat tenggat", "Plan step overdue"),
    "contract_check": ("Batas kontrak perlu diperiksa", "Contract boundary to check"),
}

_COLUMNS = [
    "case_id",
    "office",
    "worker",
    "risk",
    "stage",
    "task",
    "what",
    "label_id",
    "label_en",
    "since",
    "days_late",
    "open_with",
]


def _open_cases(log: Any, as_of: pd.Timestamp) -> pd.Series:
    """Current stage or state at ``as_of`` of every case not closed then (index case_id)."""
    states = case_states(log, as_of=as_of)
    states = states[states["stage"] != log.model.closed_id]
    return pd.Series(states["stage"].to_numpy(), index=states["case_id"].to_numpy(), dtype="string")


def _days(later: pd.Timestamp, earlier: pd.Series) -> pd.Series:
    return (later - pd.to_datetime(earlier, utc=True)).dt.total_seconds() / 86400.0


def worklist(
    store: CaseStore,
    *,
    as_of: Any = None,
    targets: Mapping[str, float] | None = None,
    days: Literal["calendar", "working"] | None = None,
) -> pd.DataFrame:
    """What each open case needs now, most urgent first. **Internal only**.

    Four kinds of task, for cases open at ``as_of``:

    * ``past_target``: the case waits in its stage longer than the stage target (from
      :func:`pekso_toolkit.time_in_stage` and :func:`pekso_toolkit.overdue_cases`, the one
      definition of a stay);
    * ``forgotten_step``: a ★ checklist item that was unticked at its checkpoint and is still
      unticked (see :func:`pekso_toolkit.forgotten_steps`);
    * ``overdue_plan_step``: a plan step not completed by its due date;
    * ``contract_check``: a contract-boundary finding (see :func:`pekso_toolkit.contract_checks`).

    Parameters
    ----------
    store : CaseStore
    as_of : date-like, optional
        The moment of the worklist (default: the store's clock, i.e. now).
    targets : mapping, optional
        Stage id -> target days (default: the stage model's targets).
    days : {"calendar", "working"}, optional
        Unit of the stays for the targets (as in :func:`pekso_toolkit.time_in_stage`); default:
        the unit of the stage model's targets (``store.model.target_unit``), as on
        :class:`pekso_toolkit.widgets.CaseBoard`.

    Returns
    -------
    DataFrame
        One row per task: ``case_id`` (open it with ``pk.widgets.StageChecklist(store,
        case_id)``), ``office, worker, risk`` (latest), ``stage`` (current), ``task`` (see
        above), ``what`` (the stage, checklist item, plan step or finding kind), ``label_id,
        label_en`` (what it is, in words), ``since`` (UTC: stage entered, checkpoint passed, due
        date, finding's event), ``days_late`` (urgency, in days: days past the stage target,
        days since the step was forgotten, days past the due date, days since the finding),
        ``open_with`` (the line that opens the case's checklist). Sorted by ``days_late``,
        largest first. ``attrs``: ``internal`` (True: never publish), ``as_of``.
    """
    moment: datetime = store._now() if as_of is None else to_utc(as_of).to_pydatetime()
    now = pd.Timestamp(moment).tz_convert("UTC")
    log = store.stage_events()
    open_stage = _open_cases(log, now)
    cases = store.cases().set_index("case_id")
    parts: list[pd.DataFrame] = []

    unit = days or ("working" if store.model.target_unit == "working" else "calendar")
    stays = time_in_stage(log, as_of=now, days=unit)
    late = overdue_cases(stays, as_of=now, targets=targets, model=store.model)
    late = late[late["case_id"].isin(open_stage.index)]
    labels = {s.id: (s.label_id, s.label_en) for s in store.model.stages}
    parts.append(
        pd.DataFrame(
            {
                "case_id": late["case_id"].astype(str),
                "task": "past_target",
                "what": late["stage"].astype(str),
                "label_id": [labels[s][0] for s in late["stage"].astype(str)],
                "label_en": [labels[s][1] for s in late["stage"].astype(str)],
                "since": pd.to_datetime(late["entered_at"], utc=True),
                "days_late": late["days_over"].astype("float64"),
            }
        )
    )

    steps = forgotten_steps(store, as_of=now)
    ticked_now: set[tuple[str, str]] = set()
    histories = recorded_histories(store, as_of=moment)
    states = {cid: fold(events, store.model) for cid, events in histories.items()}
    for cid, state in states.items():
        ticked_now |= {(cid, t.item_id) for t in state.ticks}
    still = [(c, i) not in ticked_now for c, i in zip(steps["case_id"], steps["item"], strict=True)]
    gone = steps[steps["forgotten"].to_numpy() & np.asarray(still, dtype=bool)]
    gone = gone[gone["case_id"].isin(open_stage.index)]
    parts.append(
        pd.DataFrame(
            {
                "case_id": gone["case_id"].astype(str),
                "task": "forgotten_step",
                "what": gone["item"].astype(str),
                "label_id": gone["label_id"].astype(str),
                "label_en": gone["label_en"].astype(str),
                "since": gone["forgotten_at"],
                "days_late": _days(now, gone["forgotten_at"]),
            }
        )
    )

    today = now.tz_convert(DEFAULT_TZ).date()
    rows = []
    for cid, state in states.items():
        if cid not in open_stage.index:
            continue
        for step in state.plan_steps:
            if step.completed_at is None and step.due < today:
                due = pd.Timestamp(step.due).tz_localize(DEFAULT_TZ).tz_convert("UTC")
                rows.append((cid, step.step_id, step.text or "", due))
    plan = pd.DataFrame(rows, columns=["case_id", "what", "text", "since"])
    plan["since"] = pd.to_datetime(plan["since"], utc=True)
    parts.append(
        pd.DataFrame(
            {
                "case_id": plan["case_id"],
                "task": "overdue_plan_step",
                "what": plan["what"],
                "label_id": "Langkah rencana: " + plan["text"],
                "label_en": "Plan step: " + plan["text"],
                "since": plan["since"],
                "days_late": _days(now, plan["since"]),
            }
        )
    )

    found = contract_checks(store, as_of=now)
    found = found[found["case_id"].isin(open_stage.index) & found["kind"].isin(BOUNDARY_KINDS)]
    parts.append(
        pd.DataFrame(
            {
                "case_id": found["case_id"].astype(str),
                "task": "contract_check",
                "what": found["kind"].astype(str),
                "label_id": [
                    f"{FINDING_KINDS[k][0]} ({d})"
                    for k, d in zip(found["kind"], found["detail"], strict=True)
                ],
                "label_en": [
                    f"{FINDING_KINDS[k][1]} ({d})"
                    for k, d in zip(found["kind"], found["detail"], strict=True)
                ],
                "since": found["at"],
                "days_late": _days(now, found["at"]),
            }
        )
    )

    out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    for col in ("office", "worker", "risk"):
        out[col] = out["case_id"].map(cases[col]).astype("string")
    out["stage"] = out["case_id"].map(open_stage).astype("string")
    out["open_with"] = [f"pk.widgets.StageChecklist(store, {c!r})" for c in out["case_id"]]
    for col in ("case_id", "task", "what", "label_id", "label_en"):
        out[col] = out[col].astype("string")
    out["since"] = pd.to_datetime(out["since"], utc=True)
    out["days_late"] = out["days_late"].astype("float64")
    order = {t: i for i, t in enumerate(TASKS)}
    out = out.assign(_t=out["task"].map(order))
    out = out.sort_values(["days_late", "_t", "case_id"], ascending=[False, True, True])
    out = out[_COLUMNS].reset_index(drop=True)
    out.attrs["internal"] = True
    out.attrs["as_of"] = now
    return out
