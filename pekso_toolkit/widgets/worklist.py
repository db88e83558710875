"""The supervisor's worklist as a widget, and the supervisor's desk (board + worklist) in one call.

INTERNAL ONLY: both name cases and workers. :func:`supervisor_view` shows them only when called
with ``internal=True``; a public report shows neither.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from pekso_toolkit.core.i18n import get_language, pick
from pekso_toolkit.stays.durations import to_utc
from pekso_toolkit.stays.worklist import TASKS, worklist
from pekso_toolkit.widgets._common import (
    StoreView,
    counted,
    css_class,
    esc,
    message_html,
    name_fields,
    store_zone_name,
    style_block,
)
from pekso_toolkit.widgets.board import CaseBoard
from pekso_toolkit.widgets.checklist import StageChecklist, show_checklist

__all__ = ["WorklistView", "supervisor_view"]


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA or value != value else str(value)


class WorklistView(StoreView):
    """What each open case needs now (:func:`pekso_toolkit.worklist`), most urgent first.
    **Internal only**: it names cases and workers.

    Parameters
    ----------
    store : CaseStore
        The case store.
    as_of : date-like, optional
        The moment of the worklist (naive values are read in Asia/Jakarta); default: the
        store's clock, read again at every refresh.
    max_rows : int
        At most this many tasks are shown (the most urgent); the rest are counted.

    Attributes
    ----------
    task : ipywidgets.Dropdown
        Filter by kind of task (``None`` = all).
    buttons : list of ipywidgets.Button
        One per task shown, labelled with its case id; clicking opens the case's checklist.
    detail : ipywidgets.VBox
        Below the list: the checklist of the clicked case.
    selected : str or None
        The clicked case.
    """

    def __init__(self, store: Any, *, as_of: Any = None, max_rows: int = 30) -> None:
        super().__init__(store)
        self._as_of_given = as_of
        self.max_rows = int(max_rows)
        self.selected: str | None = None
        self.buttons: list[w.Button] = []
        self.task = w.Dropdown(
            options=[(pick("— semua —", "— all —"), None)]
            + [(pick(*labels), task) for task, labels in TASKS.items()],
            index=0,
            description=pick("Tugas", "Task"),
            style={"description_width": "60px"},
        )
        self.task.observe(lambda _: self._draw(), names="value")
        self.header = w.HTML("")
        self.rows = w.VBox()
        self.detail = w.VBox()
        self._frame = pd.DataFrame()
        self.children = [style_block(), self.header, self.task, self.rows, self.detail]
        self.add_class("pekso-worklist")
        name_fields(self, ("task", "rows", "detail"))
        self.refresh()

    def frame(self) -> pd.DataFrame:
        """The worklist (all tasks, before the filter).

        Returns
        -------
        pandas.DataFrame
            The table of :func:`pekso_toolkit.worklist`: ``case_id, office, worker, risk,
            stage, task, what, label_id, label_en, since, days_late, open_with``, most urgent
            first; ``attrs["internal"]`` is True (the publication gate refuses it).
        """
        as_of = None if self._as_of_given is None else to_utc(self._as_of_given)
        return worklist(self.store, as_of=as_of)

    def shown(self) -> pd.DataFrame:
        """The tasks that pass the task filter."""
        data = self._frame
        if self.task.value is None or not len(data):
            return data
        return data[(data["task"] == self.task.value).to_numpy(dtype=bool)]

    def open_case(self, case_id: str) -> StageChecklist:
        """Show the checklist of ``case_id`` below the list (what clicking a task does)."""
        self.selected = case_id
        return show_checklist(self.detail, self.store, case_id)

    def refresh(self) -> None:
        """Re-read the store and redraw the list."""
        self._frame = self.frame()
        self._draw()

    def _draw(self) -> None:
        data = self.shown()
        as_of = self._frame.attrs.get("as_of")
        when = (
            pd.Timestamp(as_of).tz_convert(store_zone_name(self.store)).strftime("%Y-%m-%d")
            if as_of
            else ""
        )
        n_cases = data["case_id"].nunique() if len(data) else 0
        note = pick(
            "Internal: menyebut kasus dan peksos; jangan diterbitkan.",
            "Internal: names cases and workers; never publish.",
        )
        self.header.value = (
            f"<h4>{esc(pick('Daftar kerja supervisor', 'Supervisor worklist'))} "
            f"{esc(when)}</h4><div class='pekso-warning'>{esc(note)}</div>"
            f"<div class='pekso-muted'>{esc(counted(len(data), 'tugas', 'task', 'tasks'))}, "
            f"{esc(counted(n_cases, 'kasus', 'case', 'cases'))}</div>"
        )
        buttons: list[w.Button] = []
        lines: list[w.Widget] = []
        label_col = "label_en" if get_language() == "en" else "label_id"
        for case_id, worker, stage, task, label, days in (
            data[["case_id", "worker", "stage", "task", label_col, "days_late"]]
            .head(self.max_rows)
            .itertuples(index=False)
        ):
            button = w.Button(
                description=str(case_id),
                tooltip=pick("Buka checklist kasus", "Open the case's checklist"),
                layout=w.Layout(width="110px"),
            )
            button.add_class("pekso-case")
            css = css_class("pekso-case-", str(case_id))
            if css:
                button.add_class(css)
            button.on_click(lambda _, c=str(case_id): self.open_case(c))
            buttons.append(button)
            late = f"{days:.0f} {pick('hr', 'd')}" if np.isfinite(days) else "—"
            text = w.HTML(
                f"<b>{esc(pick(*TASKS.get(str(task), (str(task), str(task)))))}</b>: "
                f"{esc(label)} · {esc(late)} · "
                f"<span class='pekso-muted'>{esc(_text(stage))} · {esc(_text(worker))}</span>"
            )
            lines.append(w.HBox([button, text]))
        hidden = len(data) - self.max_rows
        if hidden > 0:
            lines.append(
                w.HTML(
                    f"<span class='pekso-muted'>+{hidden} {esc(pick('tugas lain', 'more'))}</span>"
                )
            )
        old = list(self.rows.children)
        self.buttons = buttons
        self.rows.children = lines
        for line in old:
            for cell in getattr(line, "children", ()):
                cell.close()
            line.close()


def supervisor_view(store: Any, *, as_of: Any = None, internal: bool = False) -> w.Widget:
    """The supervisor's desk on a case store in one call: the case board and the worklist.

    Both name cases and workers, so they are shown only with ``internal=True`` (the notebooks'
    ``INTERNAL``); otherwise a note says where the per-case views are and nothing per case is
    shown.

    Parameters
    ----------
    store : CaseStore
        The case store.
    as_of : date-like, optional
        The date of the board and the worklist (naive values in Asia/Jakarta); default: the
        store's clock.
    internal : bool
        True in an internal analysis: show the per-case views.

    Returns
    -------
    ipywidgets.Widget
        With ``internal=True`` an ``ipywidgets.Tab`` of a :class:`CaseBoard` and a
        :class:`WorklistView` (``.children``); else an ``ipywidgets.HTML`` note.
    """
    if not internal:
        return w.HTML(
            message_html(
                "Papan kasus dan daftar kerja menyebut kasus satu per satu: hanya di analisis "
                "internal (INTERNAL = True).",
                "The case board and the worklist name single cases: internal analysis only "
                "(INTERNAL = True).",
                css="pekso-muted",
            )
        )
    when = as_of if as_of is not None else store._now()
    tabs = w.Tab(children=[CaseBoard(store, as_of=when), WorklistView(store, as_of=as_of)])
    tabs.set_title(0, pick("Papan kasus", "Case board"))
    tabs.set_title(1, pick("Daftar kerja", "Worklist"))
    return tabs
