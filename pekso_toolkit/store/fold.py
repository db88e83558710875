"""Case state derived from events: :func:`fold` is a pure function of a case's event history.

Nothing in the store is ever overwritten; the current state of a case is what you get by
replaying its events in recording order (``event_id``), skipping events that a correction voided.
Replaying the same events always gives the same :class:`CaseState`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store.records import (
    Closure,
    Contract,
    ContractVersion,
    Event,
    Flag,
    PlanStep,
    Problem,
    Reopening,
    StageEntry,
    Tick,
)
from pekso_toolkit.store.state import CaseState

__all__ = ["FLAG_KINDS", "KINDS", "analysis_stage", "fold", "forgotten_item_ids"]

#: The kinds of events the store writes.
KINDS = (
    "case_opened",
    "problem_added",
    "problem_referred",
    "contract_signed",
    "contract_amended",
    "contract_followed_up",
    "item_ticked",
    "item_unticked",
    "stage_entered",
    "plan_step_added",
    "plan_step_completed",
    "case_closed",
    "case_reopened",
    "event_corrected",
    "stage_imported",
    "case_voided",
)
#: Flags raised by the fold (the practice's often-forgotten steps).
FLAG_KINDS = ("no_contract_scope", "skipped_analysis", "closed_without_termination_items")


# ---------------------------------------------------------------------------------------- fold
def analysis_stage(model: StageModel) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(analysis stage, the helping stage after it, analysis item ids) of a model.

    The analysis stage is the first stage holding an item marked ``forgotten: analysis``.
    """
    helping = [s.id for s in model.helping_stages]
    for stage in model.helping_stages:
        items = tuple(i.id for i in stage.checklist if i.forgotten == "analysis")
        if items:
            pos = helping.index(stage.id)
            after = helping[pos + 1] if pos + 1 < len(helping) else None
            return stage.id, after, items
    return None, None, ()


def forgotten_item_ids(model: StageModel) -> tuple[str, ...]:
    """Ids of every often-forgotten checklist item, in model order."""
    return tuple(i.id for _, i in model.forgotten_items)


