"""Case state derived from events: :func:`fold` is a pure function of a case's event history.

Nothing in the store is ever overwritten; the current state of a case is what you get by
replaying its events in recording order (``event_id``), skipping events that a correction voided.
Replaying the same events always gives the same :class:`CaseState`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pekso_toolkit.i18n import bilingual, pick
from pekso_toolkit.stages import StageModel
from pekso_toolkit.store_schema import from_iso

__all__ = [
    "CaseState",
    "Closure",
    "Contract",
    "ContractVersion",
    "Event",
    "Flag",
    "PlanStep",
    "Problem",
    "Reopening",
    "StageEntry",
    "Tick",
    "fold",
]

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
)
#: Flags raised by the fold (the practice's often-forgotten steps).
FLAG_KINDS = ("no_contract_scope", "skipped_analysis", "closed_without_termination_items")


@dataclass(frozen=True)
class Event:
    """One stored event (a row of the ``events`` table, payload parsed)."""

    event_id: int
    case_id: str
    kind: str
    at: datetime
    recorded_at: datetime
    recorded_by: str
    payload: Mapping[str, Any]
    stage: str | None = None
    voids: int | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Event:
        """Build from ``(event_id, case_id, kind, at, recorded_at, recorded_by, payload, stage,
        voids)`` as stored."""
        eid, case_id, kind, at, rec_at, rec_by, payload, stage, voids = row
        return cls(
            int(eid),
            case_id,
            kind,
            from_iso(at),
            from_iso(rec_at),
            rec_by,
            json.loads(payload),
            stage,
            voids,
        )


@dataclass(frozen=True)
class StageEntry:
    """The case entered ``stage`` at ``at`` (recorded by ``by`` in event ``event_id``)."""

    stage: str
    at: datetime
    by: str
    event_id: int
    kind: str


@dataclass(frozen=True)
class Problem:
    """A problem of the client's story, as the worker described it.

    ``scope`` is ``"in"`` or ``"out"`` in the latest contract, None when no contract places it.
    """

    problem_id: str
    text: str
    category: str | None
    severity: str | None
    added_at: datetime
    added_by: str
    scope: str | None = None
    referred_to: str | None = None
    referred_at: datetime | None = None
    n_amendments: int = 0


@dataclass(frozen=True)
class ContractVersion:
    """One version of a service contract: version 1 is the signed contract, later ones amendments.

    ``reason`` and ``client_agreed`` are set for amendments; ``added``/``dropped`` list the problems
    an amendment moved into or out of scope.
    """

    version: int
    in_scope: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    at: datetime
    by: str
    event_id: int
    reason: str | None = None
    client_agreed: bool | None = None
    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    """A service contract with every version kept; ``follows`` links a follow-up contract to the
    contract it continues."""

    contract_id: str
    capacity_note: str
    versions: tuple[ContractVersion, ...]
    follows: str | None = None
    terminated_at: datetime | None = None
    termination: str | None = None

    @property
    def current(self) -> ContractVersion:
        """The latest version."""
        return self.versions[-1]

    @property
    def in_scope(self) -> tuple[str, ...]:
        """Problem ids in scope in the latest version."""
        return self.current.in_scope

    @property
    def out_of_scope(self) -> tuple[str, ...]:
        """Problem ids out of scope in the latest version."""
        return self.current.out_of_scope

    @property
    def active(self) -> bool:
        """True until the contract is ended by a termination contract or a follow-up."""
        return self.terminated_at is None

    @property
    def n_amendments(self) -> int:
        """Number of amendments (versions after the first)."""
        return len(self.versions) - 1


@dataclass(frozen=True)
class Tick:
    """A ticked checklist item."""

    item_id: str
    stage: str
    ticked_at: datetime
    ticked_by: str
    event_id: int


@dataclass(frozen=True)
class PlanStep:
    """An ordered intervention step with a due date."""

    step_id: str
    text: str
    due: date
    added_at: datetime
    added_by: str
    completed_at: datetime | None = None
    completed_by: str | None = None


@dataclass(frozen=True)
class Closure:
    """A closing of the case with its termination contract.

    ``unticked_forgotten`` lists the often-forgotten checklist items left unticked at closing.
    """

    at: datetime
    by: str
    termination_contract: str
    reason: str
    unticked_forgotten: tuple[str, ...]
    event_id: int


@dataclass(frozen=True)
class Reopening:
    """A reopening of a closed case."""

    at: datetime
    by: str
    reason: str
    event_id: int


@dataclass(frozen=True)
class Flag:
    """An often-forgotten step that was skipped: ``flag`` is one of ``no_contract_scope``,
    ``skipped_analysis``, ``closed_without_termination_items``; ``items`` names unticked items."""

    flag: str
    at: datetime
    event_id: int
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseState:
    """The state of one case, folded from its events. Read-only.

    The client reference is not part of the state; it is attached (``client_ref``) only when
    asked for with ``CaseStore.case(case_id, with_client=True)``.
    """

    case_id: str
    source: str
    office: str | None
    worker: str | None
    risk: str | None
    referral_source: str | None
    story: str | None
    opened_at: datetime | None
    stage: str | None
    stage_entered_at: datetime | None
    stages: tuple[StageEntry, ...]
    problems: tuple[Problem, ...]
    contracts: tuple[Contract, ...]
    ticks: tuple[Tick, ...]
    plan_steps: tuple[PlanStep, ...]
    closures: tuple[Closure, ...]
    reopenings: tuple[Reopening, ...]
    flags: tuple[Flag, ...]
    imported_category: str | None
    n_events: int
    last_event_id: int
    voided: tuple[int, ...]
    client_ref: str | None = field(default=None, repr=False)
    model: StageModel | None = field(default=None, repr=False, compare=False)

    # ---------------------------------------------------------------- derived
    @property
    def closed(self) -> bool:
        """True while the case is closed (ditutup)."""
        return bool(self.closures) and (
            not self.reopenings or self.closures[-1].event_id > self.reopenings[-1].event_id
        )

    @property
    def closed_at(self) -> datetime | None:
        """When the case was closed (None while open)."""
        return self.closures[-1].at if self.closed else None

    @property
    def contract(self) -> Contract | None:
        """The latest contract (active unless the case was closed), or None."""
        return self.contracts[-1] if self.contracts else None

    @property
    def active_contract(self) -> Contract | None:
        """The contract in force, or None."""
        c = self.contract
        return c if c is not None and c.active else None

    @property
    def ticked(self) -> frozenset[str]:
        """Ids of the ticked checklist items."""
        return frozenset(t.item_id for t in self.ticks)

    @property
    def n_amendments(self) -> int:
        """Amendments over all contracts."""
        return sum(c.n_amendments for c in self.contracts)

    @property
    def primary_category(self) -> str | None:
        """Category of the main problem.

        The first in-scope problem (in recording order) of the latest contract that has a
        category; else the first problem with a category; else the category an import carried.
        """
        with_cat = [p for p in self.problems if p.category]
        in_scope = [p for p in with_cat if p.scope == "in"]
        if in_scope:
            return in_scope[0].category
        if with_cat:
            return with_cat[0].category
        return self.imported_category

    def problem(self, problem_id: str) -> Problem | None:
        """The problem with this id, or None."""
        return next((p for p in self.problems if p.problem_id == problem_id), None)

    def step(self, step_id: str) -> PlanStep | None:
        """The plan step with this id, or None."""
        return next((s for s in self.plan_steps if s.step_id == step_id), None)

    def has_flag(self, flag: str) -> bool:
        """True when the fold raised ``flag`` at least once."""
        return any(f.flag == flag for f in self.flags)

    # ---------------------------------------------------------------- display
    def _repr_html_(self) -> str:
        return state_html(self, self.model)


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
            for key in ("office", "worker"):
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
                "text": p.get("text", ""),
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
        elif kind == "item_ticked":
            item = p["item"]
            stage = self.model.item(item)[0].id if self.model.has_item(item) else ""
            self.ticks[item] = Tick(item, stage, ev.at, ev.recorded_by, ev.event_id)
        elif kind == "item_unticked":
            self.ticks.pop(p["item"], None)
        elif kind == "plan_step_added":
            self.steps[p["step_id"]] = {
                "step_id": p["step_id"],
                "text": p.get("text", ""),
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
        often-forgotten items. Imported cases (no ``case_opened`` event) raise no flags.

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
    # the source is known from the first event, before any flag is considered
    if any(e.kind == "case_opened" for e in ordered):
        builder.source = "recorded"
    for ev in ordered:
        if ev.event_id in voided or ev.kind == "event_corrected":
            continue
        builder.apply(ev)
    return builder.freeze(len(ordered), ordered[-1].event_id, tuple(sorted(voided)))


# ---------------------------------------------------------------------------------------- text
_RISK = {"high": ("tinggi", "high"), "medium": ("sedang", "medium"), "low": ("rendah", "low")}


def level_label(value: str | None, lang: str | None = None) -> str:
    """Label of a risk or severity code (``high``/``medium``/``low``)."""
    if value is None:
        return ""
    pair = _RISK.get(value)
    return pick(*pair, lang) if pair else value


def describe(ev: Event, model: StageModel, lang: str | None = None) -> str:
    """A readable one-line description of an event, in ``lang`` (default: current language)."""
    p = ev.payload

    def stage_label(stage: str | None) -> str:
        return model.label(stage, lang) if stage and stage in model else str(stage)

    def ids(values: Iterable[str]) -> str:
        return ", ".join(values) or "—"

    k = ev.kind
    if k == "case_opened":
        return pick(
            f"Kasus dibuka di kantor {p.get('office')} oleh peksos {p.get('worker')} "
            f"(risiko {level_label(p.get('risk'), 'id')}, rujukan dari {p.get('referral_source')})",
            f"Case opened at office {p.get('office')} for worker {p.get('worker')} "
            f"(risk {level_label(p.get('risk'), 'en')}, referred by {p.get('referral_source')})",
            lang,
        )
    if k in ("stage_entered", "stage_imported"):
        extra = pick(" (impor)", " (imported)", lang) if k == "stage_imported" else ""
        return pick("Masuk tahap ", "Entered stage ", lang) + stage_label(ev.stage) + extra
    if k == "problem_added":
        cat = f" [{p.get('category')}]" if p.get("category") else ""
        return pick("Masalah ", "Problem ", lang) + f"{p.get('problem_id')}{cat}: {p.get('text')}"
    if k == "problem_referred":
        return pick(
            f"Masalah {p.get('problem_id')} dirujuk ke {p.get('to')}",
            f"Problem {p.get('problem_id')} referred to {p.get('to')}",
            lang,
        )
    if k == "contract_signed":
        return pick(
            f"Kontrak layanan {p.get('contract_id')} ditandatangani; dalam cakupan: "
            f"{ids(p.get('in_scope', ()))}; di luar cakupan: {ids(p.get('out_of_scope', ()))}",
            f"Service contract {p.get('contract_id')} signed; in scope: "
            f"{ids(p.get('in_scope', ()))}; out of scope: {ids(p.get('out_of_scope', ()))}",
            lang,
        )
    if k == "contract_amended":
        return pick(
            f"Kontrak diubah dengan persetujuan klien: tambah {ids(p.get('add', ()))}, "
            f"hapus {ids(p.get('drop', ()))}. Alasan: {p.get('reason')}",
            f"Contract amended with the client's agreement: add {ids(p.get('add', ()))}, "
            f"drop {ids(p.get('drop', ()))}. Reason: {p.get('reason')}",
            lang,
        )
    if k == "contract_followed_up":
        return pick(
            f"Kontrak lanjutan {p.get('contract_id')} menggantikan {p.get('follows')}; dalam "
            f"cakupan: {ids(p.get('in_scope', ()))}. Alasan: {p.get('reason')}",
            f"Follow-up contract {p.get('contract_id')} follows {p.get('follows')}; in scope: "
            f"{ids(p.get('in_scope', ()))}. Reason: {p.get('reason')}",
            lang,
        )
    if k in ("item_ticked", "item_unticked"):
        item = p.get("item", "")
        label = model.item(item)[1].label(lang) if model.has_item(item) else item
        verb = pick("Dicentang: ", "Ticked: ", lang)
        if k == "item_unticked":
            verb = pick("Centang dibatalkan: ", "Unticked: ", lang)
        return verb + label
    if k == "plan_step_added":
        return pick("Langkah rencana ", "Plan step ", lang) + (
            f"{p.get('step_id')} ({pick('tenggat', 'due', lang)} {p.get('due')}): {p.get('text')}"
        )
    if k == "plan_step_completed":
        return pick("Langkah selesai: ", "Step completed: ", lang) + str(p.get("step_id"))
    if k == "case_closed":
        return pick(
            f"Kasus ditutup dengan kontrak pengakhiran: {p.get('termination_contract')}. "
            f"Alasan: {p.get('reason')}",
            f"Case closed with termination contract: {p.get('termination_contract')}. "
            f"Reason: {p.get('reason')}",
            lang,
        )
    if k == "case_reopened":
        return pick("Kasus dibuka kembali. Alasan: ", "Case reopened. Reason: ", lang) + str(
            p.get("reason")
        )
    if k == "event_corrected":
        return pick(
            f"Koreksi: kejadian #{ev.voids} dibatalkan. Alasan: {p.get('reason')}",
            f"Correction: event #{ev.voids} voided. Reason: {p.get('reason')}",
            lang,
        )
    return k


# ---------------------------------------------------------------------------------------- html
def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def state_html(state: CaseState, model: StageModel | None = None) -> str:
    """HTML view of a case; every piece of user text is escaped."""
    model = model or StageModel.default()

    def stage_label(stage: str | None) -> str:
        return (
            bilingual(*(model.stage(stage).label_id, model.stage(stage).label_en))
            if (stage and stage in model)
            else str(stage)
        )

    status = bilingual("Ditutup", "Closed") if state.closed else bilingual("Aktif", "Open")
    rows = [
        ("Kasus / Case", state.case_id),
        ("Status", status),
        ("Tahap / Stage", stage_label(state.stage)),
        ("Masuk tahap / Entered", _when(state.stage_entered_at)),
        ("Kantor / Office", state.office),
        ("Peksos / Worker", state.worker),
        ("Risiko / Risk", level_label(state.risk)),
        ("Sumber rujukan / Referral source", state.referral_source),
        ("Dibuka / Opened", _when(state.opened_at)),
    ]
    if state.client_ref is not None:
        rows.append(("Klien / Client", state.client_ref))
    head = "".join(
        f"<tr><th style='text-align:left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows
    )
    parts = [f"<table>{head}</table>"]
    if state.story:
        story = state.story if len(state.story) <= 500 else state.story[:500] + " …"
        parts.append(f"<p><b>Cerita / Story</b>: {_e(story)}</p>")
    if state.problems:
        prob_rows = "".join(
            f"<tr><td>{_e(p.problem_id)}</td><td>{_e(p.category)}</td>"
            f"<td>{_e(level_label(p.severity))}</td><td>{_e(p.scope)}</td>"
            f"<td>{_e(p.referred_to)}</td><td style='text-align:left'>{_e(p.text[:300])}</td></tr>"
            for p in state.problems
        )
        parts.append(
            "<p><b>Masalah / Problems</b></p><table><tr><th>id</th><th>kategori / category</th>"
            "<th>keparahan / severity</th><th>cakupan / scope</th><th>dirujuk / referred</th>"
            f"<th>uraian / text</th></tr>{prob_rows}</table>"
        )
    for c in state.contracts:
        versions = "".join(
            f"<li>v{v.version} {_e(_when(v.at))} — {_e(v.by)}: "
            f"{_e(', '.join(v.in_scope))} | {_e(', '.join(v.out_of_scope))}"
            f"{' — ' + _e(v.reason) if v.reason else ''}</li>"
            for v in c.versions
        )
        end = (
            f" ({_e(bilingual('berakhir', 'ended'))} {_e(_when(c.terminated_at))})"
            if (c.terminated_at)
            else ""
        )
        follows = f" ← {_e(c.follows)}" if c.follows else ""
        parts.append(
            f"<p><b>{_e(bilingual('Kontrak', 'Contract'))} {_e(c.contract_id)}</b>{follows}{end}: "
            f"{_e(c.capacity_note)}</p><ul>{versions}</ul>"
        )
    if state.plan_steps:
        steps = "".join(
            f"<li>{'✔' if s.completed_at else '☐'} {_e(s.step_id)} ({_e(s.due.isoformat())}): "
            f"{_e(s.text[:300])}</li>"
            for s in state.plan_steps
        )
        parts.append(f"<p><b>Rencana / Plan</b></p><ul>{steps}</ul>")
    if state.flags:
        flags = "".join(
            f"<li>⚠ {_e(f.flag)} {_e(_when(f.at))} {_e(', '.join(f.items))}</li>"
            for f in state.flags
        )
        parts.append(f"<p><b>Tanda / Flags</b></p><ul>{flags}</ul>")
    return "".join(parts)
