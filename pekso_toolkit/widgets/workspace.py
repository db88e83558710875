"""Case workspace: open a new case or pick one already in the store, then work on it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from pekso_toolkit.core.i18n import pick
from pekso_toolkit.widgets._common import StoreView, esc, name_fields, style_block
from pekso_toolkit.widgets.checklist import StageChecklist
from pekso_toolkit.widgets.contract import ContractEditor
from pekso_toolkit.widgets.intake import IntakeForm

__all__ = ["CaseWorkspace"]

_NEW = ""


class CaseWorkspace(StoreView):
    """A social worker's page: where the store is, a case picker, and the chosen case's widgets.

    The picker lists every case in the store (newest first); choosing one shows its intake
    form (to add problems), its stage checklist and its contract. "Kasus baru / New case"
    shows an empty intake form; once the case is opened it is chosen in the picker. Because
    everything lives in the store file, a restarted kernel shows the same cases again.

    Parameters
    ----------
    store : CaseStore
        The case store to show and write to.
    offices : list of str, optional
        Office names offered by the intake form.
    case_id : str, optional
        The case to show first (default: a new case).

    Attributes
    ----------
    location : ipywidgets.HTML
        The store file's full path and how many cases it holds.
    case_picker : ipywidgets.Dropdown
        The case being worked on ("" = a new case).
    intake, checklist, contract : widgets or None
        The widgets of the chosen case (``checklist`` and ``contract`` None for a new case).
    """

    def __init__(
        self, store: Any, *, offices: Sequence[str] | None = None, case_id: str | None = None
    ) -> None:
        super().__init__(store)
        self._known: set[str] = set()
        self._refreshing = False
        self.offices = list(offices) if offices is not None else None
        self.location = w.HTML("")
        self.case_picker = w.Dropdown(
            description=pick("Kasus", "Case"),
            style={"description_width": "60px"},
            layout=w.Layout(width="360px"),
        )
        self.area = w.VBox()
        self.intake: IntakeForm | None = None
        self.checklist: StageChecklist | None = None
        self.contract: ContractEditor | None = None
        self.children = [style_block(), self.location, self.case_picker, self.area]
        self.add_class("pekso-workspace")
        name_fields(self, ("location", "case_picker"))
        self.refresh()
        if case_id is not None:
            self.store.case(case_id)  # an unknown case fails here, loudly
            self.case_picker.value = case_id
        self._show(self.case_picker.value)
        self.case_picker.observe(self._on_pick, names="value")

    def _on_pick(self, change: dict[str, Any]) -> None:
        if not self._refreshing:
            self._show(change["new"])

    def _concerns(self, case_id: str | None) -> bool:
        return case_id is None or case_id not in self._known

    def refresh(self) -> None:
        """Re-read the list of cases (a case opened anywhere appears in the picker)."""
        ids = list(reversed(self.store.case_ids()))
        self._known = set(ids)
        options = [(pick("— kasus baru —", "— new case —"), _NEW), *[(i, i) for i in ids]]
        chosen = self.case_picker.value
        self._refreshing = True  # re-listing the cases must not rebuild the shown widgets
        try:
            self.case_picker.options = options
            self.case_picker.value = chosen if chosen in self._known else _NEW
        finally:
            self._refreshing = False
        path = Path(str(self.store.path)).resolve()
        count = pick(f"{len(ids)} kasus", f"{len(ids)} case{'s' if len(ids) != 1 else ''}")
        kept = pick(
            "Semua yang dicatat tersimpan di berkas ini, juga setelah kernel dimulai ulang.",
            "Everything recorded is kept in this file, also after a kernel restart.",
        )
        self.location.value = (
            f"<p>{esc(pick('Basis data kasus', 'Case store'))}: <code>{esc(str(path))}</code> "
            f"({esc(count)}). {esc(kept)}</p>"
        )

    def _show(self, case_id: str) -> None:
        """Show the widgets of ``case_id`` ("" = a new case)."""
        if case_id == _NEW:
            self.intake = IntakeForm(self.store, offices=self.offices)
            self.intake.on_opened(self._opened)
            self.checklist = self.contract = None
            self.area.children = [self.intake]
            return
        self.intake = IntakeForm(self.store, offices=self.offices, case_id=case_id)
        self.checklist = StageChecklist(self.store, case_id)
        self.contract = ContractEditor(self.store, case_id)
        self.area.children = [self.intake, self.checklist, self.contract]

    def _opened(self, case_id: str) -> None:
        self.refresh()
        self.case_picker.value = case_id  # shows the new case's checklist and contract
