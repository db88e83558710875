"""Plots of the paths cases take: the process map and the dotted chart.

Both follow ``plot_*(data, *, ..., ax=None, palette=None, **kwargs) -> Axes``. The figures come
from :mod:`pekso_toolkit.stays.process`; the plots only draw them, with matplotlib alone (no graph
library): the stage model fixes where each stage stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.stays.durations import events_and_model, to_utc
from pekso_toolkit.stays.process import MOVE_KINDS, process_map

__all__ = ["KIND_COLORS", "plot_dotted_chart", "plot_process_map"]

#: Default colour of each kind of move.
KIND_COLORS: dict[str, str] = {
    "forward": "#1b9e77",
    "skip": "#7570b3",
    "rework": "#d95f02",
    "close": "#4d4d4d",
    "reopen": "#e7298a",
    "resume": "#e6ab02",
}

_KIND_LABELS = {
    "forward": ("maju", "forward"),
    "skip": ("melompati tahap", "skipping a stage"),
    "rework": ("kembali (pengulangan)", "back (rework)"),
    "close": ("ditutup", "closed"),
    "reopen": ("dibuka kembali", "reopened"),
    "resume": ("dilanjutkan setelah dibuka kembali", "resumed after reopening"),
}

_BOX_W, _BOX_H = 0.72, 0.42


def _days_text(days: float) -> str:
    """``"12 hr"`` / ``"12 d"``; under a day in hours, under an hour in minutes."""
    if not np.isfinite(days):
        return ""
    if days < 1 / 24:
        value, unit = days * 1440, pick("mnt", "min")
    elif days < 1:
        value, unit = days * 24, pick("jam", "h")
    else:
        value, unit = days, pick("hr", "d")
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    if pick("id", "en") == "id":
        text = text.replace(".", ",")
    return f"{text} {unit}"


def _counted(n: int, noun_id: str, one_en: str, many_en: str) -> str:
    """``n`` and its noun in the current language: ``"1 move"``, ``"2 moves"``; Bahasa
    Indonesia does not inflect (``"1 perpindahan"``, ``"2 perpindahan"``) and groups thousands
    with a dot."""
    text = f"{n:,}"
    if pick("id", "en") == "id":
        return f"{text.replace(',', '.')} {noun_id}"
    return f"{text} {one_en if n == 1 else many_en}"


def _count_text(n: int) -> str:
    return _counted(n, "kasus", "case", "cases")


def _wrap(label: str, width: int = 11) -> str:
    """Break a stage label into short lines (long ids also after an underscore)."""
    words: list[str] = []
    for word in label.split():
        while len(word) > width and "_" in word[1:-1]:
            cut = word.rfind("_", 1, width + 1)
            cut = cut if cut > 0 else word.index("_", 1)
            words.append(word[: cut + 1])
            word = word[cut + 1 :]
        words.append(word)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _model_of(data: Any, model: StageModel | None) -> StageModel:
    if model is not None:
        return model
    if hasattr(data, "model") and isinstance(data.model, StageModel):
        return data.model
    return StageModel.default()


def _draw_stage_boxes(ax: Axes, model: StageModel, x_of: dict[str, float]) -> None:
    """One labelled box per stage or state of the model, at its x position."""
    for sid, x in x_of.items():
        stage = model.stage(sid)
        face = "#f2f2f2" if stage.kind == "stage" else "#e0e0e0"
        box = FancyBboxPatch(
            (x - _BOX_W / 2, -_BOX_H / 2),
            _BOX_W,
            _BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            fc=face,
            ec="#333333",
            lw=1.0,
            zorder=3,
        )
        ax.add_patch(box)
        ax.text(x, 0, _wrap(model.label(sid)), ha="center", va="center", fontsize=8, zorder=5)


def plot_process_map(
    data: Any,
    *,
    ax: Axes | None = None,
    palette: Mapping[str, Any] | None = None,
    as_of: Any = None,
    model: StageModel | None = None,
    min_cases: int | None = None,
    show_counts: bool = True,
    **kwargs: Any,
) -> Axes:
    """The process map: stages left to right, each move an arrow as wide as its number of cases.

    Moves to the next stage (and a stage's closure or reopening when they are neighbours in the
    model) are arcs above the row of stages; moves that skip stages, move back (rework) or come
    back after a reopening are arcs below, deeper the farther they go. Each arrow is labelled
    with the median days spent before the move (censoring-aware, from
    :func:`~pekso_toolkit.stays.process.process_map`) and, with ``show_counts``, the cases.

    Parameters
    ----------
    data : EventLog, event DataFrame, or the output of ``process_map``
        The events (mapped with ``as_of``) or a map already computed (possibly suppressed:
        masked moves are drawn as thin dotted lines without labels).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure sized to the number of stages).
    palette : mapping of kind -> colour, optional
        Colours of ``"forward"``, ``"skip"``, ``"rework"``, ``"close"``, ``"reopen"``,
        ``"resume"`` (default :data:`KIND_COLORS`); missing kinds keep their default.
    as_of : date-like, optional
        Analysis date when the events are given (default: the last event).
    model : StageModel, optional
        Stage order and labels (default: the log's, else the toolkit's).
    min_cases : int, optional
        Leave out moves made by fewer cases (for busy real logs); the title says how many.
    show_counts : bool
        Add the number of cases under each median.
    **kwargs
        Passed to every arrow (``matplotlib.patches.FancyArrowPatch``), e.g. ``alpha``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    model = _model_of(data, model)
    if isinstance(data, pd.DataFrame) and {"from_stage", "to_stage", "kind"} <= set(data.columns):
        moves = data
    else:
        moves = process_map(data, as_of=as_of, model=model)
    colors = {**KIND_COLORS, **dict(palette or {})}
    ids = list(model.ids)
    x_of = {sid: float(i) for i, sid in enumerate(ids)}
    n_nodes = len(ids)
    counts = pd.to_numeric(moves["n_cases"], errors="coerce").astype(float).to_numpy()
    shown = np.ones(len(moves), dtype=bool)
    if min_cases is not None:
        shown = ~(counts < min_cases)
    hidden = int((~shown).sum())
    finite = counts[shown & np.isfinite(counts)]
    top = max(float(finite.max()) if len(finite) else 1.0, 1.0)

    # geometry first: arcs below get one depth per (span, direction) that occurs, so the labels
    # of arcs of different lengths never sit at the same height
    arcs = []
    for i in np.flatnonzero(shown):
        row = moves.iloc[i]
        a, b = str(row["from_stage"]), str(row["to_stage"])
        if a not in x_of or b not in x_of:
            continue
        kind = str(row["kind"])
        xa, xb = x_of[a], x_of[b]
        above = xb - xa == 1 and kind in ("forward", "close", "reopen", "resume")
        level = -1 if above else int(2 * (abs(xb - xa) - 1) + (0 if xb > xa else 1))
        arcs.append((i, kind, xa, xb, above, level))
    levels = sorted({arc[5] for arc in arcs if arc[5] >= 0})
    rank = {lv: r for r, lv in enumerate(levels)}
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8.0, 1.55 * n_nodes), 3.0 + 0.45 * len(levels)))

    depth = 0.6
    used_above = 0.9
    for i, kind, xa, xb, above, level in arcs:
        row = moves.iloc[i]
        n = counts[i]
        masked = not np.isfinite(n)
        width = 0.6 if masked else 0.8 + 6.0 * n / top
        if above:
            p0 = (xa + 0.14, _BOX_H / 2)
            p1 = (xb - 0.14, _BOX_H / 2)
            ctrl_y = _BOX_H / 2 + 0.55
        else:
            shift = 0.1 if xb > xa else -0.1
            p0 = (xa + shift, -_BOX_H / 2)
            p1 = (xb + shift, -_BOX_H / 2)
            ctrl_y = -_BOX_H / 2 - 2 * (0.35 + 0.32 * rank[level])
        ctrl = ((p0[0] + p1[0]) / 2, ctrl_y)
        path = Path([p0, ctrl, p1], [Path.MOVETO, Path.CURVE3, Path.CURVE3])
        scale = 10.0
        tail = width / scale
        color = colors.get(kind, "#999999")
        style: dict[str, Any] = (
            {"facecolor": "none", "edgecolor": color, "linewidth": 0.8, "linestyle": ":"}
            if masked
            else {"color": color, "linewidth": 0}
        )
        arrow = FancyArrowPatch(
            path=path,
            arrowstyle=ArrowStyle.Simple(
                head_length=0.8, head_width=max(0.7, 2.0 * tail), tail_width=tail
            ),
            mutation_scale=scale,
            zorder=2,
            **{"alpha": 0.85, **style, **kwargs},
        )
        ax.add_patch(arrow)
        apex_y = 0.25 * p0[1] + 0.5 * ctrl_y + 0.25 * p1[1]
        apex_x = (p0[0] + p1[0]) / 2
        if above:
            used_above = max(used_above, apex_y + 0.35)
        else:
            depth = max(depth, -apex_y + 0.3)
        if masked:
            continue
        text = _days_text(float(row["median_days"]))
        if show_counts:
            text = f"{text}\n{_count_text(int(n))}".strip()
        ax.text(
            apex_x,
            apex_y,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color=colors.get(kind, "#333333"),
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        )

    _draw_stage_boxes(ax, model, x_of)
    ax.set_xlim(-0.6, n_nodes - 0.4)
    ax.set_ylim(-depth, used_above)
    ax.axis("off")
    handles = [
        Line2D([], [], color=colors[k], lw=3, label=pick(*_KIND_LABELS[k])) for k in MOVE_KINDS
    ]
    ax.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False,
              bbox_to_anchor=(0.5, -0.08))  # fmt: skip
    title = pick(
        "Peta proses: lebar panah = jumlah kasus, label = median hari sebelum pindah",
        "Process map: arrow width = cases, label = median days before the move",
    )
    if hidden:
        moved = _counted(hidden, "perpindahan", "move", "moves")
        title += pick(
            f"\n({moved} dengan < {min_cases} kasus tidak digambar)",
            f"\n({moved} with < {min_cases} cases not drawn)",
        )
    ax.set_title(title, fontsize=10)
    return ax


