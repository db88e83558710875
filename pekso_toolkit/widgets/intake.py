"""Intake form: open a case, then record the client's problems one by one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.widgets._common import (
    DESC,
    Feedback,
    StoreView,
    attempt,
    esc,
    labelled,
    level_label,
    level_options,
    name_fields,
    one_at_a_time,
    set_disabled,
    style_block,
    today_local,
    wide,
)

__all__ = ["IntakeForm"]

_REQUIRED = (
    "client_ref",
    "office",
    "worker",
    "risk",
    "referral_source",
    "story",
    "opened",
)


class IntakeForm(StoreView):
    """Open a case at intake and add its problems, with category suggestions from the text.

    Parameters
    ----------
    store : CaseStore
        Where the case is recorded (the only place its state lives).
    taxonomy : Taxonomy, optional
        Categories offered for each problem, and the source of suggestions (default: the PPKS
        taxonomy, :meth:`pekso_toolkit.categories.taxonomy.Taxonomy.ppks`).
    offices : list of str, optional
        The agency's offices. When given, the office must be one of them.
    case_id : str, optional
        Continue an already opened case: the form starts at the problems.

    Attributes
    ----------
    client_ref, office, worker, risk, referral_source, story, opened : ipywidgets
        The intake fields; ``opened`` is the date of first contact (not in the future).
    open_button : ipywidgets.Button
        Opens the case (``CaseStore.open_case``).
    problem_text, category, severity, add_button : ipywidgets
        One problem at a time (``CaseStore.add_problem``); ``suggestions`` holds a button per
        suggested category: clicking it puts the category in ``category``, which the worker may
        change or set to "uncategorised".
    case_id : str or None
        The opened case.
    feedback : Feedback
        The bilingual messages shown next to the fields.
    """

    def __init__(
        self,
        store: Any,
        *,
        taxonomy: Any = None,
        offices: Sequence[str] | None = None,
        case_id: str | None = None,
    ) -> None:
        super().__init__(store)
        if taxonomy is None:
            taxonomy = Taxonomy.ppks()
        self.taxonomy = taxonomy
        self.offices = [str(o) for o in offices] if offices is not None else None
        self.case_id: str | None = None
        self._on_opened: list[Callable[[str], None]] = []
        self.feedback = Feedback(
            (*_REQUIRED, "problem_text", "category", "severity"),
            aliases={"text": "problem_text", "at": "opened"},
        )
        self._build_client_fields(store)
        self._build_case_fields()
        self._build_problem_fields(taxonomy)
        self._build_buttons()
        self._build_layout()
        if case_id is not None:
            self.db.case(case_id)  # an unknown case fails here, loudly
            self.case_id = case_id
            self._show_case()
        self.refresh()

    # ----------------------------------------------------------------------------- building
    def _build_client_fields(self, store: Any) -> None:
        """Who the client is and who handles the case: reference, office, worker."""
        self.client_ref = w.Text(
            description=pick("Rujukan klien", "Client reference"),
            placeholder=pick("nomor berkas / nama di berkas lembaga", "file number / name on file"),
            style=DESC,
            layout=wide(),
        )
        if self.offices is not None:
            self.office: w.Text | w.Combobox = w.Combobox(
                options=self.offices,
                ensure_option=False,
                description=pick("Kantor", "Office"),
                placeholder=pick("pilih kantor", "choose the office"),
                style=DESC,
                layout=wide(),
            )
        else:
            self.office = w.Text(description=pick("Kantor", "Office"), style=DESC, layout=wide())
        self.worker = w.Text(
            value=str(getattr(store, "worker", None) or ""),
            description=pick("Peksos", "Social worker"),
            style=DESC,
            layout=wide(),
        )

    def _build_case_fields(self) -> None:
        """What brought the client: risk, referral source, story, date of first contact."""
        self.risk = w.Dropdown(
            options=level_options(blank=pick("— pilih —", "— choose —")),
            index=0,  # the "none" choice, shown by its label
            description=pick("Risiko / urgensi", "Risk / urgency"),
            style=DESC,
        )
        self.referral_source = w.Text(
            description=pick("Sumber rujukan", "Referral source"),
            placeholder=pick("mis. RT/RW, puskesmas, sekolah", "e.g. village head, clinic, school"),
            style=DESC,
            layout=wide(),
        )
        self.story = w.Textarea(
            description=pick("Cerita klien", "Client's story"),
            placeholder=pick(
                "cerita klien apa adanya, seperti yang disampaikan saat intake",
                "the client's story as told at intake",
            ),
            style=DESC,
            layout=wide(),
            rows=5,
        )
        self.opened = w.DatePicker(
            value=today_local(),
            description=pick("Tanggal kontak pertama", "Date of first contact"),
            style=DESC,
        )

    def _build_problem_fields(self, taxonomy: Any) -> None:
        """One problem at a time: its text, suggested categories, category and severity."""
        self.problem_text = w.Textarea(
            description=pick("Masalah", "Problem"),
            placeholder=pick(
                "satu masalah dari cerita klien, mis. 'anak tidak sekolah sejak ayah meninggal'",
                "one problem of the client's story",
            ),
            style=DESC,
            layout=wide(),
            rows=2,
        )
        self.problem_text.observe(lambda _: self._suggest(), names="value")
        self.suggestions = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.suggestion_note = w.HTML("")
        leaves = list(taxonomy.leaves)
        self.category = w.Dropdown(
            options=[(pick("— tanpa kategori —", "— uncategorised —"), None)]
            + [(f"{code} — {taxonomy.label(code)}", code) for code in leaves],
            index=0,  # the "none" choice, shown by its label
            description=pick("Kategori", "Category"),
            style=DESC,
            layout=wide(),
        )
        self.severity = w.Dropdown(
            options=level_options(blank="—"),
            index=0,  # the "none" choice, shown by its label
            description=pick("Keparahan", "Severity"),
            style=DESC,
        )

    def _build_buttons(self) -> None:
        """Open the case, add a problem, start a new case; the header and the problem list."""
        self.open_button = w.Button(
            description=pick("Buka kasus", "Open case"), button_style="primary", icon="folder-open"
        )
        self.open_button.on_click(lambda _: self.submit())
        self.add_button = w.Button(
            description=pick("Tambah masalah", "Add problem"), icon="plus", disabled=True
        )
        self.add_button.on_click(lambda _: self.add_problem())
        self.new_button = w.Button(
            description=pick("Kasus baru", "New case"), icon="file", layout=w.Layout(display="none")
        )
        self.new_button.on_click(lambda _: self.reset())
        self.header = w.HTML("")
        self.problem_list = w.HTML("")

    def _build_layout(self) -> None:
        """The intake section, then the problem section (hidden until the case is open)."""
        fb = self.feedback
        self.intake_box = w.VBox(
            [
                labelled(self.client_ref, fb["client_ref"]),
                labelled(self.office, fb["office"]),
                labelled(self.worker, fb["worker"]),
                labelled(self.risk, fb["risk"]),
                labelled(self.referral_source, fb["referral_source"]),
                labelled(self.story, fb["story"]),
                labelled(self.opened, fb["opened"]),
                w.HBox([self.open_button, fb.general]),
            ]
        )
        self.problem_box = w.VBox(
            [
                w.HTML(f"<b>{esc(pick('Masalah klien', 'Client problems'))}</b>"),
                self.problem_list,
                labelled(self.problem_text, fb["problem_text"]),
                w.HBox([self.suggestion_note, self.suggestions]),
                labelled(self.category, fb["category"]),
                labelled(self.severity, fb["severity"]),
                w.HBox([self.add_button, self.new_button]),
            ],
            layout=w.Layout(display="none"),
        )
        self.children = [style_block(), self.header, self.intake_box, self.problem_box]
        self.add_class("pekso-intake")
        names = ("open_button", "problem_text", "category", "severity", "add_button")
        name_fields(self, (*_REQUIRED, *names, "new_button", "problem_list"))

    # ----------------------------------------------------------------------------- actions
    def on_opened(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(case_id)`` when the form has opened a case."""
        self._on_opened.append(callback)

    def _check(self) -> dict[str, Any] | None:
        """Values of the intake fields, or None after showing what is missing or wrong."""
        fb = self.feedback
        values: dict[str, Any] = {
            "client_ref": self.client_ref.value.strip(),
            "office": self.office.value.strip(),
            "worker": self.worker.value.strip(),
            "risk": self.risk.value,
            "referral_source": self.referral_source.value.strip(),
            "story": self.story.value,
            "opened": self.opened.value,
        }
        bad = False
        for name in _REQUIRED:
            value = values[name]
            if value is None or (isinstance(value, str) and not value.strip()):
                fb.error(name, "Wajib diisi.", "Required.")
                bad = True
        opened = values["opened"]
        if opened is not None and opened > today_local():
            fb.error(
                "opened",
                f"Tanggal {opened.isoformat()} ada di masa depan; catat yang sudah terjadi.",
                f"The date {opened.isoformat()} is in the future; record what has happened.",
            )
            bad = True
        if self.offices is not None and values["office"] and values["office"] not in self.offices:
            known = ", ".join(self.offices)
            fb.error(
                "office",
                f"Kantor {values['office']!r} tidak dikenal; pilih salah satu: {known}.",
                f"Unknown office {values['office']!r}; choose one of: {known}.",
            )
            bad = True
        return None if bad else values

    @one_at_a_time("open_button")
    def submit(self) -> str | None:
        """Open the case from the fields (what the "open case" button does).

        Returns the new case id, or None when the input was rejected (nothing is written then;
        the reasons are shown next to the fields).
        """
        self.feedback.clear()
        if self.case_id is not None:
            return self.case_id
        values = self._check()
        if values is None:
            return None
        opened = values.pop("opened")
        client_ref = values.pop("client_ref")
        ok, case_id = attempt(
            self.feedback, lambda: self.db.open_case(client_ref, **values, at=opened)
        )
        if not ok:
            return None
        self.case_id = str(case_id)
        self._show_case()
        self._changed(self.case_id)
        self.feedback.ok(f"Kasus {self.case_id} dibuka.", f"Case {self.case_id} opened.")
        for callback in list(self._on_opened):
            callback(self.case_id)
        return self.case_id

    def _show_case(self) -> None:
        for field in (
            self.client_ref,
            self.office,
            self.worker,
            self.risk,
            self.referral_source,
            self.story,
            self.opened,
            self.open_button,
        ):
            set_disabled(field, True)
        self.problem_box.layout.display = None
        set_disabled(self.add_button, False)
        self.new_button.layout.display = None

    def _suggest(self) -> None:
        text = self.problem_text.value
        found = self.taxonomy.suggest(text, k=3) if text.strip() else ()
        buttons = []
        for s in found:
            button = w.Button(
                description=f"{s.code} — {self.taxonomy.label(s.code)}",
                tooltip=pick("Terima saran ini", "Accept this suggestion"),
                layout=w.Layout(width="auto"),
            )
            button.add_class("pekso-suggestion")
            button.on_click(lambda _, code=s.code: self.accept(code))
            buttons.append(button)
        self.suggestions.children = buttons
        if found:
            self.suggestion_note.value = (
                f"<span class='pekso-muted'>{esc(pick('Saran kategori:', 'Suggested:'))}</span>"
            )
        elif text.strip():
            self.suggestion_note.value = (
                "<span class='pekso-muted'>"
                + esc(pick("Tidak ada saran; pilih sendiri.", "No suggestion; choose yourself."))
                + "</span>"
            )
        else:
            self.suggestion_note.value = ""

    @property
    def suggested(self) -> list[str]:
        """Codes currently suggested for the problem text, best first."""
        return [str(b.description).split(" — ")[0] for b in self.suggestions.children]

    def accept(self, code: str) -> None:
        """Accept a suggested category (the worker can still change it)."""
        self.category.value = code

    @one_at_a_time("add_button")
    def add_problem(self) -> str | None:
        """Add the problem in the fields to the case (what the "add problem" button does).

        Returns the problem id, or None when rejected (nothing written).
        """
        fb = self.feedback
        fb.clear()
        if self.case_id is None:
            fb.error(None, "Buka kasus dulu.", "Open the case first.")
            return None
        text = self.problem_text.value
        if not text.strip():
            fb.error("problem_text", "Wajib diisi.", "Required.")
            return None
        case_id = self.case_id
        ok, problem_id = attempt(
            fb,
            lambda: self.db.add_problem(
                case_id, text, category=self.category.value, severity=self.severity.value
            ),
        )
        if not ok:
            return None
        self.problem_text.value = ""
        self.category.index = 0
        self.severity.index = 0
        self._changed(case_id)
        fb.ok(f"Masalah {problem_id} dicatat.", f"Problem {problem_id} recorded.")
        return str(problem_id)

    def reset(self) -> None:
        """Clear the form for the next client (nothing is written)."""
        self.case_id = None
        for field in (self.client_ref, self.office, self.referral_source, self.story):
            field.value = ""
            field.disabled = False
        for field in (self.worker, self.risk, self.opened, self.open_button):
            set_disabled(field, False)
        self.risk.index = 0
        self.opened.value = today_local()
        self.problem_text.value = ""
        self.problem_box.layout.display = "none"
        set_disabled(self.add_button, True)
        self.new_button.layout.display = "none"
        self.feedback.clear()
        self.refresh()

    # ----------------------------------------------------------------------------- view
    def _concerns(self, case_id: str | None) -> bool:
        return self.case_id is not None and case_id in (None, self.case_id)

    def refresh(self) -> None:
        """Show the opened case and its problems as the store holds them."""
        if self.case_id is None:
            self.header.value = (
                f"<h4>{esc(pick('Intake: buka kasus baru', 'Intake: open a new case'))}</h4>"
            )
            self.problem_list.value = ""
            return
        state = self.db.case(self.case_id, with_client=True)
        self.header.value = (
            f"<h4>{esc(pick('Kasus', 'Case'))} {esc(state.case_id)} — {esc(state.office)}, "
            f"{esc(state.worker)}</h4><div>{esc(pick('Klien', 'Client'))}: "
            f"<span class='pekso-client'>{esc(state.client_ref)}</span></div>"
        )
        if not state.problems:
            self.problem_list.value = (
                f"<p class='pekso-muted'>{esc(pick('Belum ada masalah.', 'No problems yet.'))}</p>"
            )
            return
        rows = "".join(
            f"<tr><td>{esc(p.problem_id)}</td><td>{esc(p.text)}</td>"
            f"<td>{esc(self._category_label(p.category))}</td>"
            f"<td>{esc(level_label(p.severity))}</td></tr>"
            for p in state.problems
        )
        head = "".join(
            f"<th>{esc(h)}</th>"
            for h in (
                "#",
                pick("Masalah", "Problem"),
                pick("Kategori", "Category"),
                pick("Keparahan", "Severity"),
            )
        )
        self.problem_list.value = f"<table class='pekso-table'><tr>{head}</tr>{rows}</table>"

    def _category_label(self, code: str | None) -> str:
        if code is None:
            return pick("tanpa kategori", "uncategorised")
        if code in self.taxonomy:
            return f"{code} — {self.taxonomy.label(code)}"
        return code
