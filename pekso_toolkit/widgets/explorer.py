"""Bottleneck explorer: time in stage by office, worker, category or period, table and plot."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pekso_toolkit.core.config import DEFAULT_TZ, MIN_COUNT
from pekso_toolkit.core.errors import AnalysisError
from pekso_toolkit.core.i18n import get_language, pick
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.plotting import plot_bottlenecks
from pekso_toolkit.stays.durations import to_utc
from pekso_toolkit.stays.summary import stage_summary
from pekso_toolkit.widgets._common import esc, name_fields, style_block

__all__ = ["BottleneckExplorer"]

#: Groupings offered when the stays carry the column: column -> (Bahasa Indonesia, English).
GROUPINGS: dict[str, tuple[str, str]] = {
    "office": ("Kantor", "Office"),
    "worker": ("Peksos", "Worker"),
    "category": ("Kategori masalah", "Problem category"),
    "period": ("Bulan masuk tahap", "Month of entry"),
}
#: Figures that can be shown: summary column -> (Bahasa Indonesia, English).
VALUES: dict[str, tuple[str, str]] = {
    "median_days": ("Median lama (KM)", "Median time (KM)"),
    "p90_days": ("Persentil 90 lama (KM)", "90th percentile time (KM)"),
    "overdue_share": ("Bagian melewati target", "Share past target"),
    "n_open": ("Masih terbuka", "Still open"),
    "n_stays": ("Jumlah tinggal", "Number of stays"),
}
_ALL = "_all"
_NO_GROUP = "_none"
WARM_UP_THREAD = "pekso-explorer-warm-up"


def _month_labels(entered_at: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each entry time in Asia/Jakarta (vectorised over distinct months)."""
    local = pd.DatetimeIndex(entered_at).tz_convert(DEFAULT_TZ)
    code = np.asarray(local.year * 12 + (local.month - 1))
    uniques, inverse = np.unique(code, return_inverse=True)
    labels = np.array([f"{u // 12:04d}-{u % 12 + 1:02d}" for u in uniques], dtype=object)
    return pd.Series(pd.array(labels[inverse], dtype="string"), index=entered_at.index)