def plot_dotted_chart(
    log: Any,
    *,
    ax: Axes | None = None,
    sort: str = "start",
    palette: Mapping[str, Any] | None = None,
    as_of: Any = None,
    model: StageModel | None = None,
    time: str = "absolute",
    max_cases: int | None = 2000,
    **kwargs: Any,
) -> Axes:
    """Dotted chart: every event as a dot, one row per case, coloured by stage.

    Parameters
    ----------
    log : EventLog or event DataFrame
        The events.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    sort : {"start", "end", "duration", "case"}
        Order of the case rows: by first event (default), last event, length (longest on top)
        or case id.
    palette : mapping of stage id -> colour, optional
        Colours of the stages (default: matplotlib's ``tab10`` in model order).
    as_of : date-like, optional
        Leave out events after this date.
    model : StageModel, optional
        Stage order and labels (default: the log's, else the toolkit's).
    time : {"absolute", "relative"}
        Dates (Asia/Jakarta) on the x axis, or days since each case's first event.
    max_cases : int or None
        Draw at most this many cases, evenly spread over the sorted order (every k-th case);
        None draws all. The title says when cases were thinned.
    **kwargs
        Passed to ``Axes.scatter`` (e.g. ``s``, ``alpha``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if sort not in ("start", "end", "duration", "case"):
        raise ValueError(f"sort must be 'start', 'end', 'duration' or 'case', not {sort!r}")
    if time not in ("absolute", "relative"):
        raise ValueError(f"time must be 'absolute' or 'relative', not {time!r}")
    model = _model_of(log, model)
    frame, model = events_and_model(log, model)
    if as_of is not None:
        frame = frame[frame["timestamp"] <= to_utc(as_of)]
    ts = frame["timestamp"].dt.as_unit("ns").array.asi8
    case_code, case_ids = pd.factorize(frame["case_id"], sort=True)
    n_cases = len(case_ids)
    first = np.full(n_cases, np.iinfo(np.int64).max)
    last = np.full(n_cases, np.iinfo(np.int64).min)
    np.minimum.at(first, case_code, ts)
    np.maximum.at(last, case_code, ts)
    if sort == "start":
        order = np.lexsort((np.arange(n_cases), first))
    elif sort == "end":
        order = np.lexsort((np.arange(n_cases), last))
    elif sort == "duration":
        order = np.lexsort((np.arange(n_cases), -(last - first)))
    else:
        order = np.arange(n_cases)
    rank = np.empty(n_cases, dtype=np.int64)
    rank[order] = np.arange(n_cases)
    keep_case = np.ones(n_cases, dtype=bool)
    thinned = max_cases is not None and n_cases > max_cases
    if thinned:
        assert max_cases is not None
        picked = order[np.linspace(0, n_cases - 1, max_cases).round().astype(np.int64)]
        keep_case[:] = False
        keep_case[picked] = True
        rank = np.searchsorted(np.sort(rank[picked]), rank)
    keep = keep_case[case_code]
    y = rank[case_code][keep]
    if time == "absolute":
        x: Any = (
            pd.DatetimeIndex(ts[keep].view("datetime64[ns]"))
            .tz_localize("UTC")
            .tz_convert(DEFAULT_TZ)
            .tz_localize(None)
        )
    else:
        x = (ts[keep] - first[case_code][keep]) / (86_400 * 10**9)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5))
    cmap = plt.get_cmap("tab10")
    colors = {sid: cmap(i % 10) for i, sid in enumerate(model.ids)}
    colors.update(dict(palette or {}))
    stage = frame["stage"].astype(str).to_numpy()[keep]
    style = {"s": 6, "alpha": 0.8, "linewidths": 0, **kwargs}
    for sid in model.ids:
        mine = stage == sid
        if not mine.any():
            continue
        ax.scatter(x[mine], y[mine], color=colors[sid], label=model.label(sid), **style)
    ax.set_ylim(-0.5, max(int(keep_case.sum()), 1) - 0.5)
    ax.invert_yaxis()
    sort_label = {
        "start": ("mulai", "start"),
        "end": ("akhir", "end"),
        "duration": ("lama", "duration"),
        "case": ("nomor kasus", "case id"),
    }[sort]
    ax.set_ylabel(pick(f"kasus (urut {sort_label[0]})", f"cases (by {sort_label[1]})"))
    ax.set_xlabel(
        pick("tanggal (WIB)", "date (WIB)")
        if time == "absolute"
        else pick("hari sejak peristiwa pertama", "days since the first event")
    )
    title = pick("Diagram titik: setiap peristiwa kasus", "Dotted chart: every event of every case")
    if thinned:
        title += pick(
            f" ({int(keep_case.sum())} dari {n_cases} kasus)",
            f" ({int(keep_case.sum())} of {n_cases} cases)",
        )
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, markerscale=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
