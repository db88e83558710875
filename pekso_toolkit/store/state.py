"""The folded state of a case (:class:`CaseState`, built by :func:`fold`) and its HTML view.

A :class:`CaseState` is a frozen dataclass holding tuples of the frozen records of
:mod:`pekso_toolkit.store.records`, so it can be compared, hashed into sets and shared without
fear of changing it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import bilingual
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store.records import (
    Closure,
    Contract,
    Flag,
    PlanStep,
    Problem,
    Reopening,
    StageEntry,
    Tick,
)
from pekso_toolkit.store.text import level_label

__all__ = ["CaseState", "state_html"]


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
    #: True when the case was voided as opened by mistake (``CaseStore.void_case``).
    case_voided: bool = False
    client_ref: str | None = field(default=None, repr=False)
    model: StageModel | None = field(default=None, repr=False, compare=False)
    #: time zone in which the case's times are shown (the store's)
    tz: str = field(default=DEFAULT_TZ, repr=False, compare=False)

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
        return state_html(self, self.model, tz=self.tz)


# ---------------------------------------------------------------------------------------- html
def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _local(moment: datetime | None, tz: str) -> str:
    """``moment`` in the agency's time zone, e.g. ``2025-06-30 09:00 WIB``."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or tz)


def state_html(state: CaseState, model: StageModel | None = None, *, tz: str = DEFAULT_TZ) -> str:
    """HTML view of a case, times in ``tz``; every piece of user text is escaped."""
    model = model or StageModel.default()

    def _when(moment: datetime | None) -> str:
        return _local(moment, tz)

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
            f"<td>{_e(p.referred_to)}</td>"
            f"<td style='text-align:left'>{_e((p.text or '')[:300])}</td></tr>"
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
            f"{_e((s.text or '')[:300])}</li>"
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
