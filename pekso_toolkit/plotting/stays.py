"""Plots of time in stage, survival, backlog, case timelines and bottlenecks.

Every function is ``plot_*(data, *, ..., ax=None, palette=None, **kwargs) -> Axes``: it draws on
``ax`` (or on a new figure) and returns the Axes. Colours come from ``palette`` (see
:mod:`pekso_toolkit.plotting.palette`); ``**kwargs`` go to the main matplotlib call. Figures are
computed by the analysis functions (:mod:`pekso_toolkit.stays`); plots only draw them.
Labels follow the current language (:func:`pekso_toolkit.core.i18n.set_language`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines.plotting import add_at_risk_counts
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.plotting.palette import Palette, colors_for
from pekso_toolkit.stays.exits import EXIT_LABELS, EXIT_RESOLUTION, EXITS, exit_fits
from pekso_toolkit.stays.summary import stage_summary, survival_fits

__all__ = [
    "plot_bottlenecks",
    "plot_case_timeline",
    "plot_stage_durations",
    "plot_stage_exits",
    "plot_survival",
    "plot_wip",
]

#: Default colours of finished and open stays.
_STATUS_COLORS = {"finished": "#7f7f7f", "open": "#d95f02"}


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4.5)) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=size)
    return new


def _labeller(model: StageModel | None) -> Any:
    model = model or StageModel.default()

    def label(stage_id: Any) -> str:
        try:
            return model.label(str(stage_id))
        except Exception:  # a stage of another model: show its id
            return str(stage_id)

    return label


def _stage_order(stays: pd.DataFrame, model: StageModel | None) -> list[str]:
    if model is not None:
        return [s.id for s in model.helping_stages]
    if "stages" in stays.attrs:
        return list(stays.attrs["stages"])
    stage = stays["stage"]
    if isinstance(stage.dtype, pd.CategoricalDtype):
        present = set(stage.dropna().astype(str))
        return [str(c) for c in stage.dtype.categories if str(c) in present]
    return sorted(stage.dropna().astype(str).unique())


def _unit(stays: pd.DataFrame) -> tuple[str, str]:
    if stays.attrs.get("days") == "working":
        return "hari kerja", "working days"
    return "hari", "days"


# ---------------------------------------------------------------------------------- durations
def plot_stage_durations(
    stays: pd.DataFrame,
    *,
    ax: Axes | None = None,
    palette: Palette = None,
    model: StageModel | None = None,
    max_points: int = 1500,
    seed: int = 0,
    log_scale: bool = False,
    **kwargs: Any,
) -> Axes:
    """Time in each stage: every stay as a point, open stays marked, Kaplan–Meier median.

    Finished stays are grey dots; stays still open at ``as_of`` are orange triangles pointing up
    (their final duration will be longer). The black diamond and bar are the Kaplan–Meier median
    and its 95 % interval from :func:`~pekso_toolkit.stays.summary.stage_summary`.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    palette : palette, optional
        Colours of ``"finished"`` and ``"open"`` stays (a mapping, a list of two colours or a
        colour map name; default grey and orange).
    model : StageModel, optional
        Stage order and labels.
    max_points : int
        At most this many points per stage are drawn (a seeded random sample); the median uses
        every stay.
    seed : int
        Seed of the sample and of the horizontal jitter.
    log_scale : bool
        Logarithmic day axis.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter` of the finished stays.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    stage_ids = _stage_order(stays, model)
    label = _labeller(model)
    colors = colors_for(["finished", "open"], palette, default=_STATUS_COLORS)
    dots = {"s": 8, "alpha": 0.45, "lw": 0, **kwargs}
    rng = np.random.default_rng(seed)
    summary = stage_summary(stays, model=model).set_index("stage")
    stage_col = stays["stage"].astype(str).to_numpy()
    days = stays["days"].to_numpy(dtype=float)
    observed = stays["observed"].to_numpy(dtype=bool)
    for x, stage in enumerate(stage_ids):
        idx = np.flatnonzero(stage_col == stage)
        if len(idx) > max_points:
            idx = np.sort(rng.choice(idx, max_points, replace=False))
        jitter = x + rng.uniform(-0.28, 0.28, len(idx))
        done = observed[idx]
        ax.scatter(jitter[done], days[idx][done], color=colors["finished"], **dots)
        ax.scatter(
            jitter[~done], days[idx][~done], s=22, marker="^", color=colors["open"], alpha=0.8, lw=0
        )
        if stage in summary.index:
            row = summary.loc[stage]
            med = float(row["median_days"])
            if np.isfinite(med):
                low = float(row["median_ci_low"])
                high = float(row["median_ci_high"])
                yerr = [
                    [med - low if np.isfinite(low) else 0.0],
                    [high - med if np.isfinite(high) else 0.0],
                ]
                ax.errorbar(
                    [x], [med], yerr=yerr, fmt="D", color="black", ms=7, capsize=6, zorder=5
                )
    ax.set_xticks(range(len(stage_ids)), [label(s) for s in stage_ids], rotation=20, ha="right")
    unit_id, unit_en = _unit(stays)
    ax.set_ylabel(pick(f"Lama di tahap ({unit_id})", f"Time in stage ({unit_en})"))
    ax.set_xlabel(pick("Tahap", "Stage"))
    if log_scale:
        ax.set_yscale("log")
    handles = [
        Line2D(
            [], [], ls="", marker="o", color=colors["finished"], label=pick("Selesai", "Finished")
        ),
        Line2D(
            [],
            [],
            ls="",
            marker="^",
            color=colors["open"],
            label=pick("Masih terbuka (tersensor)", "Still open (censored)"),
        ),
        Line2D(
            [],
            [],
            ls="",
            marker="D",
            color="black",
            label=pick("Median Kaplan–Meier (IK 95%)", "Kaplan–Meier median (95% CI)"),
        ),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------- survival
def plot_survival(
    stays: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    stage: str | None = None,
    ax: Axes | None = None,
    palette: Palette = None,
    ci: bool = True,
    at_risk: bool = True,
    model: StageModel | None = None,
    **kwargs: Any,
) -> Axes:
    """Kaplan–Meier curves: share of stays still in the stage after so many days.

    The curves are lifelines' :class:`~lifelines.KaplanMeierFitter` fits from
    :func:`~pekso_toolkit.stays.summary.survival_fits`, drawn with their
    ``plot_survival_function``; the numbers at risk under the x axis are lifelines'
    :func:`~lifelines.plotting.add_at_risk_counts`.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    by : str or list of str, optional
        None or ``"stage"``: one curve per stage. A carried column such as ``"office"`` (or a list
        of columns): one curve per value, for the stays of ``stage``.
    stage : str, optional
        Only this stage (required when ``by`` is a column).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    palette : palette, optional
        Colours of the curves (see :mod:`pekso_toolkit.plotting.palette`; default ``tab10``).
    ci : bool
        Shade the 95 % confidence band.
    at_risk : bool
        Show the number of stays still at risk (in the stage, not censored) under the x axis.
    model : StageModel, optional
        Stage order and labels.
    **kwargs
        Passed to ``KaplanMeierFitter.plot_survival_function`` (and so to matplotlib).

    Returns
    -------
    matplotlib.axes.Axes
    """
    own_figure = ax is None
    ax = _axes(ax, (8, 5))
    fits = survival_fits(stays, by=by, stage=stage, model=model)
    per_stage = by is None or by == "stage"
    label = _labeller(model) if per_stage else str
    colors = colors_for(list(fits), palette)
    for name, kmf in fits.items():
        kmf.plot_survival_function(
            ax=ax, ci_show=ci, color=colors[name], label=label(name), legend=False, **kwargs
        )
    unit_id, unit_en = _unit(stays)
    ax.set_xlabel(pick(f"Lama di tahap ({unit_id})", f"Time in stage ({unit_en})"))
    ax.set_ylabel(pick("Proporsi masih di tahap", "Share still in stage"))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if stage is not None and not per_stage:
        ax.set_title(_labeller(model)(stage))
    ax.legend(fontsize="small")
    if at_risk and fits:
        before = list(ax.figure.axes)
        add_at_risk_counts(
            *fits.values(),
            ax=ax,
            labels=[label(name) for name in fits],
            rows_to_show=["At risk"],
            at_risk_count_from_start_of_period=True,
            fig=ax.figure,
        )
        counts = next(a for a in ax.figure.axes if a not in before)
        counts.set_gid("at_risk")
        texts = [t.get_text() for t in counts.get_xticklabels()]
        texts[0] = texts[0].replace("At risk", pick("Berisiko", "At risk"), 1)
        counts.set_xticks(counts.get_xticks(), texts)
        if own_figure:
            ax.figure.subplots_adjust(bottom=min(0.45, 0.2 + 0.035 * len(fits)), left=0.25)
    return ax


#: Default colours of the exits from a stage (keys: the exit codes of ``stays.exits.EXITS``).
_EXIT_COLORS = {"forward": "#1b9e77", "rework": "#7570b3", "close": "#d95f02"}


def plot_stage_exits(
    stays: pd.DataFrame,
    *,
    stage: str,
    ax: Axes | None = None,
    palette: Palette = None,
    ci: bool = True,
    model: StageModel | None = None,
    **kwargs: Any,
) -> Axes:
    """How one stage's stays end: cumulative incidence of each exit (Aalen–Johansen).

    One curve per exit (``"forward"``, ``"rework"``, ``"close"``) with its confidence band, and a
    dashed curve for all exits together (the share that has left the stage); the gap up to one
    is the share still in the stage. Open stays are censored. See
    :func:`pekso_toolkit.stays.exits.stage_exits`; the curves are
    :func:`~pekso_toolkit.stays.exits.exit_fits` and, for all exits, one minus the Kaplan–Meier
    curve of :func:`~pekso_toolkit.stays.summary.survival_fits`.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    stage : str
        The helping stage.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    palette : palette, optional
        Colours of the exits ``"forward"``, ``"rework"``, ``"close"`` (see
        :mod:`pekso_toolkit.plotting.palette`).
    ci : bool
        Shade the 95 % confidence bands.
    model : StageModel, optional
        Stage order and labels.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.step` of each exit's curve.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (8, 4.5))
    fits = exit_fits(stays, stage=stage, model=model)
    colors = colors_for(list(EXITS), palette, default=_EXIT_COLORS)
    for name, fitter in fits.items():
        cif = fitter.cumulative_density_.iloc[:, 0]
        color = colors[name]
        ax.step(cif.index, cif, where="post", color=color, label=pick(*EXIT_LABELS[name]), **kwargs)
        if ci:
            band = fitter.confidence_interval_
            low = band.min(axis=1).where(cif > 0, 0.0)
            high = band.max(axis=1).where(cif > 0, 0.0)
            ax.fill_between(band.index, low, high, step="post", color=color, alpha=0.2)
    if len(fits) > 1:
        left = survival_fits(stays, stage=stage, model=model, resolution=EXIT_RESOLUTION)[stage]
        left.plot_cumulative_density(
            ax=ax,
            ci_show=False,
            color="black",
            linestyle="--",
            linewidth=1,
            label=pick("semua jalan keluar", "all exits"),
            legend=False,
        )
    unit_id, unit_en = _unit(stays)
    ax.set_xlabel(pick(f"Lama di tahap ({unit_id})", f"Time in stage ({unit_en})"))
    ax.set_ylabel(
        pick("Proporsi masa tinggal yang sudah berakhir", "Share of stays that have ended")
    )
    ax.set_title(_labeller(model)(stage))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if fits:
        ax.legend(fontsize="small")
    return ax