class _Builder:
    """Mutable working state of :func:`fold`."""

    def __init__(self, case_id: str, model: StageModel) -> None:
        self.case_id = case_id
        self.model = model
        self.source = "imported"
        self.attrs: dict[str, Any] = dict.fromkeys(
            ("office", "worker", "risk", "referral_source", "story", "opened_at")
        )
        self.imported_category: str | None = None
        self.stages: list[StageEntry] = []
        self.problems: dict[str, dict[str, Any]] = {}
        self.contracts: list[dict[str, Any]] = []
        self.ticks: dict[str, Tick] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        self.closures: list[Closure] = []
        self.reopenings: list[Reopening] = []
        self.flags: list[Flag] = []
        self.first = model.helping_stages[0].id
        self.analysis, self.intervention, self.analysis_items = analysis_stage(model)
        self.forgotten = forgotten_item_ids(model)

    # ------------------------------------------------------------------ stages
    def enter(self, ev: Event, stage: str) -> None:
        model = self.model
        if self.source == "recorded":
            self._flag_on_entry(ev, stage)
        self.stages.append(StageEntry(stage, ev.at, ev.recorded_by, ev.event_id, ev.kind))
        if self.attrs["opened_at"] is None:
            self.attrs["opened_at"] = ev.at
        if stage == model.closed_id and ev.kind != "case_closed":  # closure from an import
            self.closures.append(Closure(ev.at, ev.recorded_by, "", "", (), ev.event_id))
        if stage == model.reopened_id and ev.kind != "case_reopened":
            self.reopenings.append(Reopening(ev.at, ev.recorded_by, "", ev.event_id))

    def _flag_on_entry(self, ev: Event, stage: str) -> None:
        flagged = {f.flag for f in self.flags}
        if (
            stage not in (self.first, self.model.reopened_id)
            and not self.contracts
            and "no_contract_scope" not in flagged
        ):
            self.flags.append(Flag("no_contract_scope", ev.at, ev.event_id))
        if self.intervention is not None and stage == self.intervention:
            analysed = any(s.stage == self.analysis for s in self.stages) and any(
                i in self.ticks for i in self.analysis_items
            )
            if not analysed:
                self.flags.append(Flag("skipped_analysis", ev.at, ev.event_id))
        if stage == self.model.closed_id:
            missing = tuple(i for i in self.forgotten if i not in self.ticks)
            if missing:
                self.flags.append(
                    Flag("closed_without_termination_items", ev.at, ev.event_id, missing)
                )

    # ------------------------------------------------------------------ events
    def apply(self, ev: Event) -> None:
        p = ev.payload
        kind = ev.kind
        if kind == "case_opened":
            self.source = "recorded"
            for key in ("office", "worker", "risk", "referral_source", "story"):
                self.attrs[key] = p.get(key)
            self.attrs["opened_at"] = ev.at
            self.enter(ev, ev.stage or p.get("stage") or self.first)
        elif kind == "stage_imported":
            # an import never changes what was recorded at the opening (office, worker)
            for key in ("office", "worker") if self.source != "recorded" else ():
                if p.get(key) is not None:
                    self.attrs[key] = str(p[key])
            if p.get("category") is not None:
                self.imported_category = str(p["category"])
            self.enter(ev, ev.stage or p["stage"])
        elif kind == "stage_entered":
            self.enter(ev, ev.stage or p["stage"])
        elif kind == "case_closed":
            self.enter(ev, ev.stage or p.get("stage") or str(self.model.closed_id))
            missing = tuple(i for i in self.forgotten if i not in self.ticks)
            self.closures.append(
                Closure(
                    ev.at,
                    ev.recorded_by,
                    str(p.get("termination_contract", "")),
                    str(p.get("reason", "")),
                    missing,
                    ev.event_id,
                )
            )
            if self.contracts and self.contracts[-1]["terminated_at"] is None:
                self.contracts[-1]["terminated_at"] = ev.at
                self.contracts[-1]["termination"] = str(p.get("termination_contract", ""))
        elif kind == "case_reopened":
            self.enter(ev, ev.stage or p.get("stage") or str(self.model.reopened_id))
            self.reopenings.append(
                Reopening(ev.at, ev.recorded_by, str(p.get("reason", "")), ev.event_id)
            )
        elif kind == "problem_added":
            self.problems[p["problem_id"]] = {
                "problem_id": p["problem_id"],
                "text": p.get("text"),
                "category": p.get("category"),
                "severity": p.get("severity"),
                "added_at": ev.at,
                "added_by": ev.recorded_by,
                "referred_to": None,
                "referred_at": None,
                "n_amendments": 0,
            }
        elif kind == "problem_referred":
            prob = self.problems.get(p["problem_id"])
            if prob is not None:
                prob["referred_to"] = p.get("to")
                prob["referred_at"] = ev.at
        elif kind in ("contract_signed", "contract_followed_up"):
            if kind == "contract_followed_up" and self.contracts:
                last = self.contracts[-1]
                if last["terminated_at"] is None:
                    last["terminated_at"] = ev.at
                    last["termination"] = str(
                        p.get("termination_contract") or p.get("reason") or ""
                    )
            version = ContractVersion(
                1,
                tuple(p.get("in_scope", ())),
                tuple(p.get("out_of_scope", ())),
                ev.at,
                ev.recorded_by,
                ev.event_id,
                reason=p.get("reason"),
            )
            self.contracts.append(
                {
                    "contract_id": p["contract_id"],
                    "capacity_note": p.get("capacity_note", ""),
                    "versions": [version],
                    "follows": p.get("follows"),
                    "terminated_at": None,
                    "termination": None,
                }
            )
        elif kind == "contract_amended":
            self._amend(ev)
        elif kind == "item_ticked":
            item = p["item"]
            stage = self.model.item(item)[0].id if self.model.has_item(item) else ""
            derived = p.get("derived_from") is not None
            self.ticks[item] = Tick(item, stage, ev.at, ev.recorded_by, ev.event_id, derived)
        elif kind == "item_unticked":
            self.ticks.pop(p["item"], None)
        elif kind == "plan_step_added":
            self.steps[p["step_id"]] = {
                "step_id": p["step_id"],
                "text": p.get("text"),
                "due": date.fromisoformat(p["due"]),
                "added_at": ev.at,
                "added_by": ev.recorded_by,
                "completed_at": None,
                "completed_by": None,
            }
        elif kind == "plan_step_completed":
            step = self.steps.get(p["step_id"])
            if step is not None:
                step["completed_at"] = ev.at
                step["completed_by"] = ev.recorded_by
        # event_corrected is handled by fold(); unknown kinds (newer toolkits) are ignored

    def _amend(self, ev: Event) -> None:
        """A contract amendment: a new version of the contract in force."""
        p = ev.payload
        if not self.contracts:
            return
        contract = self.contracts[-1]
        cur: ContractVersion = contract["versions"][-1]
        add = tuple(p.get("add", ()))
        drop = tuple(p.get("drop", ()))
        in_scope = tuple(x for x in cur.in_scope if x not in drop) + tuple(
            x for x in add if x not in cur.in_scope
        )
        out = tuple(x for x in cur.out_of_scope if x not in add) + tuple(
            x for x in drop if x not in cur.out_of_scope
        )
        contract["versions"].append(
            ContractVersion(
                cur.version + 1,
                in_scope,
                out,
                ev.at,
                ev.recorded_by,
                ev.event_id,
                reason=p.get("reason"),
                client_agreed=p.get("client_agreed"),
                added=add,
                dropped=drop,
            )
        )
        for pid in set(add) | set(drop):
            if pid in self.problems:
                self.problems[pid]["n_amendments"] += 1

    def freeze(self, n_events: int, last_event_id: int, voided: tuple[int, ...]) -> CaseState:
        contracts = tuple(
            Contract(
                c["contract_id"],
                c["capacity_note"],
                tuple(c["versions"]),
                c["follows"],
                c["terminated_at"],
                c["termination"],
            )
            for c in self.contracts
        )
        latest = contracts[-1] if contracts else None
        problems = []
        for prob in self.problems.values():
            scope = None
            if latest is not None:
                if prob["problem_id"] in latest.in_scope:
                    scope = "in"
                elif prob["problem_id"] in latest.out_of_scope:
                    scope = "out"
            problems.append(Problem(scope=scope, **prob))
        entries = tuple(self.stages)
        return CaseState(
            case_id=self.case_id,
            source=self.source,
            office=self.attrs["office"],
            worker=self.attrs["worker"],
            risk=self.attrs["risk"],
            referral_source=self.attrs["referral_source"],
            story=self.attrs["story"],
            opened_at=self.attrs["opened_at"],
            stage=entries[-1].stage if entries else None,
            stage_entered_at=entries[-1].at if entries else None,
            stages=entries,
            problems=tuple(problems),
            contracts=contracts,
            ticks=tuple(sorted(self.ticks.values(), key=lambda t: t.event_id)),
            plan_steps=tuple(PlanStep(**s) for s in self.steps.values()),
            closures=tuple(self.closures),
            reopenings=tuple(self.reopenings),
            flags=tuple(self.flags),
            imported_category=self.imported_category,
            n_events=n_events,
            last_event_id=last_event_id,
            voided=voided,
            model=self.model,
        )


