"""Stage checklist: tick what was done, see what is often forgotten, move to the next stage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ipywidgets as w
import pandas as pd

from pekso_toolkit.core.i18n import pick
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.widgets._common import (
    Feedback,
    StoreView,
    at_of_date,
    attempt,
    date_field,
    esc,
    fmt_date,
    follow_today,
    labelled,
    message_html,
    name_fields,
    one_at_a_time,
    set_disabled,
    style_block,
)

__all__ = ["StageChecklist", "show_checklist"]

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
#: What a tick or a move may not be dated before, in both languages (as the store names them).
_STAY = ("awal masa di tahap sekarang", "the start of the current stay")
_ENTRY = ("masuk tahap sekarang", "the current stage's entry")
_TICK = ("waktu butir ini dicentang", "the time this item was ticked")


class StageChecklist(StoreView):
    """The checklist of a case's current stage; other stages can be viewed with ``stage``.

    Ticking or unticking a box writes to the store at once (``tick`` / ``untick``), dated by
    ``date`` ("date it happened"): the store's today records the moment, an earlier day is
    back-dated (12:00 local time that day, see :func:`~pekso_toolkit.widgets._common.at_of_date`).
    A date in the future or before the current stay began writes nothing and says why next to
    the date. Items the
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
    date : ipywidgets.DatePicker
        When the ticks and moves happened (default and latest: the store's today). The chosen
        day is kept for the next entries; left at today, it follows the calendar.
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
        self.feedback = Feedback(
            ("items", "stage", "date"), aliases={"item_id": "items", "at": "date"}
        )
        self.date = date_field(store)
        helping = self.model.helping_stages
        self.stage = w.Dropdown(
            options=[(f"{i + 1}. {s.label()}", s.id) for i, s in enumerate(helping)],
            description=pick("Lihat tahap", "View stage"),
            style={"description_width": "90px"},
            layout=w.Layout(width="420px"),
        )
        self.stage.observe(lambda _: self._show_items(), names="value")
        self.checkboxes = self._build_boxes(helping)
        self.header = w.HTML("")
        self.progress = w.IntProgress(min=0, max=1, value=0, layout=w.Layout(width="240px"))
        self.progress_label = w.HTML("")
        self.items = w.VBox()
        self._build_buttons()
        self.children = [
            style_block(),
            self.header,
            w.HBox([self.stage, self.progress, self.progress_label]),
            labelled(self.date, self.feedback["date"]),
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
            self,
            ("stage", "date", "progress", "next_button", "confirm_button", "cancel_button"),
        )
        name_fields(self, ("warning",))
        self.refresh()

    def _build_boxes(self, helping: Any) -> dict[str, w.Checkbox]:
        """One box per checklist item of every helping stage; often-forgotten ones marked ★."""
        checkboxes: dict[str, w.Checkbox] = {}
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
                checkboxes[item.id] = box
        return checkboxes

    def _build_buttons(self) -> None:
        """The ★ legend; move to the next stage; the warning, confirm or cancel after it."""
        self.legend = w.HTML(
            "<span class='pekso-muted'>★ "
            + esc(pick("= sering terlupa", "= often forgotten"))
            + "</span>"
        )
        self.warning = w.HTML("")
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
    def _picked(self, since: datetime | None, what: tuple[str, str]) -> tuple[bool, Any]:
        """``(True, at)`` of the date field (None: now), or ``(False, None)`` after showing why
        the date cannot be used next to it."""
        follow_today(self.date, self.store)
        picked = self.date.value
        return attempt(
            self.feedback, lambda: at_of_date(self.store, picked, since=since, what=what)
        )

    def _toggled(self, item_id: str, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self.feedback.clear()
        state = self._state()
        since, what = self._since(state), _STAY
        tick = next((t for t in state.ticks if t.item_id == item_id), None)
        if not change["new"] and tick is not None and (since is None or tick.ticked_at > since):
            since, what = tick.ticked_at, _TICK  # an untick does not precede its tick
        ok, at = self._picked(since, what)
        if ok:
            record = self.db.tick if change["new"] else self.db.untick
            ok, _ = attempt(self.feedback, lambda: record(self.case_id, item_id, at=at))
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
        warning lists them and :meth:`confirm_move` (the "move anyway" button) is needed. A
        date the move cannot have (see ``date``) is refused before that, next to the date.
        Returns True when the case moved.
        """
        self.feedback.clear()
        self.cancel_move()
        state = self._state()
        target = self._target(state)
        if target is None:
            self.feedback.error(
                "stage",
                "Tidak ada tahap berikutnya; tutup kasus dengan kontrak pengakhiran.",
                "There is no next stage; close the case with a termination contract.",
            )
            return False
        ok, at = self._move_at(state, target)
        if not ok:
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
        return self._move(target, at)

    def _move_at(self, state: Any, target: str) -> tuple[bool, Any]:
        """``(True, at)`` of a move to ``target`` dated by the date field, or ``(False, None)``
        after showing why not: the date, then (back-dated) the store's own dry run."""
        ok, at = self._picked(state.stage_entered_at, _ENTRY)
        if ok and at is not None:
            problems = self.db.check("move_stage", self.case_id, stage=target, at=at)
            for problem in problems:
                self.feedback.show(problem.error)
            ok = not problems
        return ok, at if ok else None

    @one_at_a_time("confirm_button", busy=False)
    def confirm_move(self) -> bool:
        """Move after a warning (what "move anyway" does), dated by the date field as it is now.
        Returns True when the case moved."""
        target = self._pending
        if target is None:
            return False
        self.feedback.clear()
        ok, at = self._move_at(self._state(), target)
        if not ok:
            return False
        return self._move(target, at)

    def cancel_move(self) -> None:
        """Drop a pending move after a warning (nothing is written)."""
        self._pending = None
        self.warning.value = ""
        self.confirm_button.layout.display = "none"
        self.cancel_button.layout.display = "none"

    def _move(self, target: str, at: datetime | None = None) -> bool:
        self.cancel_move()
        ok, _ = attempt(self.feedback, lambda: self.db.enter_stage(self.case_id, target, at=at))
        if ok:
            self._changed(self.case_id)
        return bool(ok)

    # ----------------------------------------------------------------------------- view
    def _concerns(self, case_id: str | None) -> bool:
        return case_id in (None, self.case_id)

    def refresh(self) -> None:
        """Show the checklist as the store holds it."""
        follow_today(self.date, self.store)
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
            f"{esc(fmt_date(self._since(state), self.store))})</div>{flags}"
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


def show_checklist(detail: w.Box, store: Any, case_id: str) -> StageChecklist:
    """Show the checklist of ``case_id`` in ``detail`` (closing what it showed before)."""
    checklist = StageChecklist(store, case_id)
    old = list(detail.children)
    detail.children = [checklist]
    for widget in old:
        widget.close()
    return checklist