class BottleneckExplorer(w.VBox):
    """Where do cases wait longest? Pick a grouping, a stage and a figure.

    The table is :func:`pekso_toolkit.stays.summary.stage_summary` of the stays by the chosen
    grouping (open stays censored, Kaplan–Meier figures), with small cells suppressed
    (``min_count``); the plot is :func:`pekso_toolkit.plotting.plot_bottlenecks` of the same
    table. Summaries are computed once per grouping and threshold, and plots once per view, so
    switching back and forth is immediate.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`pekso_toolkit.stays.durations.time_in_stage` (with carried columns such as
        ``office``, ``worker``, ``category``). A ``period`` grouping (month the stay began, in
        Asia/Jakarta) is added from ``entered_at``.
    as_of : str, date or Timestamp, optional
        The analysis date; it must be the one the stays were computed with (default: theirs).
    groupings : list of str, optional
        Columns offered as groupings (default: those of ``office, worker, category, period``
        present on the stays).
    min_count : int
        Cells with fewer stays than this are suppressed (default 11: counts 1–10 are hidden).
    floor : int
        The lowest threshold a viewer can choose (default: the publication threshold, 11), so
        that nobody looking at a dashboard can reveal small cells. Lower it only for an
        internal analysis.
    model : StageModel, optional
        Stage order, targets and labels (default: the stages and targets recorded on the stays
        by ``time_in_stage``; labels of the default model).
    warm_up : bool
        Compute the summaries of the other groupings in a background thread right away, so
        that changing the grouping later re-renders at once (default True).

    Attributes
    ----------
    grouping, stage, value : ipywidgets.Dropdown
        The choices (``stage`` None = all stages).
    min_count : ipywidgets.BoundedIntText
        The suppression threshold.
    table : ipywidgets.HTML
        The summary table shown.
    plot : ipywidgets.Image
        The plot shown (PNG).
    last_render_seconds : float
        How long the latest re-render took.
    """

    def __init__(
        self,
        stays: pd.DataFrame,
        *,
        as_of: Any = None,
        groupings: Sequence[str] | None = None,
        min_count: int = MIN_COUNT,
        floor: int = MIN_COUNT,
        model: StageModel | None = None,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        if int(min_count) < int(floor):
            raise AnalysisError(
                f"min_count {min_count} lebih kecil dari batas terendah {floor}: sel sekecil itu "
                "bisa mengenali orang. Untuk analisis internal saja, berikan juga floor=.",
                f"min_count {min_count} is below the floor {floor}: cells that small can "
                "identify people. For internal analysis only, also pass floor=.",
                field="min_count",
            )
        for col in ("stage", "days", "observed"):
            if col not in stays.columns:
                raise ValueError(
                    f"stays: column {col!r} is missing; make the table with "
                    "pk.time_in_stage(log, as_of=...)"
                )
        recorded = stays.attrs.get("as_of")
        if as_of is not None and recorded is not None and to_utc(as_of) != to_utc(recorded):
            raise ValueError(
                f"as_of {as_of!r} differs from the as_of of the stays ({recorded}); compute the "
                "stays again with time_in_stage(log, as_of=...) for that date"
            )
        self.as_of = to_utc(as_of) if as_of is not None else recorded
        self._model = model  # None: the stays' own stages and targets
        self.model = model or StageModel.default()
        data = stays
        if "period" not in data.columns and "entered_at" in data.columns:
            data = data.assign(period=_month_labels(data["entered_at"]))
            data.attrs = dict(stays.attrs)
        self.stays = data
        offered = [g for g in (groupings or GROUPINGS) if g in data.columns]
        self._summaries: dict[tuple[str, int], pd.DataFrame] = {}
        self._images: dict[tuple[Any, ...], bytes] = {}
        self.last_render_seconds = 0.0

        self.grouping = w.Dropdown(
            options=[(pick(*GROUPINGS.get(g, (g, g))), g) for g in offered]
            + [(pick("— tanpa pengelompokan —", "— no grouping —"), _NO_GROUP)],
            description=pick("Kelompok", "Group by"),
            style={"description_width": "80px"},
        )
        stage_ids = list(data.attrs.get("stages") or [s.id for s in self.model.helping_stages])
        self.stage = w.Dropdown(
            options=[(pick("— semua tahap —", "— all stages —"), None)]
            + [(self._stage_label(s), s) for s in stage_ids],
            index=0,  # the "none" choice, shown by its label
            description=pick("Tahap", "Stage"),
            style={"description_width": "50px"},
        )
        self.value = w.Dropdown(
            options=[(pick(*labels), key) for key, labels in VALUES.items()],
            description=pick("Ukuran", "Figure"),
            style={"description_width": "60px"},
        )
        self.min_count = w.BoundedIntText(
            value=int(min_count),
            min=max(int(floor), 1),
            max=1000,
            description=pick("Sel kecil <", "Small cells <"),
            style={"description_width": "90px"},
            layout=w.Layout(width="170px"),
        )
        self.header = w.HTML("")
        self.table = w.HTML("")
        self.plot = w.Image(format="png", layout=w.Layout(max_width="100%"))
        for control in (self.grouping, self.stage, self.value, self.min_count):
            control.observe(lambda _: self.render(), names="value")
        self.children = [
            style_block(),
            self.header,
            w.HBox([self.grouping, self.stage, self.value, self.min_count]),
            self.plot,
            self.table,
        ]
        self.add_class("pekso-widget")
        self.add_class("pekso-explorer")
        name_fields(self, ("grouping", "stage", "value", "min_count", "table", "plot"))
        self.render()
        self.warm_up: threading.Thread | None = None
        if warm_up:
            # the first look at a grouping fits one Kaplan-Meier curve per cell (about a second
            # on 100k stays): compute the other groupings while the user reads the first view
            # not a daemon: a daemon thread stopped inside compiled code at interpreter exit
            # aborts the process; the warm-up takes seconds, so exit waits for it instead
            self.warm_up = threading.Thread(target=self.precompute, name=WARM_UP_THREAD)
            self.warm_up.start()

    # ----------------------------------------------------------------------------- data
    def _stage_label(self, stage_id: str) -> str:
        return self.model.label(stage_id) if stage_id in self.model else stage_id

    def summary(self, grouping: str | None = None) -> pd.DataFrame:
        """The stage summary by ``grouping`` (default: the chosen one), small cells suppressed.

        Returns
        -------
        pandas.DataFrame
            :func:`pekso_toolkit.stays.summary.stage_summary` with ``by=grouping`` and
            ``min_count``; with no grouping, a ``_all`` column holds one group. Cached per
            grouping and threshold.
        """
        by = grouping if grouping is not None else str(self.grouping.value)
        key = (by, int(self.min_count.value))
        table = self._summaries.get(key)
        if table is None:
            if by == _NO_GROUP:
                table = stage_summary(self.stays, min_count=key[1], model=self._model)
                table.insert(0, _ALL, pick("semua", "all"))
            else:
                table = stage_summary(self.stays, by=by, min_count=key[1], model=self._model)
            # the background warm-up may have stored the same table meanwhile: keep the first
            table = self._summaries.setdefault(key, table)
        return table

    def precompute(self) -> None:
        """Compute the summary of every grouping now, so that no later choice has to wait."""
        for _, grouping in self.grouping.options:
            self.summary(str(grouping))

    def shown(self) -> pd.DataFrame:
        """The rows of :meth:`summary` shown now (the chosen stage, or all), sorted by the
        chosen figure (largest first) when one stage is chosen."""
        table = self.summary()
        stage = self.stage.value
        if stage is None:
            return table
        rows = table[table["stage"].astype(str) == stage]
        value = str(self.value.value)
        order = pd.to_numeric(rows[value], errors="coerce").astype(float)
        return rows.iloc[np.argsort(-order.fillna(-np.inf).to_numpy(), kind="stable")]

    # ----------------------------------------------------------------------------- view
    def render(self) -> None:
        """Redraw the header, plot and table for the current choices."""
        start = time.perf_counter()
        by = str(self.grouping.value)
        group_col = _ALL if by == _NO_GROUP else by
        rows = self.shown()
        self.plot.value = self._image(group_col, rows)
        self.table.value = self._table_html(group_col, rows)
        as_of = (
            pd.Timestamp(self.as_of).tz_convert(DEFAULT_TZ).strftime("%Y-%m-%d")
            if self.as_of is not None
            else "?"
        )
        unit = self.stays.attrs.get("days", "calendar")
        unit_text = (
            pick("hari kerja", "working days") if unit == "working" else pick("hari", "days")
        )
        censored = pick(
            "tinggal yang masih terbuka disensor (Kaplan–Meier)",
            "open stays censored (Kaplan–Meier)",
        )
        self.header.value = (
            f"<h4>{esc(pick('Hambatan per tahap', 'Stage bottlenecks'))}</h4>"
            f"<div class='pekso-muted'>{len(self.stays):,} "
            f"{esc(pick('tinggal di tahap', 'stays'))}; {esc(pick('per', 'as of'))} "
            f"{esc(as_of)}; {esc(unit_text)}; "
            f"{esc(censored)}</div>"
        )
        self.last_render_seconds = time.perf_counter() - start

    def _image(self, group_col: str, rows: pd.DataFrame) -> bytes:
        by = str(self.grouping.value)
        key = (
            str(self.grouping.value),
            int(self.min_count.value),
            self.stage.value,
            str(self.value.value),
            get_language(),
        )
        cached = self._images.get(key)
        if cached is not None:
            return cached
        groups = rows[group_col].astype(object).where(rows[group_col].notna(), None)
        group_names = [pick("(tidak ada)", "(missing)") if g is None else str(g) for g in groups]
        stage_names = [self._stage_label(s) for s in rows["stage"].astype(str).unique()]
        n_groups = max(len(set(group_names)), 1)
        # margins in inches from the label lengths (tight_layout would cost a second drawing)
        left = 0.4 + 0.075 * max((len(s) for s in stage_names), default=8)
        bottom = 0.5 + 0.045 * max((len(g) for g in group_names), default=4)
        width = min(left + 0.75 * n_groups + 1.3, 18.0)
        height = 0.9 + bottom + 0.45 * max(len(stage_names), 1)
        fig = Figure(figsize=(width, height), dpi=72)
        fig.subplots_adjust(
            left=left / width, right=1 - 1.1 / width, bottom=bottom / height, top=1 - 0.4 / height
        )
        ax = fig.add_subplot()
        if len(rows):
            plot_table = rows.assign(**{group_col: group_names})
            plot_bottlenecks(
                plot_table, by=group_col, value=str(self.value.value), ax=ax, model=self.model
            )
        ax.set_title(pick(*VALUES[str(self.value.value)]), fontsize="medium")
        ax.set_xlabel("" if group_col == _ALL else pick(*GROUPINGS.get(group_col, (by, by))))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        png = buffer.getvalue()
        self._images[key] = png
        return png

    def _table_html(self, group_col: str, rows: pd.DataFrame) -> str:
        value = str(self.value.value)
        suppressed = (
            rows["suppressed"].fillna("").astype(str).to_numpy()
            if "suppressed" in rows.columns
            else np.full(len(rows), "", dtype=object)
        )
        masked = [set(s.split(", ")) if s else set() for s in suppressed]
        groups = rows[group_col].astype(object).to_numpy()
        stages = rows["stage"].astype(str).to_numpy()
        columns = ("n_stays", "n_open", "median_days", "p90_days", "target_days", "overdue_share")
        numbers = {
            c: pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) for c in columns
        }
        hidden_mark = "<span title='{}'>▒</span>".format(
            esc(pick("disembunyikan: sel kecil", "suppressed: small cell"))
        )

        def cell(col: str, i: int) -> str:
            x = numbers[col][i]
            if col in masked[i]:
                return hidden_mark
            if not np.isfinite(x):
                return "—"
            if col == "overdue_share":
                return f"{100 * x:.0f}%"
            if col.startswith("n_"):
                return f"{int(x):,}"
            return f"{x:.1f}"

        head_labels = [
            pick(*GROUPINGS.get(group_col, ("Kelompok", "Group"))),
            pick("Tahap", "Stage"),
            pick("Tinggal", "Stays"),
            pick("Terbuka", "Open"),
            pick("Median (hari)", "Median (days)"),
            pick("P90 (hari)", "P90 (days)"),
            pick("Target", "Target"),
            pick("Lewat target", "Past target"),
        ]
        head = "".join(f"<th>{esc(h)}</th>" for h in head_labels)
        stage_text = {s: esc(self._stage_label(s)) for s in set(stages)}
        body = []
        for i in range(len(rows)):
            group = groups[i]
            group_text = esc(pick("(tidak ada)", "(missing)") if pd.isna(group) else group)
            css = " class='suppressed'" if suppressed[i] else ""
            cells = "".join(
                f"<td class='num{' chosen' if c == value else ''}'>{cell(c, i)}</td>"
                for c in columns
            )
            body.append(
                f"<tr{css}><td>{group_text}</td><td>{stage_text[stages[i]]}</td>{cells}</tr>"
            )
        note = esc(
            pick(
                f"▒ = disembunyikan karena kurang dari {int(self.min_count.value)} tinggal "
                "(atau agar tidak bisa dihitung balik).",
                f"▒ = suppressed: fewer than {int(self.min_count.value)} stays (or it could be "
                "worked back from the others).",
            )
        )
        return (
            f"<table class='pekso-table'><tr>{head}</tr>{''.join(body)}</table>"
            f"<div class='pekso-muted'>{note}</div>"
        )