# ---------------------------------------------------------------------------------- backlog
def plot_wip(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    palette: Palette = None,
    model: StageModel | None = None,
    **kwargs: Any,
) -> Axes:
    """Backlog per stage over time as stacked areas (from :func:`~pekso_toolkit.stays.flow.wip`).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.flow.wip`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    palette : palette, optional
        Stage colours (see :mod:`pekso_toolkit.plotting.palette`; default ``tab10``).
    model : StageModel, optional
        Stage labels.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.stackplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    label = _labeller(model)
    grid = table.pivot_table(
        index="period_end", columns="stage", values="n_cases", aggfunc="sum", observed=False
    ).fillna(0)
    stage_ids = [str(c) for c in grid.columns]
    colors = colors_for(stage_ids, palette)
    x = pd.DatetimeIndex(grid.index)
    if x.tz is not None:
        x = x.tz_convert(DEFAULT_TZ).tz_localize(None)
    ax.stackplot(
        x,
        *[grid[c].to_numpy(dtype=float) for c in grid.columns],
        labels=[label(s) for s in stage_ids],
        colors=[colors[s] for s in stage_ids],
        **{"alpha": 0.85, **kwargs},
    )
    ax.set_ylabel(pick("Kasus dalam tahap (akhir periode)", "Cases in stage (end of period)"))
    ax.set_xlabel(pick("Akhir periode", "End of period"))
    ax.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------------------- timeline
def plot_case_timeline(
    stays: pd.DataFrame,
    *,
    cases: Sequence[str] | None = None,
    ax: Axes | None = None,
    palette: Palette = None,
    model: StageModel | None = None,
    max_cases: int = 30,
    **kwargs: Any,
) -> Axes:
    """Gantt chart of the stays of chosen cases; open stays hatched with an arrow.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    cases : list of str, optional
        Case ids to show, top to bottom (default: the first ``max_cases`` cases).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    palette : palette, optional
        Stage colours (see :mod:`pekso_toolkit.plotting.palette`; default ``tab10``).
    model : StageModel, optional
        Stage order and labels.
    max_cases : int
        How many cases to show when ``cases`` is not given.
    **kwargs
        Passed to each stay's :class:`~matplotlib.patches.Rectangle`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if cases is None:
        cases = list(pd.unique(stays["case_id"].astype(str)))[:max_cases]
    cases = [str(c) for c in cases]
    unknown = sorted(set(cases) - set(stays["case_id"].astype(str)))
    if unknown:
        raise KeyError(f"case(s) {unknown[:5]} have no stays in this table")
    ax = _axes(ax, (9, 1 + 0.4 * len(cases)))
    label = _labeller(model)
    stage_ids = _stage_order(stays, model)
    colors = colors_for(stage_ids, palette)
    as_of = stays.attrs.get("as_of")
    mine = stays[stays["case_id"].astype(str).isin(cases)]
    y_of = {c: len(cases) - 1 - i for i, c in enumerate(cases)}
    start = mine["entered_at"].dt.tz_convert(DEFAULT_TZ).dt.tz_localize(None)
    left = mine["left_at"].dt.tz_convert(DEFAULT_TZ).dt.tz_localize(None)
    if as_of is not None:
        end_open = pd.Timestamp(as_of).tz_convert(DEFAULT_TZ).tz_localize(None)
    else:
        end_open = max(left.max(), start.max())
    from matplotlib.dates import date2num

    for case, stage, begin, end, done in zip(
        mine["case_id"].astype(str), mine["stage"].astype(str), start, left, mine["observed"]
    ):
        x0 = date2num(begin)
        x1 = date2num(end if done else end_open)
        y = y_of[case]
        ax.add_patch(
            Rectangle(
                (x0, y - 0.35),
                max(x1 - x0, 0.05),
                0.7,
                facecolor=colors.get(stage, "grey"),
                edgecolor="black" if not done else "none",
                hatch=None if done else "//",
                gid="open_stay" if not done else "stay",
                **{"lw": 0.6, **kwargs},
            )
        )
        if not done:
            ax.annotate(
                "",
                xy=(x1 + 2, y),
                xytext=(x1, y),
                arrowprops={"arrowstyle": "->", "color": "black", "lw": 1},
            )
    if len(mine):
        lo = date2num(start.min())
        hi = date2num(end_open)
        ax.set_xlim(lo - 3, hi + 6)
    ax.set_ylim(-0.7, len(cases) - 0.3)
    ax.set_yticks([y_of[c] for c in cases], cases)
    ax.xaxis_date()
    ax.set_xlabel(pick("Tanggal", "Date"))
    ax.set_ylabel(pick("Kasus", "Case"))
    shown = [s for s in stage_ids if s in set(mine["stage"].astype(str))]
    handles: list[Any] = [Patch(facecolor=colors[s], label=label(s)) for s in shown]
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="black",
            hatch="//",
            label=pick("Masih terbuka", "Still open"),
        )
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    if as_of is not None:
        ax.axvline(date2num(end_open), color="black", ls=":", lw=1)
    return ax


