"""The records a case state is made of: stored events and the frozen pieces :func:`fold` builds.

Every piece is a frozen dataclass holding tuples, so a case state can be compared, hashed into
sets and shared without fear of changing it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pekso_toolkit.store.schema import from_iso

__all__ = [
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
    #: ticked by the store itself when the step was recorded another way (a signed contract
    #: ticks ``kontrak_layanan``); see ``DERIVED_TICKS`` in ``store/base.py``
    derived: bool = False


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
