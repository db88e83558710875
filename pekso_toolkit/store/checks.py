"""Practice checks of recorded cases, replayed from each case's event history.

:func:`review_case` walks one case's events in recording order (``event_id``) and says

* for every often-forgotten (★) checklist item whether the case reached the item's checkpoint and
  whether the item was unticked there (:class:`StepCheck`);
* every contract-boundary finding and every departure from the practice that only a case store can
  show (:class:`Finding`).

Checkpoints of the ★ items (the moment by which the item must be ticked):

* items of the first helping stage (capacity judged, service contract signed): the case **leaves
  intake** (its first entry into any other stage or state except a reopening);
* ``analysis`` items: each entry into the stage after the analysis stage (**entered
  intervention**);
* ``termination_contract`` items: each **closing**;
* other ``contract_boundaries`` items (the scope-change item): apply only when the scope
  changed, i.e. after a contract amendment; checked at the case's next stage change or closing
  (**scope changed**). A case whose scope never changed never counts;
* any other ★ item: the case's first move out of the item's stage (**left stage**).

Imported cases (no ``case_opened`` event) have no checklist and are not reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pekso_toolkit.core.stages import ChecklistItem, StageModel
from pekso_toolkit.store.fold import analysis_stage
from pekso_toolkit.store.frames import EVENT_COLUMNS, NOT_VOIDED
from pekso_toolkit.store.records import Event
from pekso_toolkit.store.schema import to_iso

__all__ = [
    "CHECKPOINTS",
    "FINDING_KINDS",
    "Finding",
    "StepCheck",
    "checkpoint_of",
    "recorded_histories",
    "review_case",
]

#: Checkpoint id -> (label in Bahasa Indonesia, label in English).
CHECKPOINTS: dict[str, tuple[str, str]] = {
    "left_intake": ("meninggalkan proses awal", "left intake"),
    "entered_intervention": ("masuk intervensi", "entered intervention"),
    "closed": ("ditutup", "closed"),
    "scope_changed": ("cakupan kontrak diubah", "scope of the contract changed"),
    "left_stage": ("meninggalkan tahap butir ini", "left the item's stage"),
}

#: Finding kind -> (label in Bahasa Indonesia, label in English).
FINDING_KINDS: dict[str, tuple[str, str]] = {
    "undecided_at_signing": (
        "Masalah belum diputuskan (dalam/di luar cakupan) saat kontrak ditandatangani",
        "Problem left undecided (in or out of scope) at signing",
    ),
    "added_without_amendment": (
        "Masalah ditambahkan setelah kontrak tanpa amandemen",
        "Problem added after signing without an amendment",
    ),
    "out_of_scope_not_referred": (
        "Masalah di luar cakupan tidak pernah dirujuk",
        "Out-of-scope problem never referred",
    ),
    "plan_before_analysis": (
        "Langkah rencana dicatat sebelum analisa masalah",
        "Plan step recorded before the analysis",
    ),
    "closed_without_termination_contract": (
        "Ditutup tanpa kontrak pengakhiran layanan",
        "Closed without a termination contract",
    ),
    "contract_without_boundaries": (
        "Meninggalkan proses awal tanpa kontrak layanan berbatas cakupan",
        "Left intake without a service contract with boundaries",
    ),
    "follow_up_without_new_contract": (
        "Layanan lanjutan tanpa kontrak baru",
        "Follow-up service without a new contract",
    ),
}

#: The contract-boundary kinds among :data:`FINDING_KINDS`.
BOUNDARY_KINDS = (
    "undecided_at_signing",
    "added_without_amendment",
    "out_of_scope_not_referred",
    "plan_before_analysis",
)

_STAGE_KINDS = ("case_opened", "stage_entered", "stage_imported", "case_closed", "case_reopened")


@dataclass(frozen=True)
class StepCheck:
    """One ★ checklist item of one case at its checkpoint.

    ``reached`` says whether the case reached the checkpoint (``reached_at``: first time);
    ``forgotten`` whether the item was unticked at the checkpoint (at ``forgotten_at``, event
    ``event_id``, the first such time). An item whose checkpoint was not reached is never
    forgotten.
    """

    case_id: str
    item: str
    step: str
    checkpoint: str
    reached: bool
    reached_at: datetime | None
    forgotten: bool
    forgotten_at: datetime | None
    event_id: int | None


@dataclass(frozen=True)
class Finding:
    """A contract-boundary finding or a departure from the practice, with the event showing it.

    ``stage`` is the stage the case entered (stage events) or was in; ``event_kind`` the store
    event kind; ``detail`` names the problem, contract or items concerned.
    """

    case_id: str
    kind: str
    at: datetime
    event_id: int
    stage: str | None
    event_kind: str
    detail: str


def checkpoint_of(stage_id: str, item: ChecklistItem, model: StageModel) -> str:
    """The checkpoint of a ★ item (see the module documentation)."""
    if stage_id == model.helping_stages[0].id:
        return "left_intake"
    if item.forgotten == "analysis":
        return "entered_intervention"
    if item.forgotten == "termination_contract":
        return "closed"
    if item.forgotten == "contract_boundaries":
        return "scope_changed"
    return "left_stage"


def recorded_histories(store: Any, *, as_of: Any = None) -> dict[str, list[Event]]:
    """The events of every recorded case (voided ones and corrections left out), by case.

    ``as_of`` (UTC datetime, optional): events dated after it are left out.
    """
    with store._read() as conn:  # the store's own snapshot read
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {NOT_VOIDED} "  # noqa: S608 (constant SQL)
            "AND kind != 'event_corrected' AND case_id IN "
            "(SELECT case_id FROM events WHERE kind = 'case_opened') "
            "ORDER BY case_id, event_id"
        ).fetchall()
    limit = None if as_of is None else to_iso(as_of)
    out: dict[str, list[Event]] = {}
    for row in rows:
        if limit is not None and row[3] > limit:
            continue
        out.setdefault(row[1], []).append(Event.from_row(row))
    return out


class _Item:
    def __init__(self, stage: str, item: ChecklistItem, checkpoint: str) -> None:
        self.stage = stage
        self.item = item
        self.checkpoint = checkpoint
        self.reached_at: datetime | None = None
        self.forgotten: tuple[datetime, int] | None = None

    def check(self, ticks: set[str], ev: Event) -> None:
        if self.reached_at is None:
            self.reached_at = ev.at
        if self.item.id not in ticks and self.forgotten is None:
            self.forgotten = (ev.at, ev.event_id)


def review_case(
    events: Sequence[Event] | Iterable[Event], model: StageModel
) -> tuple[list[StepCheck], list[Finding]]:
    """Replay one recorded case's events; return its ★-item checks and its findings.

    Parameters
    ----------
    events : sequence of Event
        The case's non-voided events (any order; replayed by ``event_id``).
    model : StageModel
        The store's stage model.

    Returns
    -------
    (list of StepCheck, list of Finding)
        One :class:`StepCheck` per ★ item of the model; findings in event order (kinds of
        :data:`FINDING_KINDS`).
    """
    ordered = sorted(events, key=lambda e: e.event_id)
    case_id = ordered[0].case_id if ordered else ""
    helping = [s.id for s in model.helping_stages]
    first = helping[0]
    closed, reopened = model.closed_id, model.reopened_id
    analysis, intervention, analysis_items = analysis_stage(model)
    items = [
        _Item(stage.id, item, checkpoint_of(stage.id, item, model))
        for stage, item in model.forgotten_items
    ]
    termination_items = [i.item.id for i in items if i.checkpoint == "closed"]
    findings: list[Finding] = []
    ticks: set[str] = set()
    stage: str | None = None
    left_intake = False
    signed_ever = False
    contract: dict[str, Any] | None = None  # the contract in force
    contract_since_reopen = True
    after_reopen = False
    analysed_in_episode = False
    scope_changed_pending = False
    problems: dict[str, dict[str, Any]] = {}

    def add(kind: str, ev: Event, detail: str = "", at_stage: str | None = None) -> None:
        findings.append(
            Finding(case_id, kind, ev.at, ev.event_id, at_stage or stage, ev.kind, detail)
        )

    def place(pid: str, scope: str, ev: Event) -> None:
        prob = problems.get(pid)
        if prob is not None:
            prob["scope"] = scope
            prob["placed_by"] = ev
            prob["pending"] = False

    for ev in ordered:
        p = ev.payload
        kind = ev.kind
        if kind in _STAGE_KINDS:
            new = ev.stage or p.get("stage")
            if kind == "case_opened":
                new = new or first
            elif kind == "case_closed":
                new = new or closed
            elif kind == "case_reopened":
                new = new or reopened
            if new is None:
                continue
            is_leave = stage is not None and new not in (first, reopened)
            # checkpoints are judged before the entry takes effect
            for it in items:
                cp = it.checkpoint
                if (
                    (cp == "left_intake" and is_leave and not left_intake)
                    or (cp == "entered_intervention" and new == intervention)
                    or (cp == "closed" and new == closed)
                    or (cp == "scope_changed" and scope_changed_pending and stage is not None)
                    or (cp == "left_stage" and stage == it.stage and new != it.stage)
                ):
                    it.check(ticks, ev)
            if stage is not None:
                scope_changed_pending = False  # judged at this first stage change
            if is_leave and not left_intake:
                left_intake = True
                if not signed_ever:
                    add("contract_without_boundaries", ev, "", new)
            if new == closed:
                missing = [i for i in termination_items if i not in ticks]
                text = str(p.get("termination_contract") or "").strip()
                if missing or (kind == "case_closed" and not text):
                    add(
                        "closed_without_termination_contract",
                        ev,
                        ";".join(missing) or "termination_contract",
                        new,
                    )
                contract = None
            elif new == reopened:
                after_reopen = True
                contract_since_reopen = False
                analysed_in_episode = False
            elif new in helping and after_reopen:
                after_reopen = False
                if not contract_since_reopen:
                    add("follow_up_without_new_contract", ev, "", new)
            if new == analysis:
                analysed_in_episode = True
            stage = new
        elif kind in ("item_ticked", "item_unticked"):
            if kind == "item_ticked":
                ticks.add(p["item"])
            else:
                ticks.discard(p["item"])
        elif kind == "problem_added":
            pending = contract is not None
            problems[p["problem_id"]] = {
                "added": ev,
                "scope": None,
                "placed_by": None,
                "pending": pending,
                "referred": False,
                "stage": stage,
            }
        elif kind == "problem_referred":
            if p["problem_id"] in problems:
                problems[p["problem_id"]]["referred"] = True
        elif kind in ("contract_signed", "contract_followed_up"):
            signed_ever = True
            contract_since_reopen = True
            inside = [str(x) for x in p.get("in_scope", ())]
            outside = [str(x) for x in p.get("out_of_scope", ())]
            contract = {"contract_id": str(p.get("contract_id", ""))}
            for pid in inside:
                place(pid, "in", ev)
            for pid in outside:
                place(pid, "out", ev)
            for pid, prob in problems.items():
                if pid not in inside and pid not in outside and not prob["referred"]:
                    add("undecided_at_signing", ev, f"{pid} ({contract['contract_id']})")
                    prob["pending"] = False  # counted here, not again as added later
        elif kind == "contract_amended":
            for pid in p.get("add", ()):
                place(str(pid), "in", ev)
            for pid in p.get("drop", ()):
                place(str(pid), "out", ev)
            scope_changed_pending = True
        elif kind == "plan_step_added":
            analysed = analysed_in_episode and any(i in ticks for i in analysis_items)
            if analysis is not None and not analysed:
                add("plan_before_analysis", ev, str(p.get("step_id", "")))
    for pid, prob in problems.items():
        if prob["pending"]:
            add_ev: Event = prob["added"]
            findings.append(
                Finding(
                    case_id,
                    "added_without_amendment",
                    add_ev.at,
                    add_ev.event_id,
                    prob["stage"],
                    add_ev.kind,
                    pid,
                )
            )
        if prob["scope"] == "out" and not prob["referred"]:
            by: Event = prob["placed_by"]
            findings.append(
                Finding(
                    case_id, "out_of_scope_not_referred", by.at, by.event_id, None, by.kind, pid
                )
            )
    findings.sort(key=lambda f: f.event_id)
    checks = [
        StepCheck(
            case_id,
            it.item.id,
            str(it.item.forgotten),
            it.checkpoint,
            it.reached_at is not None,
            it.reached_at,
            it.forgotten is not None,
            None if it.forgotten is None else it.forgotten[0],
            None if it.forgotten is None else it.forgotten[1],
        )
        for it in items
    ]
    return checks, findings
