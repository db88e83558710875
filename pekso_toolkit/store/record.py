"""Recording API of the case store: every call checks the practice rules, then writes one event.

:class:`RecordingMixin` is part of :class:`pekso_toolkit.store.CaseStore`; use ``CaseStore``.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

import numpy as np

from pekso_toolkit.core.errors import PeksoError, StoreError
from pekso_toolkit.store.base import StoreBase, When
from pekso_toolkit.store.fold import fold
from pekso_toolkit.store.records import Event
from pekso_toolkit.store.rules import (
    Problem,
    check_due,
    check_ids,
    check_level,
    check_name,
    check_text,
    refuse_all,
    rule,
)
from pekso_toolkit.store.schema import RecordError, to_iso
from pekso_toolkit.store.state import CaseState

__all__ = ["RecordingMixin"]

#: Actions of :meth:`RecordingMixin.check` -> the recording call they dry-run.
_CHECKABLE: dict[str, str] = {
    "add_problem": "add_problem",
    "sign_contract": "sign_contract",
    "amend_contract": "amend_contract",
    "follow_up": "follow_up",
    "refer": "refer",
    "tick": "tick",
    "untick": "untick",
    "move_stage": "enter_stage",
    "enter_stage": "enter_stage",
    "add_plan_step": "add_plan_step",
    "complete_step": "complete_step",
    "close_case": "close_case",
    "reopen": "reopen",
}


class RecordingMixin(StoreBase):
    """The recording calls of :class:`pekso_toolkit.store.CaseStore`."""

    def check(self, action: str, case_id: str, **kwargs: Any) -> list[Problem]:
        """Dry run: what would refuse a recording, without writing anything.

        Runs the recording call named by ``action`` with the same arguments through the same
        input checks and practice rules, on a read snapshot, and lists every problem found
        instead of raising the first: independent gaps (e.g. an amendment without the client's
        agreement *and* without a reason) are all listed. An empty list means the recording
        would be accepted now (another writer may still change the case meanwhile).

        Parameters
        ----------
        action : str
            ``"add_problem"``, ``"sign_contract"``, ``"amend_contract"``, ``"follow_up"``,
            ``"refer"``, ``"tick"``, ``"untick"``, ``"move_stage"`` (or ``"enter_stage"``),
            ``"add_plan_step"``, ``"complete_step"``, ``"close_case"`` or ``"reopen"``.
        case_id : str
            The case.
        **kwargs
            The arguments of that recording call, by name (e.g. ``stage="asesmen"``,
            ``client_agreed=True, reason="..."``; ``at=`` and ``by=`` too).

        Returns
        -------
        list of Problem
            Frozen :class:`pekso_toolkit.store.rules.Problem` records: ``rule`` (the practice
            rule, ``"read_only"``, or None for an input error), ``field``, ``message_id``,
            ``message_en`` and the ``error`` the recording would raise.

        Raises
        ------
        RecordError
            When ``action`` is not one of the above or the arguments do not fit its call.
        """
        name = _CHECKABLE.get(action) if isinstance(action, str) else None
        if name is None:
            choices = ", ".join(_CHECKABLE)
            raise RecordError(
                f"action: {action!r} tidak dikenal; pilih salah satu: {choices}",
                f"action: {action!r} is unknown; choose one of: {choices}",
                field="action",
            )
        method = getattr(self, name)
        signature = inspect.signature(method)
        try:
            signature.bind(case_id, **kwargs)
        except TypeError as exc:
            accepted = ", ".join(p for p in signature.parameters if p != "case_id")
            raise RecordError(
                f"{action}: argumen tidak cocok ({exc}); yang diterima: {accepted}",
                f"{action}: the arguments do not fit ({exc}); accepted: {accepted}",
            ) from None
        refused = self._writable_error()
        problems = [] if refused is None else Problem.of(refused)
        self._dry.on = True
        try:
            method(case_id, **kwargs)
        except PeksoError as exc:
            problems.extend(Problem.of(exc))
        finally:
            self._dry.on = False
        return problems

    def open_case(
        self,
        client_ref: str,
        *,
        office: str,
        worker: str,
        risk: str,
        referral_source: str,
        story: str,
        at: When = None,
        by: str | None = None,
    ) -> str:
        """Open a case at intake; it enters the first helping stage (``proses_awal``) at ``at``.

        Parameters
        ----------
        client_ref : str
            The client's reference in the agency's files. Kept in the separate ``clients`` table;
            never in events or analysis tables.
        office, worker : str
            The office and the worker (peksos) in charge.
        risk : str
            Urgency / risk level: ``tinggi``/``sedang``/``rendah`` (or high/medium/low).
        referral_source : str
            Who referred the client.
        story : str
            The client's story as told at intake.

        Returns
        -------
        str
            The new case id, ``K-000001``, ``K-000002``, ...
        """
        client_ref = str(check_name(client_ref, "client_ref"))
        payload = {
            "office": check_name(office, "office"),
            "worker": check_name(worker, "worker"),
            "risk": check_level(risk, "risk"),
            "referral_source": check_name(referral_source, "referral_source"),
            "story": check_text(story, "story"),
        }
        who = check_name(by, "by", required=False) or self.worker or str(payload["worker"])
        first = self.model.helping_stages[0].id
        with self._write() as conn:
            now = self._now()
            moment = self._when(at, now)
            number = (conn.execute("SELECT MAX(rowid) FROM cases").fetchone()[0] or 0) + 1
            while conn.execute(
                "SELECT 1 FROM cases WHERE case_id = ?", (f"K-{number:06d}",)
            ).fetchone():
                number += 1
            case_id = f"K-{number:06d}"
            conn.execute(
                "INSERT INTO cases (case_id, created_at, source) VALUES (?, ?, 'recorded')",
                (case_id, to_iso(now)),
            )
            conn.execute(
                "INSERT INTO clients (case_id, client_ref) VALUES (?, ?)", (case_id, client_ref)
            )
            self._insert(
                conn, case_id, "case_opened", payload, at=moment, now=now, by=who, stage=first
            )
        return case_id

    def void_case(
        self, case_id: str, *, reason: str, at: When = None, by: str | None = None
    ) -> int:
        """Void a case opened by mistake (twice, for the wrong client, with a mistyped date).

        Append-only: one ``case_voided`` event is written that voids the opening (``voids``);
        nothing is updated or deleted, and :meth:`history` still shows every event. The case
        then leaves :meth:`case_ids`, :meth:`cases`, :meth:`stage_events`, :meth:`flags`,
        :meth:`problems` and the widgets; it takes no more recordings. This also repairs a case
        whose opening was stored with an implausible time (see :meth:`bad_events`): void it and
        open it again. Returns the event id.
        """
        if not isinstance(case_id, str):
            raise RecordError(
                "case_id: harus teks seperti 'K-000001'",
                "case_id: must be text such as 'K-000001'",
                field="case_id",
            )
        why = check_text(reason, "reason")
        who = self._by(by)
        with self._write() as conn:
            now = self._now()
            moment = self._when(at, now)
            if not conn.execute(
                "SELECT 1 FROM main.cases WHERE case_id = ?", (case_id,)
            ).fetchone():
                raise RecordError(
                    f"case_id: kasus {case_id!r} tidak ada di basis data ini",
                    f"case_id: there is no case {case_id!r} in this store",
                    field="case_id",
                )
            done = conn.execute(
                "SELECT event_id FROM temp.voided_cases WHERE case_id = ?", (case_id,)
            ).fetchone()
            if done:
                raise RecordError(
                    f"case_id: kasus {case_id} sudah dibatalkan (kejadian #{done[0]})",
                    f"case_id: case {case_id} is already voided (event #{done[0]})",
                    field="case_id",
                )
            first = conn.execute(
                "SELECT event_id FROM main.events WHERE case_id = ? ORDER BY "
                "kind != 'case_opened', event_id LIMIT 1",
                (case_id,),
            ).fetchone()
            eid = self._insert(
                conn,
                case_id,
                "case_voided",
                {"reason": why},
                at=moment,
                now=now,
                by=who,
                voids=None if first is None else int(first[0]),
            )
            conn.execute(
                "INSERT INTO temp.voided_cases (case_id, event_id) VALUES (?, ?)", (case_id, eid)
            )
        return eid

    def add_problem(
        self,
        case_id: str,
        text: str,
        *,
        category: str | None = None,
        severity: str | None = None,
        at: When = None,
        by: str | None = None,
    ) -> str:
        """Add a problem of the client's story; returns its id (``P1``, ``P2``, ... per case).

        ``category`` is a taxonomy code (e.g. a PPKS code such as ``"AT"``); ``severity`` is
        ``tinggi``/``sedang``/``rendah`` (high/medium/low).
        """
        values = {
            "text": check_text(text, "text"),
            "category": check_name(category, "category", required=False),
            "severity": check_level(severity, "severity", required=False),
        }

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            n = self._count(case_id, "problem_added")
            return {"problem_id": f"P{n + 1}", **values}

        _, payload = self._record(case_id, "problem_added", build, at=at, by=by)
        return str(payload["problem_id"])

    def _count(self, case_id: str, kind: str) -> int:
        """Events of a kind in a case, voided ones included (ids are never reused)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM events WHERE case_id = ? AND kind = ?", (case_id, kind)
            ).fetchone()
        return int(row[0])

    def _contract_payload(
        self, state: CaseState, in_scope: Any, out_of_scope: Any, capacity_note: Any
    ) -> dict[str, Any]:
        known = [p.problem_id for p in state.problems]
        inside = check_ids(in_scope, "in_scope", known)
        outside = check_ids(out_of_scope, "out_of_scope", known)
        gaps: list[PeksoError] = []
        if not inside:
            gaps.append(rule("contract_without_scope"))
        if not isinstance(capacity_note, str) or not capacity_note.strip():
            gaps.append(rule("contract_without_capacity"))
        refuse_all(gaps)
        both = sorted(set(inside) & set(outside))
        if both:
            raise RecordError(
                f"in_scope/out_of_scope: masalah {both} ada di keduanya; pilih salah satu",
                f"in_scope/out_of_scope: problem(s) {both} are in both; choose one",
                field="in_scope/out_of_scope",
            )
        n = self._count(state.case_id, "contract_signed") + self._count(
            state.case_id, "contract_followed_up"
        )
        return {
            "contract_id": f"C{n + 1}",
            "in_scope": list(inside),
            "out_of_scope": list(outside),
            "capacity_note": check_text(capacity_note, "capacity_note"),
        }

    def sign_contract(
        self,
        case_id: str,
        *,
        in_scope: Any,
        out_of_scope: Any = (),
        capacity_note: str,
        at: When = None,
        by: str | None = None,
    ) -> str:
        """Sign the service contract: which problems the service covers (``in_scope``, at least
        one), which it does not (``out_of_scope``), and the capacity judgement. Returns the
        contract id (``C1``)."""

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            if state.active_contract is not None:
                raise RecordError(
                    f"kasus {case_id} sudah punya kontrak {state.active_contract.contract_id}; "
                    "ubah dengan amend_contract() atau buat kontrak lanjutan dengan follow_up()",
                    f"case {case_id} already has contract {state.active_contract.contract_id} in "
                    "force; change it with amend_contract() or start a new one with follow_up()",
                )
            return self._contract_payload(state, in_scope, out_of_scope, capacity_note)

        _, payload = self._record(case_id, "contract_signed", build, at=at, by=by)
        return str(payload["contract_id"])

    def amend_contract(
        self,
        case_id: str,
        *,
        add: Any = (),
        drop: Any = (),
        client_agreed: bool,
        reason: str,
        at: When = None,
        by: str | None = None,
    ) -> int:
        """Amend the contract in force: ``add`` problems to its scope, ``drop`` problems from it
        (they become out of scope). Needs ``client_agreed=True`` and a ``reason``. Every version
        is kept. Returns the new version number."""
        gaps: list[PeksoError] = []
        if client_agreed is not True:
            gaps.append(rule("amendment_without_agreement"))
        if not isinstance(reason, str) or not reason.strip():
            gaps.append(rule("amendment_without_reason"))
        refuse_all(gaps)
        reason = str(check_text(reason, "reason"))

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            contract = state.active_contract
            if contract is None:
                raise RecordError(
                    f"kasus {case_id} belum punya kontrak yang berlaku; tanda tangani dulu "
                    "(sign_contract)",
                    f"case {case_id} has no contract in force; sign one first (sign_contract)",
                )
            known = [p.problem_id for p in state.problems]
            adding = check_ids(add, "add", known)
            dropping = check_ids(drop, "drop", known)
            if not adding and not dropping:
                raise RecordError(
                    "add/drop: sebutkan masalah yang ditambah atau dihapus dari cakupan",
                    "add/drop: name the problems added to or dropped from the scope",
                    field="add/drop",
                )
            already = [p for p in adding if p in contract.in_scope]
            absent = [p for p in dropping if p not in contract.in_scope]
            if already or absent or set(adding) & set(dropping):
                raise RecordError(
                    f"add/drop: {already} sudah dalam cakupan, {absent} tidak dalam cakupan "
                    f"(cakupan sekarang: {', '.join(contract.in_scope)})",
                    f"add/drop: {already} "
                    f"already in scope, {absent} not in scope (scope now: "
                    f"{', '.join(contract.in_scope)})",
                    field="add/drop",
                )
            if not [p for p in contract.in_scope if p not in dropping] and not adding:
                raise rule(
                    "contract_without_scope",
                    "Amandemen ini mengosongkan cakupan.",
                    "This amendment would leave the scope empty.",
                )
            return {
                "contract_id": contract.contract_id,
                "version": contract.current.version + 1,
                "add": list(adding),
                "drop": list(dropping),
                "client_agreed": True,
                "reason": reason,
            }

        _, payload = self._record(case_id, "contract_amended", build, at=at, by=by)
        return int(payload["version"])

    def follow_up(
        self,
        case_id: str,
        *,
        in_scope: Any,
        out_of_scope: Any = (),
        capacity_note: str,
        reason: str,
        termination_contract: str | None = None,
        at: When = None,
        by: str | None = None,
    ) -> str:
        """End the contract in force and start a new contract that ``follows`` it (more service
        for the same client). ``termination_contract`` describes how the old contract was ended
        (default: the reason). Returns the new contract id."""
        reason = str(check_text(reason, "reason"))
        ending = check_text(termination_contract, "termination_contract", required=False)

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            old = state.contract
            if old is None:
                raise RecordError(
                    f"kasus {case_id} belum punya kontrak; pakai sign_contract()",
                    f"case {case_id} has no contract to follow up; use sign_contract()",
                )
            payload = self._contract_payload(state, in_scope, out_of_scope, capacity_note)
            payload.update(
                follows=old.contract_id, reason=reason, termination_contract=ending or reason
            )
            return payload

        _, payload = self._record(case_id, "contract_followed_up", build, at=at, by=by)
        return str(payload["contract_id"])

    def refer(
        self, case_id: str, problem_id: str, *, to: str, at: When = None, by: str | None = None
    ) -> int:
        """Refer an out-of-scope problem to another service (rujukan). Returns the event id."""
        target = check_name(to, "to")

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            (pid,) = check_ids([problem_id], "problem_id", [p.problem_id for p in state.problems])
            contract = state.active_contract
            if contract is not None and pid in contract.in_scope:
                raise rule(
                    "refer_in_scope",
                    f"Masalah {pid} ada dalam cakupan kontrak {contract.contract_id}.",
                    f"Problem {pid} is in the scope of contract {contract.contract_id}.",
                )
            return {"problem_id": pid, "to": target}

        return self._record(case_id, "problem_referred", build, at=at, by=by)[0]

    def _item(self, item_id: Any) -> str:
        if not isinstance(item_id, str) or not self.model.has_item(item_id):
            raise rule(
                "unknown_checklist_item",
                f"Butir {item_id!r} tidak dikenal.",
                f"Item {item_id!r} is unknown.",
            )
        return item_id

    def tick(self, case_id: str, item_id: str, *, at: When = None, by: str | None = None) -> int:
        """Tick a checklist item of the stage model. Returns the event id.

        An item the store already ticked by itself (``kontrak_layanan`` when the contract was
        signed) is not ticked twice: the id of that tick is returned.
        """
        item = self._item(item_id)
        with self._read() as conn:
            state = self._state(conn, case_id)
        derived = next((t for t in state.ticks if t.item_id == item and t.derived), None)
        if derived is not None:
            return derived.event_id

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            done = next((t for t in state.ticks if t.item_id == item), None)
            if done is not None:
                raise RecordError(
                    f"item_id: {item} sudah dicentang ({to_iso(done.ticked_at)}, {done.ticked_by})",
                    f"item_id: {item} is already ticked ({to_iso(done.ticked_at)}, "
                    f"{done.ticked_by})",
                    field="item_id",
                )
            return {"item": item}

        return self._record(case_id, "item_ticked", build, at=at, by=by)[0]

    def untick(self, case_id: str, item_id: str, *, at: When = None, by: str | None = None) -> int:
        """Take back a tick (the tick stays in the history). Returns the event id."""
        item = self._item(item_id)

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            if item not in state.ticked:
                raise RecordError(
                    f"item_id: {item} belum dicentang",
                    f"item_id: {item} is not ticked",
                    field="item_id",
                )
            return {"item": item}

        return self._record(case_id, "item_unticked", build, at=at, by=by)[0]

    def enter_stage(
        self, case_id: str, stage: str, *, at: When = None, by: str | None = None
    ) -> int:
        """Move the case into a helping stage (forward or back). Returns the event id.

        Moving into the stage after the analysis stage with no analysis recorded is allowed but
        flagged (see :meth:`flags`). Close with :meth:`close_case`, reopen with :meth:`reopen`.
        """
        helping = [s.id for s in self.model.helping_stages]
        if not isinstance(stage, str) or stage not in helping:
            raise RecordError(
                f"stage: {stage!r} bukan tahap pertolongan; pilih salah satu: "
                f"{', '.join(helping)} (tutup kasus dengan close_case)",
                f"stage: {stage!r} is not "
                f"a helping stage; choose one of: {', '.join(helping)} (close with close_case)",
                field="stage",
            )

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            found = self._stage_entry_problem(state, stage, moment)
            if found is not None:
                raise found[1]
            return {}

        return self._record(case_id, "stage_entered", build, at=at, by=by, stage=stage)[0]

    def _stage_entry_problem(
        self, state: CaseState, stage: str, moment: datetime
    ) -> tuple[str, PeksoError] | None:
        """What refuses moving a recorded case into ``stage`` at ``moment``: ``(rule, error)``
        or None when allowed.

        The rules of :meth:`enter_stage`, shared with imports into recorded cases: a closed case
        takes nothing (``case_closed``); nothing before the opening (``before_opening``) or the
        current stage's entry (``before_stage_entry``); not the stage the case is in
        (``same_stage``); closing needs a termination contract
        (``closing_without_termination_contract``) and reopening a reason
        (``reopen_without_reason``), so neither is a plain stage change.
        """
        closed = self._closed_error(state)
        if closed is not None:
            return "case_closed", closed
        opening = "waktu kasus dibuka / the case's opening"
        early = self._before_error(moment, state.opened_at, opening)
        if early is not None:
            return "before_opening", early
        if stage == self.model.closed_id:
            return "closing_without_termination_contract", rule(
                "closing_without_termination_contract",
                "Penutupan tanpa kontrak pengakhiran tidak bisa dicatat sebagai perpindahan tahap.",
                "A closing without a termination contract cannot be recorded as a stage change.",
            )
        if stage == self.model.reopened_id:
            return "reopen_without_reason", RecordError(
                f"stage: membuka kembali kasus {state.case_id} perlu alasan; pakai "
                "store.reopen(case_id, reason=...)",
                f"stage: reopening case {state.case_id} "
                "needs a reason; use store.reopen(case_id, reason=...)",
                field="stage",
            )
        if state.stage == stage:
            return "same_stage", RecordError(
                f"stage: kasus sudah di tahap {stage}",
                f"stage: the case is already in {stage}",
                field="stage",
            )
        early = self._before_error(
            moment, state.stage_entered_at, "masuk tahap sekarang / the current stage's entry"
        )
        if early is not None:
            return "before_stage_entry", early
        return None

    def add_plan_step(
        self, case_id: str, text: str, *, due: Any, at: When = None, by: str | None = None
    ) -> str:
        """Add an ordered intervention step with a due date; returns its id (``S1``, ...)."""
        values = {"text": check_text(text, "text"), "due": check_due(due).isoformat()}

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            return {"step_id": f"S{self._count(case_id, 'plan_step_added') + 1}", **values}

        _, payload = self._record(case_id, "plan_step_added", build, at=at, by=by)
        return str(payload["step_id"])

    def complete_step(
        self, case_id: str, step_id: str, *, at: When = None, by: str | None = None
    ) -> int:
        """Mark a plan step done. Returns the event id."""

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            step = state.step(step_id) if isinstance(step_id, str) else None
            if step is None:
                known = ", ".join(s.step_id for s in state.plan_steps) or "—"
                raise RecordError(
                    f"step_id: langkah {step_id!r} tidak ada; yang ada: {known}",
                    f"step_id: no step {step_id!r} in this case; known steps: {known}",
                    field="step_id",
                )
            if step.completed_at is not None:
                raise RecordError(
                    f"step_id: {step_id} sudah selesai",
                    f"step_id: {step_id} is already completed",
                    field="step_id",
                )
            return {"step_id": step_id}

        return self._record(case_id, "plan_step_completed", build, at=at, by=by)[0]

    def close_case(
        self,
        case_id: str,
        *,
        termination_contract: str,
        reason: str,
        at: When = None,
        by: str | None = None,
    ) -> int:
        """Close the case with its termination contract (kontrak pengakhiran layanan).

        Closing with unticked often-forgotten checklist items is allowed but flagged. Returns the
        event id.
        """
        if not isinstance(termination_contract, str) or not termination_contract.strip():
            raise rule("closing_without_termination_contract")
        values = {
            "termination_contract": check_text(termination_contract, "termination_contract"),
            "reason": check_text(reason, "reason"),
        }
        closed = self.model.closed_id
        if closed is None:
            raise StoreError(
                "model tahapan tanpa tahap ditutup", "the stage model has no closed state"
            )

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            self._not_before(
                moment, state.stage_entered_at, "masuk tahap sekarang / the current stage's entry"
            )
            return values

        return self._record(case_id, "case_closed", build, at=at, by=by, stage=closed)[0]

    def reopen(self, case_id: str, *, reason: str, at: When = None, by: str | None = None) -> int:
        """Reopen a closed case (dibuka kembali). Returns the event id."""
        values = {"reason": check_text(reason, "reason")}
        reopened = self.model.reopened_id
        if reopened is None:
            raise StoreError(
                "model tahapan tanpa tahap dibuka kembali", "the stage model has no reopened state"
            )

        def build(state: CaseState, moment: datetime) -> dict[str, Any]:
            if not state.closed:
                raise RecordError(
                    f"kasus {case_id} tidak sedang ditutup", f"case {case_id} is not closed"
                )
            self._not_before(moment, state.stage_entered_at, "waktu ditutup / the closing")
            return values

        return self._record(
            case_id, "case_reopened", build, at=at, by=by, stage=reopened, allow_closed=True
        )[0]

    def correct(
        self, case_id: str, event_id: int, *, reason: str, at: When = None, by: str | None = None
    ) -> int:
        """Void a mistaken event with a correcting event; the mistake stays in the history.

        A stage change (including a closing or reopening) can be voided only while it is the
        case's latest one; a problem, contract or plan step only while nothing later refers to
        it. Opening events and corrections cannot be voided. Returns the correction's event id.
        """
        why = check_text(reason, "reason")
        if isinstance(event_id, bool) or not isinstance(event_id, int | np.integer):
            raise RecordError(
                f"event_id: harus bilangan bulat, bukan {event_id!r}",
                f"event_id: must be an integer, not {event_id!r}",
                field="event_id",
            )
        target_id = int(event_id)
        who = self._by(by)
        with self._write() as conn:
            now = self._now()
            moment = self._when(at, now)
            events = self._events_of(conn, case_id)
            state = fold(events, self.model)
            target = next((e for e in events if e.event_id == target_id), None)
            if target is None:
                raise RecordError(
                    f"event_id: kejadian #{target_id} bukan milik kasus {case_id}",
                    f"event_id: event #{target_id} does not belong to case {case_id}",
                    field="event_id",
                )
            self._check_voidable(target, events, state)
            self._not_before(moment, target.at, "kejadian yang dikoreksi / the corrected event")
            eid = self._insert(
                conn,
                case_id,
                "event_corrected",
                {"reason": why, "kind": target.kind},
                at=moment,
                now=now,
                by=who,
                voids=target_id,
            )
            after = fold(
                [
                    *events,
                    Event(eid, case_id, "event_corrected", moment, now, who, {}, None, target_id),
                ],
                self.model,
            )
            for contract in after.contracts:
                if not contract.in_scope:
                    raise rule(
                        "contract_without_scope",
                        f"Koreksi ini mengosongkan cakupan kontrak {contract.contract_id}.",
                        f"This correction would leave contract {contract.contract_id} with an "
                        "empty scope.",
                    )
        return eid

    def _check_voidable(self, target: Event, events: list[Event], state: CaseState) -> None:
        def refuse(id_: str, en: str) -> RecordError:
            return RecordError(f"event_id: {id_}", f"event_id: {en}", field="event_id")

        if target.event_id in state.voided:
            raise refuse(
                f"#{target.event_id} sudah dibatalkan", f"#{target.event_id} is already voided"
            )
        if target.kind in ("case_opened", "event_corrected"):
            raise refuse(
                "pembukaan kasus dan koreksi tidak bisa dibatalkan",
                "an opening or a correction cannot be voided",
            )
        live = [e for e in events if e.event_id not in state.voided]
        later = [e for e in live if e.event_id > target.event_id]
        if target.stage is not None:
            if any(e.stage is not None for e in later):
                raise refuse(
                    "hanya perpindahan tahap terakhir yang bisa dibatalkan",
                    "only the latest stage change can be voided",
                )
        elif state.closed:
            self._open(state)
        key = {"problem_added": "problem_id", "plan_step_added": "step_id"}.get(target.kind)
        if key is not None:
            ref = target.payload[key]
            for e in later:
                p = e.payload
                refs = [
                    p.get("problem_id"),
                    p.get("step_id"),
                    *p.get("in_scope", ()),
                    *p.get("out_of_scope", ()),
                    *p.get("add", ()),
                    *p.get("drop", ()),
                ]
                if e.kind != "event_corrected" and ref in refs:
                    raise refuse(
                        f"{ref} dipakai oleh kejadian #{e.event_id}; batalkan itu dulu",
                        f"{ref} is used by event #{e.event_id}; void that first",
                    )
        if target.kind in ("contract_signed", "contract_followed_up"):
            if any(e.kind in ("contract_amended", "contract_followed_up") for e in later):
                raise refuse(
                    "kontrak ini sudah diubah atau dilanjutkan; batalkan perubahan itu dulu",
                    "this contract was amended or followed up since; void those first",
                )
