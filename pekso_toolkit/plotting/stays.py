"""Plots of time in stage, survival, backlog, case timelines and bottlenecks.

Every function is ``plot_*(data, *, ..., ax=None) -> Axes``: it draws on ``ax`` (or on a new
figure) and returns the Axes. Figures are computed by :mod:`pekso_toolkit.stays.summary`; plots
only draw them.
Labels follow the current language (:func:`pekso_toolkit.core.i18n.set_language`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.stays.exits import EXIT_LABELS, exit_fits
from pekso_toolkit.stays.summary import stage_summary, survival_fits

__all__ = [
    "plot_bottlenecks",
    "plot_case_timeline",
    "plot_stage_durations",
    "plot_stage_exits",
    "plot_survival",
    "plot_wip",
]

_OPEN_COLOR = "#d95f02"
_DONE_COLOR = "#7f7f7f"


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


def _stage_colors(stage_ids: Sequence[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {s: cmap(i % 10) for i, s in enumerate(stage_ids)}


def _unit(stays: pd.DataFrame) -> tuple[str, str]:
    if stays.attrs.get("days") == "working":
        return "hari kerja", "working days"
    return "hari", "days"


# ---------------------------------------------------------------------------------- durations
def plot_stage_durations(
    stays: pd.DataFrame,
    *,
    ax: Axes | None = None,
    model: StageModel | None = None,
    max_points: int = 1500,
    seed: int = 0,
    log_scale: bool = False,
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
    model : StageModel, optional
        Stage order and labels.
    max_points : int
        At most this many points per stage are drawn (a seeded random sample); the median uses
        every stay.
    seed : int
        Seed of the sample and of the horizontal jitter.
    log_scale : bool
        Logarithmic day axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    stage_ids = _stage_order(stays, model)
    label = _labeller(model)
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
        ax.scatter(jitter[done], days[idx][done], s=8, color=_DONE_COLOR, alpha=0.45, lw=0)
        ax.scatter(
            jitter[~done], days[idx][~done], s=22, marker="^", color=_OPEN_COLOR, alpha=0.8, lw=0
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
        Line2D([], [], ls="", marker="o", color=_DONE_COLOR, label=pick("Selesai", "Finished")),
        Line2D(
            [],
            [],
            ls="",
            marker="^",
            color=_OPEN_COLOR,
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
def _at_risk(kmf: Any, times: np.ndarray) -> list[int]:
    table = kmf.event_table
    start = float(table["at_risk"].iloc[0])
    removed = table["removed"].to_numpy(dtype=float)
    at = table.index.to_numpy(dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(removed)])
    gone = cum[np.searchsorted(at, times, side="left")]
    return [int(round(start - g)) for g in gone]


def plot_survival(
    stays: pd.DataFrame,
    *,
    by: str = "stage",
    stage: str | None = None,
    ax: Axes | None = None,
    ci: bool = True,
    at_risk: bool = True,
    model: StageModel | None = None,
) -> Axes:
    """Kaplan–Meier curves: share of stays still in the stage after so many days.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    by : str
        ``"stage"`` (one curve per stage) or a carried column such as ``"office"`` (one curve per
        value, for the stays of ``stage``).
    stage : str, optional
        Only this stage (required when ``by`` is a column).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    ci : bool
        Shade the 95 % confidence band.
    at_risk : bool
        Print the number of stays still at risk (in the stage, not censored) under the x axis.
    model : StageModel, optional
        Stage order and labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    own_figure = ax is None
    ax = _axes(ax, (8, 5))
    fits = survival_fits(stays, by=by, stage=stage, model=model)
    label = _labeller(model) if by == "stage" else str
    for i, (name, kmf) in enumerate(fits.items()):
        color = plt.get_cmap("tab10")(i % 10)
        sf = kmf.survival_function_
        ax.step(sf.index, sf.iloc[:, 0], where="post", color=color, label=label(name))
        if ci:
            band = kmf.confidence_interval_
            ax.fill_between(
                band.index, band.iloc[:, 0], band.iloc[:, 1], step="post", color=color, alpha=0.2
            )
    unit_id, unit_en = _unit(stays)
    ax.set_xlabel(pick(f"Lama di tahap ({unit_id})", f"Time in stage ({unit_en})"))
    ax.set_ylabel(pick("Proporsi masih di tahap", "Share still in stage"))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if stage is not None and by != "stage":
        ax.set_title(_labeller(model)(stage))
    ax.legend(fontsize="small")
    if at_risk and fits:
        ticks = np.array([t for t in ax.get_xticks() if t >= 0 and t <= ax.get_xlim()[1]])
        ax.set_xticks(ticks)
        n_rows = len(fits)
        ax.annotate(
            pick("Berisiko", "At risk"),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-20, -42),
            textcoords="offset points",
            ha="right",
            fontsize="small",
            fontweight="bold",
        )
        for row, (name, kmf) in enumerate(fits.items()):
            counts = _at_risk(kmf, ticks)
            y = -56 - 12 * row
            ax.annotate(
                label(name),
                xy=(0, 0),
                xycoords="axes fraction",
                xytext=(-20, y),
                textcoords="offset points",
                ha="right",
                fontsize="x-small",
            )
            for t, c in zip(ticks, counts):
                ax.annotate(
                    str(c),
                    xy=(t, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, y),
                    textcoords="offset points",
                    ha="center",
                    fontsize="x-small",
                    gid="at_risk",
                )
        if own_figure:
            ax.figure.subplots_adjust(bottom=min(0.45, 0.18 + 0.035 * n_rows), left=0.25)
    return ax


