"""The folded state of a case: frozen, read-only records built by :func:`fold`.

Every piece is a frozen dataclass holding tuples, so a :class:`CaseState` can be compared,
hashed into sets and shared without fear of changing it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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
]


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
    text: str | None
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
    text: str | None
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
        from pekso_toolkit.store_text import state_html

        return state_html(self, self.model)