# ---------------------------------------------------------------------------------- heat map
def plot_bottlenecks(
    data: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    value: str = "median_days",
    ax: Axes | None = None,
    palette: Palette = None,
    model: StageModel | None = None,
    min_count: int | None = None,
    **kwargs: Any,
) -> Axes:
    """Heat map of a per-stage figure, stages × groups, with the values written in the cells.

    Cells masked by small-cell suppression are hatched grey; cells with no figure (e.g. the
    Kaplan–Meier median is not reached yet) are left white.

    Parameters
    ----------
    data : pandas.DataFrame
        A :func:`~pekso_toolkit.stays.summary.stage_summary` table made with ``by=by``, or stays
        (then ``stage_summary(stays, by=by, min_count=min_count)`` is called).
    by : str or list of str
        Group column(s): the heat map's columns (several columns are joined, ``"a / b"``).
        Required.
    value : str
        The figure to show (a column of the summary, e.g. ``"median_days"``, ``"p90_days"``,
        ``"overdue_share"``, ``"n_open"``).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    model : StageModel, optional
        Stage labels.
    min_count : int, optional
        Suppression threshold when stays are given.
    palette : str, Colormap or list of colours, optional
        Colour map of the cells (default ``"YlOrRd"``).
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    by_cols = as_list(by)
    if not by_cols:
        raise ValueError("give by=... (the group column or columns of the heat map)")
    table = data
    if "observed" in table.columns and "days" in table.columns:
        table = stage_summary(table, by=by_cols, min_count=min_count, model=model)
    for col in (*by_cols, "stage", value):
        if col not in table.columns:
            raise KeyError(
                f"column {col!r} is not in the table; make it with stage_summary(by=...)"
            )
    label = _labeller(model)
    group = table[by_cols[0]].astype(str)
    for col in by_cols[1:]:
        group = group + " / " + table[col].astype(str)
    group = group.rename("group")
    values = pd.to_numeric(table[value], errors="coerce").astype(float)
    grid = values.groupby([table["stage"], group], observed=True, dropna=False).first()
    grid = grid.unstack("group")
    stage_index = [s for s in grid.index]
    groups = list(grid.columns)
    cells = grid.to_numpy(dtype=float)
    if "suppressed" in table.columns:
        flag = table["suppressed"].fillna("").astype(str).str.contains(value, regex=False)
        masked = flag.groupby([table["stage"], group], observed=True, dropna=False).any()
        masked = masked.unstack("group").reindex(index=grid.index, columns=grid.columns)
        hidden = masked.fillna(False).to_numpy(dtype=bool)
    else:
        hidden = np.zeros(cells.shape, dtype=bool)
    ax = _axes(ax, (1.5 + 1.1 * len(groups), 1 + 0.6 * len(stage_index)))
    cmap: str | Colormap = "YlOrRd"
    if isinstance(palette, str | Colormap):
        cmap = palette
    elif palette is not None and not isinstance(palette, Mapping):
        cmap = ListedColormap(list(palette))
    image = ax.imshow(np.ma.masked_invalid(cells), cmap=cmap, **{"aspect": "auto", **kwargs})
    finite = cells[np.isfinite(cells)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    share = value.endswith("share") or value == "share_of_time"
    for i in range(cells.shape[0]):
        for j in range(cells.shape[1]):
            if hidden[i, j]:
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor="#dddddd",
                        hatch="xx",
                        edgecolor="#999999",
                        lw=0,
                        gid="suppressed",
                    )
                )
                continue
            v = cells[i, j]
            if not np.isfinite(v):
                continue
            text = f"{100 * v:.0f}%" if share else f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color="white" if v > mid else "black",
            )
    ax.set_xticks(range(len(groups)), [str(g) for g in groups], rotation=30, ha="right")
    ax.set_yticks(range(len(stage_index)), [label(s) for s in stage_index])
    ax.set_xlabel(" / ".join(by_cols))
    ax.set_ylabel(pick("Tahap", "Stage"))
    names = {
        "median_days": ("Median hari di tahap", "Median days in stage"),
        "p75_days": ("Persentil 75 hari", "75th percentile, days"),
        "p90_days": ("Persentil 90 hari", "90th percentile, days"),
        "overdue_share": ("Proporsi lewat target", "Share past target"),
        "share_of_time": ("Proporsi waktu", "Share of time"),
        "n_open": ("Kasus terbuka", "Open cases"),
        "n_stays": ("Jumlah tinggal", "Stays"),
    }
    title = names.get(value, (value, value))
    ax.figure.colorbar(image, ax=ax, label=pick(*title))
    ax.set_title(pick(*title))
    return ax