_EXIT_COLORS = {"maju": "#1b9e77", "mundur": "#7570b3", "ditutup": "#d95f02"}


def plot_stage_exits(
    stays: pd.DataFrame,
    *,
    stage: str,
    ax: Axes | None = None,
    ci: bool = True,
    model: StageModel | None = None,
) -> Axes:
    """How one stage's stays end: cumulative incidence of each exit (Aalen–Johansen).

    One curve per exit (forward, back, closed) with its confidence band, and a dashed curve for
    all exits together (the share that has left the stage); the gap up to one is the share still
    in the stage. Open stays are censored. See :func:`pekso_toolkit.stays.exits.stage_exits`.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    stage : str
        The helping stage.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    ci : bool
        Shade the 95 % confidence bands.
    model : StageModel, optional
        Stage order and labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (8, 4.5))
    fits = exit_fits(stays, stage=stage, model=model)
    total: pd.Series | None = None
    for name, fitter in fits.items():
        cif = fitter.cumulative_density_.iloc[:, 0]
        color = _EXIT_COLORS[name]
        ax.step(cif.index, cif, where="post", color=color, label=pick(*EXIT_LABELS[name]))
        if ci:
            band = fitter.confidence_interval_
            low = band.min(axis=1).where(cif > 0, 0.0)
            high = band.max(axis=1).where(cif > 0, 0.0)
            ax.fill_between(band.index, low, high, step="post", color=color, alpha=0.2)
        total = cif if total is None else total.add(cif, fill_value=np.nan)
    if total is not None and len(fits) > 1:
        total = total.sort_index().ffill().fillna(0.0)
        ax.step(
            total.index,
            total,
            where="post",
            color="black",
            linestyle="--",
            linewidth=1,
            label=pick("semua jalan keluar", "all exits"),
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
    wip_frame: pd.DataFrame, *, ax: Axes | None = None, model: StageModel | None = None
) -> Axes:
    """Backlog per stage over time as stacked areas (from :func:`~pekso_toolkit.stays.flow.wip`).

    Parameters
    ----------
    wip_frame : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.flow.wip`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    model : StageModel, optional
        Stage labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    label = _labeller(model)
    table = wip_frame.pivot_table(
        index="period_end", columns="stage", values="n_cases", aggfunc="sum", observed=False
    ).fillna(0)
    stage_ids = [str(c) for c in table.columns]
    colors = _stage_colors(stage_ids)
    x = pd.DatetimeIndex(table.index)
    if x.tz is not None:
        x = x.tz_convert(DEFAULT_TZ).tz_localize(None)
    ax.stackplot(
        x,
        *[table[c].to_numpy(dtype=float) for c in table.columns],
        labels=[label(s) for s in stage_ids],
        colors=[colors[s] for s in stage_ids],
        alpha=0.85,
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
    cases: Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    model: StageModel | None = None,
    max_cases: int = 30,
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
    model : StageModel, optional
        Stage order and labels.
    max_cases : int
        How many cases to show when ``cases`` is not given.

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
    colors = _stage_colors(stage_ids)
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
                lw=0.6,
                gid="open_stay" if not done else "stay",
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
    summary_or_stays: pd.DataFrame,
    *,
    by: str,
    value: str = "median_days",
    ax: Axes | None = None,
    model: StageModel | None = None,
    min_count: int | None = None,
    cmap: str = "YlOrRd",
) -> Axes:
    """Heat map of a per-stage figure, stages × groups, with the values written in the cells.

    Cells masked by small-cell suppression are hatched grey; cells with no figure (e.g. the
    Kaplan–Meier median is not reached yet) are left white.

    Parameters
    ----------
    summary_or_stays : pandas.DataFrame
        A :func:`~pekso_toolkit.stays.summary.stage_summary` table made with ``by=by``, or stays
        (then ``stage_summary(stays, by=by, min_count=min_count)`` is called).
    by : str
        Group column (the heat map's columns).
    value : str
        The figure to show (a column of the summary, e.g. ``"median_days"``, ``"p90_days"``,
        ``"overdue_share"``, ``"n_open"``).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    model : StageModel, optional
        Stage labels.
    min_count : int, optional
        Suppression threshold when stays are given.
    cmap : str
        Matplotlib colour map.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = summary_or_stays
    if "observed" in table.columns and "days" in table.columns:
        table = stage_summary(table, by=by, min_count=min_count, model=model)
    for col in (by, "stage", value):
        if col not in table.columns:
            raise KeyError(
                f"column {col!r} is not in the table; make it with stage_summary(by=...)"
            )
    label = _labeller(model)
    values = pd.to_numeric(table[value], errors="coerce").astype(float)
    grid = values.groupby([table["stage"], table[by]], observed=True, dropna=False).first()
    grid = grid.unstack(by)
    stage_index = [s for s in grid.index]
    groups = list(grid.columns)
    data = grid.to_numpy(dtype=float)
    if "suppressed" in table.columns:
        flag = table["suppressed"].fillna("").astype(str).str.contains(value, regex=False)
        masked = flag.groupby([table["stage"], table[by]], observed=True, dropna=False).any()
        masked = masked.unstack(by).reindex(index=grid.index, columns=grid.columns)
        hidden = masked.fillna(False).to_numpy(dtype=bool)
    else:
        hidden = np.zeros(data.shape, dtype=bool)
    ax = _axes(ax, (1.5 + 1.1 * len(groups), 1 + 0.6 * len(stage_index)))
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, aspect="auto")
    finite = data[np.isfinite(data)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    share = value.endswith("share") or value == "share_of_time"
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
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
            v = data[i, j]
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
    ax.set_xlabel(str(by))
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
