"""Stage checklist: tick what was done, see what is often forgotten, move to the next stage."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from pekso_toolkit.core.i18n import pick
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.widgets._common import (
    Feedback,
    StoreView,
    attempt,
    esc,
    fmt_date,
    message_html,
    name_fields,
    one_at_a_time,
    set_disabled,
    style_block,
)

__all__ = ["StageChecklist"]

#: The often-forgotten steps (stage model ``forgotten`` values) in both languages.
FORGOTTEN: dict[str, tuple[str, str]] = {
    "contract_boundaries": ("batas kontrak layanan", "contract boundaries"),
    "analysis": ("analisa masalah", "problem analysis"),
    "termination_contract": ("kontrak pengakhiran", "termination contract"),
}
#: Flags the store raises, in both languages.
FLAGS: dict[str, tuple[str, str]] = {
    "no_contract_scope": (
        "tahap awal ditinggalkan tanpa kontrak layanan",
        "left intake without a service contract",
    ),
    "skipped_analysis": (
        "masuk intervensi tanpa analisa masalah",
        "entered intervention without problem analysis",
    ),
    "closed_without_termination_items": (
        "ditutup dengan butir sering-terlupa belum dicentang",
        "closed with often-forgotten items unticked",
    ),
}


class StageChecklist(StoreView):
    """The checklist of a case's current stage; other stages can be viewed with ``stage``.

    Ticking or unticking a box writes to the store at once (``tick`` / ``untick``). Items the
    practice often forgets are marked ★ and highlighted. "Move to the next stage" warns when
    often-forgotten items of the stages so far are unticked and asks for a confirmation; the
    store then records the move, and any flag it raises (skipped analysis, no contract scope)
    is shown here and counted in ``CaseStore.flags()``.

    Parameters
    ----------
    store : CaseStore
        The case store.
    case_id : str
        The case.

    Attributes
    ----------
    stage : ipywidgets.Dropdown
        The stage whose checklist is shown (starts at the current stage).
    checkboxes : dict of item id -> ipywidgets.Checkbox
        One box per checklist item of every helping stage (only the viewed stage's are shown).
    progress : ipywidgets.IntProgress
        Ticked items of the viewed stage.
    next_button, confirm_button, cancel_button : ipywidgets.Button
        Move to the next stage; confirm or cancel after a warning.
    feedback : Feedback
        Bilingual messages (errors of the store, warnings).
    """

    def __init__(self, store: Any, case_id: str) -> None:
        super().__init__(store)
        self.case_id = case_id
        self.model = store.model
        self.db.case(case_id)  # an unknown case fails here, loudly
        self._syncing = False
        self._shown_stage: str | None = None
        self._pending: str | None = None
        self._since_cache: tuple[tuple[tuple[str, Any], ...], Any] | None = None
        self.feedback = Feedback(("items", "stage"), aliases={"item_id": "items"})
        helping = self.model.helping_stages
        self.stage = w.Dropdown(
            options=[(f"{i + 1}. {s.label()}", s.id) for i, s in enumerate(helping)],
            description=pick("Lihat tahap", "View stage"),
            style={"description_width": "90px"},
            layout=w.Layout(width="420px"),
        )
        self.stage.observe(lambda _: self._show_items(), names="value")
        self.checkboxes: dict[str, w.Checkbox] = {}
        for stage in helping:
            for item in stage.checklist:
                star = "★ " if item.forgotten else ""
                box = w.Checkbox(
                    value=False,
                    description=f"{star}{item.label()}",
                    indent=False,
                    layout=w.Layout(width="auto"),
                )
                if item.forgotten:
                    box.add_class("pekso-forgotten")
                    box.style.background = "#fff7ed"
                    note = pick(*FORGOTTEN.get(item.forgotten, (item.forgotten, item.forgotten)))
                    box.tooltip = pick(f"Sering terlupa: {note}", f"Often forgotten: {note}")
                box.observe(lambda change, item_id=item.id: self._toggled(item_id, change), "value")
                box.add_class(f"pekso-item-{item.id}")
                self.checkboxes[item.id] = box
        self.header = w.HTML("")
        self.progress = w.IntProgress(min=0, max=1, value=0, layout=w.Layout(width="240px"))
        self.progress_label = w.HTML("")
        self.items = w.VBox()
        self.legend = w.HTML(
            "<span class='pekso-muted'>★ "
            + esc(pick("= sering terlupa", "= often forgotten"))
            + "</span>"
        )
        self.next_button = w.Button(icon="arrow-right", layout=w.Layout(width="auto"))
        self.next_button.on_click(lambda _: self.move_next())
        self.confirm_button = w.Button(
            description=pick("Tetap pindah", "Move anyway"),
            button_style="warning",
            layout=w.Layout(display="none", width="auto"),
        )
        self.confirm_button.on_click(lambda _: self.confirm_move())
        self.cancel_button = w.Button(
            description=pick("Batal", "Cancel"), layout=w.Layout(display="none", width="auto")
        )
        self.cancel_button.on_click(lambda _: self.cancel_move())
        self.warning = w.HTML("")
        self.children = [
            style_block(),
            self.header,
            w.HBox([self.stage, self.progress, self.progress_label]),
            self.items,
            self.feedback["items"],
            self.legend,
            w.HBox([self.next_button, self.confirm_button, self.cancel_button]),
            self.warning,
            self.feedback["stage"],
            self.feedback.general,
        ]
        self.add_class("pekso-checklist")
        name_fields(
            self, ("stage", "progress", "next_button", "confirm_button", "cancel_button", "warning")
        )
        self.refresh()

    # ----------------------------------------------------------------------------- reading
    def _state(self) -> Any:
        return self.db.case(self.case_id)

    def _target(self, state: Any) -> str | None:
        """The stage "move to next stage" goes to (None: none; close the case instead)."""
        helping = [s.id for s in self.model.helping_stages]
        if state.closed:
            return None
        if state.stage in helping:
            pos = helping.index(state.stage)
            return helping[pos + 1] if pos + 1 < len(helping) else None
        # reopened (or an imported state): go to the stage being viewed
        return str(self.stage.value)

    def _since(self, state: Any) -> Any:
        """When the case's current stay began, as :func:`pekso_toolkit.time_in_stage` counts it
        (repeated entries of one stage are one stay); for a closed or reopened case with no
        stay since, the time it entered that state."""
        entries = state.stages
        if not entries:
            return None
        key = tuple((e.stage, e.at) for e in entries)
        if self._since_cache is None or self._since_cache[0] != key:  # ticks do not move it
            self._since_cache = (key, self._stay_start(state))
        return self._since_cache[1]

    def _stay_start(self, state: Any) -> Any:
        entries = state.stages
        events = pd.DataFrame(
            {
                "case_id": [self.case_id] * len(entries),
                "stage": [e.stage for e in entries],
                "timestamp": pd.to_datetime([e.at for e in entries], utc=True),
            }
        )
        stays = time_in_stage(events, as_of=events["timestamp"].max(), model=self.model, carry=[])
        open_ = stays[~stays["observed"].to_numpy(dtype=bool)]
        if len(open_):
            return open_["entered_at"].iloc[0].to_pydatetime()
        return state.stage_entered_at

    def _missing_before(self, state: Any, target: str) -> list[tuple[Any, Any]]:
        """Often-forgotten items of the stages before ``target`` that are unticked."""
        order = self.model.index(target)
        ticked = state.ticked
        return [
            (stage, item)
            for stage, item in self.model.forgotten_items
            if stage.kind == "stage"
            and self.model.index(stage.id) < order
            and item.id not in ticked
        ]

    # ----------------------------------------------------------------------------- actions
    def _toggled(self, item_id: str, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self.feedback.clear()
        if change["new"]:
            ok, _ = attempt(self.feedback, lambda: self.db.tick(self.case_id, item_id))
        else:
            ok, _ = attempt(self.feedback, lambda: self.db.untick(self.case_id, item_id))
        if ok:
            self._changed(self.case_id)
        else:
            self.refresh()  # put the box back as the store has it

    def tick(self, item_id: str) -> None:
        """Tick an item (as clicking its box does)."""
        self.checkboxes[item_id].value = True

    def untick(self, item_id: str) -> None:
        """Untick an item (as clicking its box again does)."""
        self.checkboxes[item_id].value = False

    @one_at_a_time("next_button", busy=False)
    def move_next(self) -> bool:
        """Move the case to the next stage (what the button does).

        When often-forgotten items of the stages so far are unticked, nothing is written: a
        warning lists them and :meth:`confirm_move` (the "move anyway" button) is needed.
        Returns True when the case moved.
        """
        self.feedback.clear()
        state = self._state()
        target = self._target(state)
        if target is None:
            self.feedback.error(
                "stage",
                "Tidak ada tahap berikutnya; tutup kasus dengan kontrak pengakhiran.",
                "There is no next stage; close the case with a termination contract.",
            )
            return False
        missing = self._missing_before(state, target)
        if missing:
            self._pending = target
            names = "; ".join(f"★ {item.label('id')}" for _, item in missing)
            names_en = "; ".join(f"★ {item.label('en')}" for _, item in missing)
            label_id = self.model.label(target, "id")
            label_en = self.model.label(target, "en")
            self.warning.value = message_html(
                f"Butir yang sering terlupa belum dicentang: {names}. Centang dulu, atau pindah "
                f"ke {label_id} tetap (tercatat sebagai tanda bagi supervisor).",
                f"Often-forgotten items are unticked: {names_en}. Tick them first, or move to "
                f"{label_en} anyway (recorded as a flag for the supervisor).",
                css="pekso-warning",
            )
            self.confirm_button.layout.display = None
            self.cancel_button.layout.display = None
            return False
        return self._move(target)

    @one_at_a_time("confirm_button", busy=False)
    def confirm_move(self) -> bool:
        """Move after a warning (what "move anyway" does). Returns True when the case moved."""
        target = self._pending
        if target is None:
            return False
        return self._move(target)

    def cancel_move(self) -> None:
        """Drop a pending move after a warning (nothing is written)."""
        self._pending = None
        self.warning.value = ""
        self.confirm_button.layout.display = "none"
        self.cancel_button.layout.display = "none"

    def _move(self, target: str) -> bool:
        self.cancel_move()
        ok, _ = attempt(self.feedback, lambda: self.db.enter_stage(self.case_id, target))
        if ok:
            self._changed(self.case_id)
        return bool(ok)

    # ----------------------------------------------------------------------------- view
    def _concerns(self, case_id: str | None) -> bool:
        return case_id in (None, self.case_id)

    def refresh(self) -> None:
        """Show the checklist as the store holds it."""
        state = self._state()
        helping = [s.id for s in self.model.helping_stages]
        current = state.stage
        if current != self._shown_stage:
            # follow the case into its new stage
            self._shown_stage = current
            view = current if current in helping else None
            if view is None and state.closed:
                view = helping[-1]
            if view is not None and view != self.stage.value:
                self.stage.value = view
        closed = state.closed
        ticked = state.ticked
        self._syncing = True
        try:
            for item_id, box in self.checkboxes.items():
                box.value = item_id in ticked
                box.disabled = closed
        finally:
            self._syncing = False
        self._show_items()
        stage_text = self.model.label(current) if current in self.model else str(current)
        status = pick("ditutup", "closed") if closed else pick("aktif", "open")
        flags = ""
        if state.flags:
            names = sorted({f.flag for f in state.flags})
            shown = "; ".join(pick(*FLAGS.get(n, (n, n))) for n in names)
            flags = (
                f"<div class='pekso-warning'>⚑ {esc(pick('Tanda', 'Flags'))}: {esc(shown)}</div>"
            )
        self.header.value = (
            f"<h4>{esc(pick('Checklist kasus', 'Checklist of case'))} {esc(self.case_id)}</h4>"
            f"<div>{esc(pick('Tahap sekarang', 'Current stage'))}: <b>{esc(stage_text)}</b> "
            f"({esc(status)}; {esc(pick('sejak', 'since'))} "
            f"{esc(fmt_date(self._since(state)))})</div>{flags}"
        )
        target = self._target(state)
        if target is None:
            self.next_button.description = pick("Tidak ada tahap berikutnya", "No next stage")
            set_disabled(self.next_button, True)
        else:
            self.next_button.description = pick("Pindah ke: ", "Move to: ") + self.model.label(
                target
            )
            set_disabled(self.next_button, False)

    def _show_items(self) -> None:
        stage = self.model.stage(str(self.stage.value))
        boxes = [self.checkboxes[item.id] for item in stage.checklist]
        self.items.children = boxes
        done = sum(1 for b in boxes if b.value)
        self.progress.max = max(len(boxes), 1)
        self.progress.value = done
        self.progress.bar_style = "success" if boxes and done == len(boxes) else ""
        forgotten_open = sum(
            1 for item in stage.checklist if item.forgotten and not self.checkboxes[item.id].value
        )
        extra = f" · ★ {forgotten_open} {esc(pick('belum', 'open'))}" if forgotten_open else ""
        self.progress_label.value = f"{done}/{len(boxes)}{extra}"

    @property
    def shown_items(self) -> list[str]:
        """Ids of the items shown (the viewed stage's checklist)."""
        stage = self.model.stage(str(self.stage.value))
        return [item.id for item in stage.checklist]