def fold(events: Iterable[Event], model: StageModel | None = None) -> CaseState:
    """Replay a case's events into its state.

    Parameters
    ----------
    events : iterable of Event
        The events of one case, in any order (they are replayed by ``event_id``).
    model : StageModel, optional
        The stage model (default :meth:`StageModel.default`); it says which checklist items are
        often forgotten and which stages count as analysis and intervention.

    Returns
    -------
    CaseState
        Events voided by an ``event_corrected`` event are skipped (they stay in the history).
        Flags are raised while replaying: ``no_contract_scope`` when the case first leaves the
        first helping stage with no contract signed; ``skipped_analysis`` at each entry into the
        stage after the analysis stage when the analysis stage was never entered or no analysis
        item is ticked; ``closed_without_termination_items`` at each closing with unticked
        often-forgotten items. Imported cases (no ``case_opened`` event) raise no flags. A case
        with a ``case_voided`` event (opened by mistake) folds to ``case_voided=True`` with every
        other event voided.

    Raises
    ------
    ValueError
        When the events belong to more than one case, or there are none.
    """
    model = model or StageModel.default()
    ordered = sorted(events, key=lambda e: e.event_id)
    if not ordered:
        raise ValueError("fold() needs at least one event")
    case_ids = {e.case_id for e in ordered}
    if len(case_ids) > 1:
        raise ValueError(f"fold() replays one case at a time, got {sorted(case_ids)[:5]}")
    voided = {e.voids for e in ordered if e.kind == "event_corrected" and e.voids is not None}
    builder = _Builder(ordered[0].case_id, model)
    case_voided = any(e.kind == "case_voided" for e in ordered)
    if case_voided:  # opened by mistake: nothing of it counts; the events stay in the history
        voided |= {e.event_id for e in ordered if e.kind != "case_voided"}
    # the source is known from the first event, before any flag is considered
    if any(e.kind == "case_opened" for e in ordered):
        builder.source = "recorded"
    for ev in ordered:
        if ev.event_id in voided or ev.kind in ("event_corrected", "case_voided"):
            continue
        builder.apply(ev)
    state = builder.freeze(len(ordered), ordered[-1].event_id, tuple(sorted(voided)))
    return replace(state, case_voided=True) if case_voided else state
