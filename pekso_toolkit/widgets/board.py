"""Case board: every open case in a column of its stage, days in stage, overdue highlighted."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from pekso_toolkit.core.i18n import pick
from pekso_toolkit.stays.durations import case_states, time_in_stage, to_utc
from pekso_toolkit.widgets._common import (
    StoreView,
    counted,
    css_class,
    esc,
    name_fields,
    store_zone_name,
    style_block,
)
from pekso_toolkit.widgets.checklist import StageChecklist, show_checklist

__all__ = ["CaseBoard"]

_ALL = "__all__"


class CaseBoard(StoreView):
    """Open cases by stage as of a date, with filters; clicking a case opens its checklist.

    Parameters
    ----------
    store : CaseStore
        The case store (recorded and imported cases).
    as_of : str, date or Timestamp
        The date the board shows (naive values are read in Asia/Jakarta): each case is in the
        stage it had entered by then; days in stage run to ``as_of``.
    max_per_stage : int
        At most this many cases per column (the longest-waiting first); the rest are counted.

    Attributes
    ----------
    office, worker : ipywidgets.Dropdown
        Filters (``None`` = all).
    buttons : dict of case id -> ipywidgets.Button
        The cases shown; overdue ones are red (``button_style="danger"``, class
        ``pekso-overdue``).
    detail : ipywidgets.VBox
        Below the board: the checklist of the clicked case.
    selected : str or None
        The clicked case.
    """

    def __init__(self, store: Any, *, as_of: Any, max_per_stage: int = 40) -> None:
        super().__init__(store)
        self.as_of = to_utc(as_of)
        self.model = store.model
        self.max_per_stage = int(max_per_stage)
        self.selected: str | None = None
        self.buttons: dict[str, w.Button] = {}
        everyone = pick("— semua —", "— all —")
        self.office = w.Dropdown(
            options=[(everyone, None)],
            index=0,
            description=pick("Kantor", "Office"),
            style={"description_width": "60px"},
        )
        self.worker = w.Dropdown(
            options=[(everyone, None)],
            index=0,
            description=pick("Peksos", "Worker"),
            style={"description_width": "60px"},
        )
        self.office.observe(lambda _: self._draw(), names="value")
        self.worker.observe(lambda _: self._draw(), names="value")
        self.header = w.HTML("")
        self.columns = w.HBox(layout=w.Layout(overflow="auto", align_items="flex-start"))
        self.detail = w.VBox()
        self._frame = pd.DataFrame()
        self.children = [
            style_block(),
            self.header,
            w.HBox([self.office, self.worker]),
            self.columns,
            self.detail,
        ]
        self.add_class("pekso-board")
        name_fields(self, ("office", "worker", "columns", "detail"))
        self.refresh()

    # ----------------------------------------------------------------------------- data
    def frame(self) -> pd.DataFrame:
        """The open cases as of ``as_of`` (before the filters).

        Days in stage are the open stays of :func:`pekso_toolkit.time_in_stage` on the store's
        stage events (the one definition of a stay), in the unit of the stage model's targets.
        A reopened case waiting for its next stage has no open stay there: it is shown in its
        state (``dibuka_kembali``) without days.

        Returns
        -------
        pandas.DataFrame
            One row per case open at ``as_of``: ``case_id``, ``office``, ``worker`` (string;
            the latest known values), ``stage`` (text: the stage of the open stay, or the
            case's state when it has none), ``entered_at`` (UTC; the open stay's
            ``entered_at``, NaT without one), ``days_in_stage`` (float; the open stay's
            ``days`` up to ``as_of``: calendar days, or working days when the stage model's
            targets are in working days; NaN without an open stay), ``target_days`` (float, NaN
            when the stage has no target), ``overdue`` (bool; ``days_in_stage >
            target_days``). Sorted by stage order, then longest waiting first. No client
            reference.
        """
        log = self.db.stage_events()
        columns = [
            "case_id",
            "office",
            "worker",
            "stage",
            "entered_at",
            "days_in_stage",
            "target_days",
            "overdue",
        ]
        states = case_states(log, as_of=self.as_of)
        states = states[states["stage"] != (self.model.closed_id or "")]
        if not len(states):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        carried = [c for c in ("office", "worker") if c in log.events.columns]
        working = self.model.target_unit == "working"
        stays = time_in_stage(
            log, as_of=self.as_of, days="working" if working else "calendar", carry=carried
        )
        open_ = stays[~stays["observed"].to_numpy(dtype=bool)].set_index("case_id")
        cur = pd.DataFrame({"case_id": states["case_id"].to_numpy()})
        ids = cur["case_id"]
        has_stay = ids.isin(open_.index).to_numpy()
        cur["stage"] = np.where(
            has_stay, ids.map(open_["stage"].astype(str)), states["stage"].to_numpy()
        ).astype(str)
        cur["entered_at"] = pd.to_datetime(ids.map(open_["entered_at"]), utc=True)
        cur["days_in_stage"] = ids.map(open_["days"]).astype(float)
        events = log.events[log.events["timestamp"] <= self.as_of]
        for col in ("office", "worker"):
            if col in carried:
                latest = events.groupby("case_id", sort=False)[col].last()  # last known value
                cur[col] = ids.map(latest).astype("string")
            else:
                cur[col] = pd.array([pd.NA] * len(cur), dtype="string")
        targets = self.model.targets
        cur["target_days"] = cur["stage"].map(lambda s: targets.get(s, np.nan)).astype(float)
        cur["overdue"] = (cur["days_in_stage"] > cur["target_days"]).to_numpy(dtype=bool)
        order = {s: i for i, s in enumerate(self.model.ids)}
        cur["_order"] = cur["stage"].map(order)
        cur = cur.sort_values(
            ["_order", "days_in_stage"], ascending=[True, False], kind="stable", na_position="last"
        )
        return cur.drop(columns="_order").reset_index(drop=True)[columns]

    def shown(self) -> pd.DataFrame:
        """The rows of :meth:`frame` that pass the office and worker filters."""
        data = self._frame
        if not len(data):
            return data
        keep = np.ones(len(data), dtype=bool)
        if self.office.value is not None:
            keep &= (data["office"] == self.office.value).fillna(False).to_numpy(dtype=bool)
        if self.worker.value is not None:
            keep &= (data["worker"] == self.worker.value).fillna(False).to_numpy(dtype=bool)
        return data[keep]

    # ----------------------------------------------------------------------------- actions
    def open_case(self, case_id: str) -> StageChecklist:
        """Show the checklist of ``case_id`` below the board (what clicking a case does)."""
        self.selected = case_id
        return show_checklist(self.detail, self.store, case_id)

    # ----------------------------------------------------------------------------- view
    def refresh(self) -> None:
        """Re-read the store and redraw the board."""
        self._frame = self.frame()
        everyone = pick("— semua —", "— all —")
        for dropdown, col in ((self.office, "office"), (self.worker, "worker")):
            values = sorted(str(v) for v in self._frame[col].dropna().unique())
            current = dropdown.value
            dropdown.options = [(everyone, None)] + [(v, v) for v in values]
            if current in values:
                dropdown.value = current
            else:
                dropdown.index = 0  # "all", shown by its label
        self._draw()

    def _draw(self) -> None:
        data = self.shown()
        as_of_local = self.as_of.tz_convert(store_zone_name(self.store)).strftime("%Y-%m-%d")
        n_over = int(data["overdue"].sum()) if len(data) else 0
        unit = (
            pick("hari kerja", "working days")
            if self.model.target_unit == "working"
            else pick("hari", "days")
        )
        self.header.value = (
            f"<h4>{esc(pick('Papan kasus aktif per', 'Open cases as of'))} {esc(as_of_local)}</h4>"
            f"<div class='pekso-muted'>{esc(counted(len(data), 'kasus', 'case', 'cases'))}; "
            f"{n_over} {esc(pick('melewati target tahap', 'past the stage target'))} "
            f"({esc(unit)})</div>"
        )
        stage_ids = [s.id for s in self.model.helping_stages]
        if self.model.reopened_id and (data["stage"] == self.model.reopened_id).any():
            stage_ids.append(self.model.reopened_id)
        buttons: dict[str, w.Button] = {}
        columns = []
        for stage_id in stage_ids:
            rows = data[data["stage"] == stage_id]
            target = self.model.targets.get(stage_id)
            target_text = (
                f" · {esc(pick('target', 'target'))} {target:g}" if target is not None else ""
            )
            title = w.HTML(
                f"<b>{esc(self.model.label(stage_id))}</b><br>"
                f"<span class='pekso-muted'>{esc(counted(len(rows), 'kasus', 'case', 'cases'))}"
                f"{target_text}</span>"
            )
            cells: list[w.Widget] = [title]
            for case_id, office, worker, days, overdue in (
                rows[["case_id", "office", "worker", "days_in_stage", "overdue"]]
                .head(self.max_per_stage)
                .itertuples(index=False)
            ):
                # no day count without an open stay (a reopened case awaiting its next stage)
                waited = f"{days:.0f} {pick('hr', 'd')}" if pd.notna(days) else "—"
                button = w.Button(
                    description=f"{case_id} · {waited}",
                    tooltip=f"{office or ''} · {worker or ''}",
                    button_style="danger" if overdue else "",
                    layout=w.Layout(width="190px"),
                )
                button.add_class("pekso-case")
                css = css_class("pekso-case-", str(case_id))
                if css:
                    button.add_class(css)
                if overdue:
                    button.add_class("pekso-overdue")
                button.on_click(lambda _, c=str(case_id): self.open_case(c))
                buttons[str(case_id)] = button
                cells.append(button)
            hidden = len(rows) - self.max_per_stage
            if hidden > 0:
                cells.append(
                    w.HTML(
                        f"<span class='pekso-muted'>+{hidden} "
                        f"{esc(pick('kasus lain', 'more'))}</span>"
                    )
                )
            columns.append(w.VBox(cells, layout=w.Layout(min_width="200px", margin="0 6px")))
        old = list(self.columns.children)
        self.buttons = buttons
        self.columns.children = columns
        for column in old:
            for cell in column.children:
                cell.close()
            column.close()
