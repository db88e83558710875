"""Contract editor: scope of the service contract, amendments, referrals, termination, follow-up."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from pekso_toolkit.core.i18n import pick
from pekso_toolkit.widgets._common import (
    DESC,
    Feedback,
    StoreView,
    attempt,
    css_class,
    esc,
    fmt_date,
    labelled,
    name_fields,
    one_at_a_time,
    style_block,
    wide,
)

__all__ = ["ContractEditor"]

_SHORT = 70
#: Widget attributes given the CSS class ``pekso-field-<name>`` (for pages and browser tests).
_FIELDS = (
    "capacity_note",
    "sign_button",
    "amend_add",
    "amend_drop",
    "client_agreed",
    "amend_reason",
    "amend_button",
    "refer_problem",
    "refer_to",
    "refer_button",
    "termination_contract",
    "close_reason",
    "close_button",
    "follow_in",
    "follow_out",
    "follow_capacity",
    "follow_reason",
    "follow_button",
    "reopen_reason",
    "reopen_button",
    "history",
)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _section(title_id: str, title_en: str) -> w.HTML:
    return w.HTML(f"<h5 style='margin:10px 0 4px 0'>{esc(pick(title_id, title_en))}</h5>")


class ContractEditor(StoreView):
    """The service contract of a case: scope, amendments, referrals, termination and follow-up.

    Every action is one store call; the practice rules are the store's (a contract needs a scope
    and a capacity judgement, an amendment needs the client's agreement and a reason, closing
    needs a termination contract). A refused action writes nothing and shows why next to the
    field, in both languages. Every contract version stays visible in the history.

    Parameters
    ----------
    store : CaseStore
        The case store.
    case_id : str
        The case.

    Attributes
    ----------
    scope : dict of problem id -> ipywidgets.Dropdown
        Before signing: ``"in"`` (in scope), ``"out"`` (out of scope) or None per problem.
    capacity_note, sign_button
        The capacity judgement and "sign the contract".
    amend_add, amend_drop, client_agreed, amend_reason, amend_button
        An amendment: problems added to / dropped from the scope.
    refer_problem, refer_to, refer_button
        Referring an out-of-scope problem elsewhere (rujukan).
    termination_contract, close_reason, close_button
        Closing the case with its termination contract.
    follow_in, follow_out, follow_capacity, follow_reason, follow_button
        A follow-up contract (more service for the same client) replacing the one in force.
    reopen_reason, reopen_button
        Reopening a closed case.
    history : ipywidgets.HTML
        Every version of every contract (who, when, why).
    """

    def __init__(self, store: Any, case_id: str) -> None:
        super().__init__(store)
        self.case_id = case_id
        self.db.case(case_id)  # an unknown case fails here, loudly
        self.header = w.HTML("")
        self.problem_table = w.HTML("")
        self.history = w.HTML("")
        self.sign_box = self._build_sign()
        self.amend_box = self._build_amend()
        self.refer_box = self._build_refer()
        self.close_box = self._build_close()
        self.follow_box = self._build_follow()
        self.reopen_box = self._build_reopen()
        self.children = [
            style_block(),
            self.header,
            self.problem_table,
            self.sign_box,
            self.amend_box,
            self.refer_box,
            self.history,
            self.close_box,
            self.follow_box,
            self.reopen_box,
        ]
        self.add_class("pekso-contract")
        name_fields(self, _FIELDS)
        self.refresh()

    # ----------------------------------------------------------------------------- sections
    def _build_sign(self) -> w.VBox:
        """Signing: a scope choice per problem and the capacity judgement."""
        self.fb_sign = Feedback(("in_scope", "capacity_note"), aliases={"out_of_scope": "in_scope"})
        self.scope: dict[str, w.Dropdown] = {}
        self.scope_rows = w.VBox()
        self.capacity_note = w.Textarea(
            description=pick("Penilaian kapasitas", "Capacity judgement"),
            placeholder=pick(
                "apakah lembaga / peksos mampu menangani masalah dalam cakupan?",
                "can the agency / worker help with the problems in scope?",
            ),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.sign_button = w.Button(
            description=pick("Tandatangani kontrak", "Sign the contract"),
            button_style="primary",
            icon="file-signature",
            layout=w.Layout(width="auto"),
        )
        self.sign_button.on_click(lambda _: self.sign())
        return w.VBox(
            [
                _section("Kontrak layanan: batas cakupan", "Service contract: boundaries"),
                self.scope_rows,
                self.fb_sign["in_scope"],
                labelled(self.capacity_note, self.fb_sign["capacity_note"]),
                w.HBox([self.sign_button, self.fb_sign.general]),
            ]
        )

    def _build_amend(self) -> w.VBox:
        """An amendment: problems added to / dropped from the scope, agreement and reason."""
        self.fb_amend = Feedback(
            ("add", "client_agreed", "reason"), aliases={"drop": "add", "add/drop": "add"}
        )
        self.amend_add = w.SelectMultiple(
            description=pick("Tambah ke cakupan", "Add to scope"), style=DESC, layout=wide(), rows=3
        )
        self.amend_drop = w.SelectMultiple(
            description=pick("Keluarkan dari cakupan", "Drop from scope"),
            style=DESC,
            layout=wide(),
            rows=3,
        )
        self.client_agreed = w.Checkbox(
            description=pick("Klien menyetujui perubahan ini", "The client agreed to this change"),
            indent=False,
        )
        self.amend_reason = w.Textarea(
            description=pick("Alasan", "Reason"),
            placeholder=pick(
                "mengapa, dengan memperhatikan kapasitas dan kepentingan terbaik klien",
                "why, with regard for capacity and the client's best interest",
            ),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.amend_button = w.Button(
            description=pick("Ubah kontrak", "Amend the contract"), layout=w.Layout(width="auto")
        )
        self.amend_button.on_click(lambda _: self.amend())
        return w.VBox(
            [
                _section("Amandemen kontrak", "Contract amendment"),
                labelled(self.amend_add, self.fb_amend["add"]),
                self.amend_drop,
                labelled(self.client_agreed, self.fb_amend["client_agreed"]),
                labelled(self.amend_reason, self.fb_amend["reason"]),
                w.HBox([self.amend_button, self.fb_amend.general]),
            ]
        )

    def _build_refer(self) -> w.VBox:
        """Referring an out-of-scope problem elsewhere (rujukan)."""
        self.fb_refer = Feedback(("problem_id", "to"))
        self.refer_problem = w.Dropdown(
            description=pick("Masalah", "Problem"), style=DESC, layout=wide()
        )
        self.refer_to = w.Text(
            description=pick("Dirujuk ke", "Referred to"),
            placeholder=pick("lembaga / layanan tujuan", "receiving agency / service"),
            style=DESC,
            layout=wide(),
        )
        self.refer_button = w.Button(
            description=pick("Rujuk", "Refer"), icon="share", layout=w.Layout(width="auto")
        )
        self.refer_button.on_click(lambda _: self.refer())
        return w.VBox(
            [
                _section("Rujukan masalah di luar cakupan", "Refer out-of-scope problems"),
                labelled(self.refer_problem, self.fb_refer["problem_id"]),
                labelled(self.refer_to, self.fb_refer["to"]),
                w.HBox([self.refer_button, self.fb_refer.general]),
            ]
        )

    def _build_close(self) -> w.VBox:
        """Closing the case with its termination contract."""
        self.fb_close = Feedback(("termination_contract", "reason"))
        self.termination_contract = w.Textarea(
            description=pick("Kontrak pengakhiran", "Termination contract"),
            placeholder=pick(
                "isi kontrak pengakhiran layanan yang disepakati dengan klien",
                "the termination contract agreed with the client",
            ),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.close_reason = w.Text(
            description=pick("Alasan penutupan", "Reason for closing"), style=DESC, layout=wide()
        )
        self.close_button = w.Button(
            description=pick("Tutup kasus", "Close the case"),
            button_style="danger",
            layout=w.Layout(width="auto"),
        )
        self.close_button.on_click(lambda _: self.close_case())
        return w.VBox(
            [
                _section("Terminasi: kontrak pengakhiran", "Termination contract"),
                labelled(self.termination_contract, self.fb_close["termination_contract"]),
                labelled(self.close_reason, self.fb_close["reason"]),
                w.HBox([self.close_button, self.fb_close.general]),
            ]
        )

    def _build_follow(self) -> w.VBox:
        """A follow-up contract (more service for the same client) replacing the one in force."""
        self.fb_follow = Feedback(
            ("in_scope", "capacity_note", "reason"), aliases={"out_of_scope": "in_scope"}
        )
        self.follow_in = w.SelectMultiple(
            description=pick("Dalam cakupan", "In scope"), style=DESC, layout=wide(), rows=3
        )
        self.follow_out = w.SelectMultiple(
            description=pick("Di luar cakupan", "Out of scope"), style=DESC, layout=wide(), rows=3
        )
        self.follow_capacity = w.Textarea(
            description=pick("Penilaian kapasitas", "Capacity judgement"),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.follow_reason = w.Textarea(
            description=pick("Alasan kontrak baru", "Why a new contract"),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.follow_button = w.Button(
            description=pick("Buat kontrak lanjutan", "Start a follow-up contract"),
            layout=w.Layout(width="auto"),
        )
        self.follow_button.on_click(lambda _: self.follow_up())
        return w.VBox(
            [
                _section("Kontrak lanjutan (layanan baru)", "Follow-up contract (new service)"),
                labelled(self.follow_in, self.fb_follow["in_scope"]),
                self.follow_out,
                labelled(self.follow_capacity, self.fb_follow["capacity_note"]),
                labelled(self.follow_reason, self.fb_follow["reason"]),
                w.HBox([self.follow_button, self.fb_follow.general]),
            ]
        )

    def _build_reopen(self) -> w.VBox:
        """Reopening a closed case."""
        self.fb_reopen = Feedback(("reason",))
        self.reopen_reason = w.Text(
            description=pick("Alasan dibuka kembali", "Reason for reopening"),
            style=DESC,
            layout=wide(),
        )
        self.reopen_button = w.Button(
            description=pick("Buka kembali kasus", "Reopen the case"), layout=w.Layout(width="auto")
        )
        self.reopen_button.on_click(lambda _: self.reopen())
        return w.VBox(
            [
                _section("Buka kembali", "Reopen"),
                labelled(self.reopen_reason, self.fb_reopen["reason"]),
                w.HBox([self.reopen_button, self.fb_reopen.general]),
            ]
        )

    # ----------------------------------------------------------------------------- actions
    def _run(self, feedback: Feedback, action: Any) -> bool:
        for fb in (
            self.fb_sign,
            self.fb_amend,
            self.fb_refer,
            self.fb_close,
            self.fb_follow,
            self.fb_reopen,
        ):
            fb.clear()
        ok, _ = attempt(feedback, action)
        if ok:
            self._changed(self.case_id)
        return bool(ok)

    @one_at_a_time("sign_button", busy=False)
    def sign(self) -> bool:
        """Sign the contract with the scope chosen per problem. Returns True when written."""
        inside = [pid for pid, d in self.scope.items() if d.value == "in"]
        outside = [pid for pid, d in self.scope.items() if d.value == "out"]
        note = self.capacity_note.value
        ok = self._run(
            self.fb_sign,
            lambda: self.db.sign_contract(
                self.case_id, in_scope=inside, out_of_scope=outside, capacity_note=note
            ),
        )
        if ok:
            self.capacity_note.value = ""
            self.fb_sign.ok("Kontrak ditandatangani.", "Contract signed.")
        return ok

    @one_at_a_time("amend_button", busy=False)
    def amend(self) -> bool:
        """Amend the contract in force. Returns True when written.

        The client's agreement and a reason are both required; when either is missing, both
        gaps are shown and nothing is written.
        """
        agreed = bool(self.client_agreed.value)
        reason = self.amend_reason.value
        add = list(self.amend_add.value)
        drop = list(self.amend_drop.value)
        # the store's own rules, as a dry run: every gap is shown at once, nothing is written
        problems = self.db.check(
            "amend_contract", self.case_id, add=add, drop=drop, client_agreed=agreed, reason=reason
        )
        if problems:
            self._run(self.fb_amend, lambda: None)  # clears old messages
            for problem in problems:
                self.fb_amend.show(problem.error)
            return False
        ok = self._run(
            self.fb_amend,
            lambda: self.db.amend_contract(
                self.case_id, add=add, drop=drop, client_agreed=agreed, reason=reason
            ),
        )
        if ok:
            self.client_agreed.value = False
            self.amend_reason.value = ""
            self.fb_amend.ok("Kontrak diubah.", "Contract amended.")
        return ok

    @one_at_a_time("refer_button", busy=False)
    def refer(self) -> bool:
        """Refer the chosen problem. Returns True when written."""
        pid = self.refer_problem.value
        to = self.refer_to.value
        if pid is None:
            self._run(self.fb_refer, lambda: None)
            self.fb_refer.error("problem_id", "Pilih masalahnya.", "Choose the problem.")
            return False
        ok = self._run(self.fb_refer, lambda: self.db.refer(self.case_id, pid, to=to))
        if ok:
            self.refer_to.value = ""
        return ok

    @one_at_a_time("close_button", busy=False)
    def close_case(self) -> bool:
        """Close the case with the termination contract. Returns True when written."""
        termination = self.termination_contract.value
        reason = self.close_reason.value
        ok = self._run(
            self.fb_close,
            lambda: self.db.close_case(
                self.case_id, termination_contract=termination, reason=reason
            ),
        )
        if ok:
            self.termination_contract.value = ""
            self.close_reason.value = ""
        return ok

    @one_at_a_time("follow_button", busy=False)
    def follow_up(self) -> bool:
        """Start a follow-up contract. Returns True when written."""
        inside = list(self.follow_in.value)
        outside = list(self.follow_out.value)
        note = self.follow_capacity.value
        reason = self.follow_reason.value
        ok = self._run(
            self.fb_follow,
            lambda: self.db.follow_up(
                self.case_id,
                in_scope=inside,
                out_of_scope=outside,
                capacity_note=note,
                reason=reason,
            ),
        )
        if ok:
            self.follow_capacity.value = ""
            self.follow_reason.value = ""
        return ok

    @one_at_a_time("reopen_button", busy=False)
    def reopen(self) -> bool:
        """Reopen the closed case. Returns True when written."""
        reason = self.reopen_reason.value
        ok = self._run(self.fb_reopen, lambda: self.db.reopen(self.case_id, reason=reason))
        if ok:
            self.reopen_reason.value = ""
        return ok

    # ----------------------------------------------------------------------------- view
    def _concerns(self, case_id: str | None) -> bool:
        return case_id in (None, self.case_id)

    def refresh(self) -> None:
        """Show the contract as the store holds it."""
        state = self.db.case(self.case_id)
        problems = state.problems
        active = state.active_contract
        closed = state.closed
        label = {p.problem_id: f"{p.problem_id} — {_short(p.text)}" for p in problems}

        status = pick("ditutup", "closed") if closed else pick("aktif", "open")
        if active is not None:
            contract = (
                f"{pick('Kontrak berlaku', 'Contract in force')}: {active.contract_id} "
                f"v{active.current.version}"
            )
        else:
            contract = pick("Belum ada kontrak yang berlaku", "No contract in force")
        self.header.value = (
            f"<h4>{esc(pick('Kontrak kasus', 'Contract of case'))} {esc(self.case_id)}</h4>"
            f"<div>{esc(status)} · {esc(contract)}</div>"
        )
        self.problem_table.value = self._problem_html(state)
        self._show_scope_choices(state, label)
        self._show_actions(state, label)
        self.history.value = self._history_html(state)

    def _show_scope_choices(self, state: Any, label: dict[str, str]) -> None:
        """Signing: a dropdown per problem (choices already made are kept)."""
        problems = state.problems
        for p in problems:
            if p.problem_id not in self.scope:
                self.scope[p.problem_id] = w.Dropdown(
                    options=[
                        ("—", None),
                        (pick("dalam cakupan", "in scope"), "in"),
                        (pick("di luar cakupan", "out of scope"), "out"),
                    ],
                    index=0,  # the "none" choice, shown by its label
                    layout=w.Layout(width="170px"),
                )
                css = css_class("pekso-scope-", p.problem_id)
                if css:
                    self.scope[p.problem_id].add_class(css)
        rows = []
        for p in problems:
            text = w.Label(label[p.problem_id], layout=w.Layout(width="440px"))
            rows.append(w.HBox([self.scope[p.problem_id], text]))
        if not rows:
            rows = [
                w.HTML(
                    "<span class='pekso-muted'>"
                    + esc(pick("Catat masalah klien dulu.", "Record the client's problems first."))
                    + "</span>"
                )
            ]
        self.scope_rows.children = rows
        can_sign = not state.closed and state.active_contract is None
        self.sign_box.layout.display = None if can_sign else "none"

    def _show_actions(self, state: Any, label: dict[str, str]) -> None:
        """Amend, refer, close, follow up and reopen: their choices and whether they show."""
        problems = state.problems
        active = state.active_contract
        closed = state.closed
        # amend / refer
        if active is not None:
            in_scope = set(active.in_scope)
            self.amend_add.options = [(label[p], p) for p in label if p not in in_scope]
            self.amend_drop.options = [(label[p], p) for p in active.in_scope if p in label]
        referable = [p for p in problems if active is None or p.problem_id not in active.in_scope]
        self.refer_problem.options = [(label[p.problem_id], p.problem_id) for p in referable]
        self.refer_problem.value = referable[0].problem_id if referable else None
        self.amend_box.layout.display = None if (active is not None and not closed) else "none"
        self.refer_box.layout.display = None if (referable and not closed) else "none"

        # close / follow-up / reopen
        self.close_box.layout.display = "none" if closed else None
        self.follow_in.options = [(v, k) for k, v in label.items()]
        self.follow_out.options = [(v, k) for k, v in label.items()]
        has_contract = state.contract is not None
        self.follow_box.layout.display = None if (has_contract and not closed) else "none"
        self.reopen_box.layout.display = None if closed else "none"

    def _problem_html(self, state: Any) -> str:
        if not state.problems:
            return ""
        scope_label = {
            "in": pick("dalam cakupan", "in scope"),
            "out": pick("di luar cakupan", "out of scope"),
            None: "—",
        }
        head = "".join(
            f"<th>{esc(h)}</th>"
            for h in (
                "#",
                pick("Masalah", "Problem"),
                pick("Kategori", "Category"),
                pick("Cakupan", "Scope"),
                pick("Dirujuk ke", "Referred to"),
            )
        )
        rows = "".join(
            f"<tr><td>{esc(p.problem_id)}</td><td>{esc(p.text)}</td><td>{esc(p.category)}</td>"
            f"<td>{esc(scope_label.get(p.scope, p.scope))}</td><td>{esc(p.referred_to)}</td></tr>"
            for p in state.problems
        )
        return f"<table class='pekso-table'><tr>{head}</tr>{rows}</table>"

    def _history_html(self, state: Any) -> str:
        if not state.contracts:
            return ""
        parts = [f"<h5>{esc(pick('Riwayat kontrak', 'Contract history'))}</h5>"]
        for c in state.contracts:
            follows = (
                f" ({esc(pick('lanjutan dari', 'follows'))} {esc(c.follows)})" if c.follows else ""
            )
            ended = ""
            if c.terminated_at is not None:
                ended = (
                    f" — {esc(pick('berakhir', 'ended'))} {esc(fmt_date(c.terminated_at))}: "
                    f"{esc(c.termination)}"
                )
            items = []
            for v in c.versions:
                scope = ", ".join(v.in_scope) or "—"
                outside = ", ".join(v.out_of_scope) or "—"
                change = ""
                if v.version > 1:
                    change = (
                        f"; {esc(pick('tambah', 'added'))} {esc(', '.join(v.added) or '—')}, "
                        f"{esc(pick('keluarkan', 'dropped'))} {esc(', '.join(v.dropped) or '—')}"
                        f"; {esc(pick('klien setuju', 'client agreed'))}: "
                        f"{esc(pick('ya', 'yes') if v.client_agreed else pick('tidak', 'no'))}"
                    )
                why = f"; {esc(pick('alasan', 'reason'))}: {esc(v.reason)}" if v.reason else ""
                items.append(
                    f"<li class='pekso-version'>v{v.version} · {esc(fmt_date(v.at))} · "
                    f"{esc(v.by)} — {esc(pick('dalam cakupan', 'in scope'))}: {esc(scope)}; "
                    f"{esc(pick('di luar', 'out'))}: {esc(outside)}{change}{why}</li>"
                )
            parts.append(
                f"<div><b>{esc(c.contract_id)}</b>{follows}{ended}<br>"
                f"<span class='pekso-muted'>{esc(pick('Kapasitas', 'Capacity'))}: "
                f"{esc(c.capacity_note)}</span><ul>{''.join(items)}</ul></div>"
            )
        return "".join(parts)
