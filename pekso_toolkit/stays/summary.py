"""Summaries of stays: per-stage figures with censoring and bottlenecks.

Every function takes tidy frames and returns tidy frames; nothing here draws (backlog and
transitions are in :mod:`pekso_toolkit.stays.flow`). Stays come from
:func:`pekso_toolkit.stays.durations.time_in_stage`. Open stays are right-censored: the per-stage
medians and percentiles are Kaplan–Meier estimates (lifelines), never medians of finished stays.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, qth_survival_times

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import bilingual
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.publish.gate import publication_spec, publish
from pekso_toolkit.stays.asof import recorded_as_of
from pekso_toolkit.stays.durations import (
    to_utc,
)
from pekso_toolkit.stays.engine import connect, sql_name, sql_text
from pekso_toolkit.stays.logrank import one_vs_rest
from pekso_toolkit.stays.stayfile import StaysFile, stays_file

__all__ = [
    "SUMMARY_COLUMNS",
    "bottlenecks",
    "stage_summary",
    "survival_fits",
]

#: Columns of :func:`stage_summary` after the group columns.
SUMMARY_COLUMNS = (
    "stage",
    "n_stays",
    "n_open",
    "median_days",
    "median_ci_low",
    "median_ci_high",
    "p75_days",
    "p90_days",
    "mean_days_completed",
    "share_of_time",
    "target_days",
    "overdue_share",
)

#: Durations are counted to this resolution (days) before the Kaplan–Meier fit: one minute.
KM_RESOLUTION = 1 / 1440
#: level of the log-rank tests behind ``bottlenecks(...)["differs"]`` (Holm-adjusted)
LOGRANK_ALPHA = 0.05

_STAY_NEEDS = ("case_id", "stage", "days", "observed")


# ---------------------------------------------------------------------------------- helpers
def _check_stays(stays: pd.DataFrame, by: list[str]) -> None:
    if not isinstance(stays, pd.DataFrame):
        raise TypeError(
            f"expected the stays table of pk.time_in_stage(...), not {type(stays).__name__}"
        )
    missing = [c for c in (*_STAY_NEEDS, *by) if c not in stays.columns]
    if missing:
        raise KeyError(
            f"the stays table lacks column(s) {missing}; make it with pk.time_in_stage(log, "
            "as_of=...) (group columns must be carried from the event log)"
        )


def stays_stage_ids(stays: pd.DataFrame, model: StageModel | None) -> list[str]:
    """Helping stages in model order."""
    if model is not None:
        return [s.id for s in model.helping_stages]
    if "stages" in stays.attrs:
        return list(stays.attrs["stages"])
    dtype = stays["stage"].dtype
    if isinstance(dtype, pd.CategoricalDtype):
        default = StageModel.default()
        if list(dtype.categories) == list(default.ids):
            return [s.id for s in default.helping_stages]
        return [str(c) for c in dtype.categories]
    return sorted(str(s) for s in stays["stage"].dropna().unique())


def _targets(
    stays: pd.DataFrame, targets: Mapping[str, float] | None, model: StageModel | None
) -> dict[str, float]:
    if targets is not None:
        return {str(k): float(v) for k, v in targets.items()}
    unit = model.target_unit if model is not None else stays.attrs.get("target_unit", "calendar")
    days = stays.attrs.get("days", "calendar")
    if unit != days:
        warnings.warn(
            f"the stage targets are in {unit} days but the stays are in {days} days; pass "
            f"targets=... in {days} days or compute the stays with days={unit!r}",
            UserWarning,
            stacklevel=3,
        )
    if model is not None:
        return dict(model.targets)
    if "targets" in stays.attrs:
        return dict(stays.attrs["targets"])
    return dict(StageModel.default().targets)


def stage_position(stays: pd.DataFrame, stage_ids: list[str]) -> np.ndarray:
    """Position of each stay's stage in ``stage_ids`` (-1 when not a listed stage)."""
    lookup = {s: i for i, s in enumerate(stage_ids)}
    stage = stays["stage"]
    if isinstance(stage.dtype, pd.CategoricalDtype):
        cat_pos = np.array([lookup.get(str(c), -1) for c in stage.dtype.categories] + [-1])
        return cat_pos[stage.cat.codes.to_numpy()]  # code -1 (missing) -> last entry
    return stage.astype(str).map(lookup).fillna(-1).to_numpy().astype(np.int64)


def _group_codes(stays: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group number of each stay and a frame of the group labels (in group-number order)."""
    if not by:
        return np.zeros(len(stays), dtype=np.int64), pd.DataFrame(index=range(1))
    grouped = stays.groupby(by, sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy()
    labels = grouped.size().index.to_frame(index=False)
    return codes, labels


def _aggregate_times(
    cell: np.ndarray, days: np.ndarray, observed: np.ndarray, resolution: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (cell, duration, event) triples with their counts, sorted by cell."""
    if resolution:
        ticks = np.rint(np.maximum(days, 0.0) / resolution).astype(np.int64)
        span = int(ticks.max(initial=0)).bit_length() + 1
        cell_bits = int(cell.max(initial=0)).bit_length()
        if span + cell_bits <= 62:
            key = (cell.astype(np.int64) << span) | (ticks << 1) | observed.astype(np.int64)
            uniq, counts = np.unique(key, return_counts=True)
            return (
                uniq >> span,
                ((uniq & ((1 << span) - 1)) >> 1) * resolution,
                (uniq & 1).astype(bool),
                counts,
            )
        days = ticks * resolution
    frame = pd.DataFrame({"cell": cell, "t": days, "e": observed})
    sizes = frame.groupby(["cell", "t", "e"], sort=True).size()
    idx = sizes.index
    return (
        idx.get_level_values(0).to_numpy(),
        idx.get_level_values(1).to_numpy(dtype=float),
        idx.get_level_values(2).to_numpy(dtype=bool),
        sizes.to_numpy(),
    )


class _Cells(NamedTuple):
    """Per-cell (group x stage) sums and the Kaplan–Meier input of :func:`stage_summary`."""

    labels: pd.DataFrame  # one row per group, in group order
    n_stays: np.ndarray
    n_open: np.ndarray
    sum_days: np.ndarray
    sum_done: np.ndarray  # days of the finished stays
    over: np.ndarray  # stays longer than the stage's target
    cell: np.ndarray  # the KM input: distinct (cell, t, e) sorted, with counts w
    t: np.ndarray
    e: np.ndarray
    w: np.ndarray


def _frame_cells(
    stays: pd.DataFrame,
    by_cols: list[str],
    stage_ids: list[str],
    target_map: Mapping[str, float],
    resolution: float | None,
) -> _Cells:
    """The cells of a stays DataFrame."""
    n_stage = len(stage_ids)
    pos = stage_position(stays, stage_ids)
    keep = pos >= 0
    data = stays.loc[keep] if not keep.all() else stays
    pos = pos[keep]
    group, labels = _group_codes(data, by_cols)
    cell = group * n_stage + pos
    n_cells = len(labels) * n_stage
    days = data["days"].to_numpy(dtype=float)
    observed = data["observed"].to_numpy(dtype=bool)
    target_arr = np.array([target_map.get(s, np.nan) for s in stage_ids], dtype=float)
    n_open = np.bincount(cell, weights=~observed, minlength=n_cells).astype(np.int64)
    return _Cells(
        labels,
        np.bincount(cell, minlength=n_cells).astype(np.int64),
        n_open,
        np.bincount(cell, weights=days, minlength=n_cells),
        np.bincount(cell, weights=np.where(observed, days, 0.0), minlength=n_cells),
        np.bincount(cell, weights=days > target_arr[pos], minlength=n_cells),
        *_aggregate_times(cell, days, observed, resolution),
    )


def _shell(info: StaysFile) -> pd.DataFrame:
    """An empty stays table with the file's columns, stage dtype and attrs."""
    shell = pd.DataFrame({c: pd.Series(dtype=object) for c in info.columns})
    shell["stage"] = pd.Categorical([], dtype=info.stage_dtype)
    shell.attrs = dict(info.attrs)
    return shell


def _file_cells(
    info: StaysFile,
    by_cols: list[str],
    stage_ids: list[str],
    target_map: Mapping[str, float],
    resolution: float | None,
) -> _Cells:
    """The cells of a stays file, aggregated by the engine: one row per (group, stage,
    duration, observed) comes back, with its count and sums, never one row per stay."""
    quoted = [sql_name(c) for c in by_cols]
    lit = [sql_text(s) for s in stage_ids]
    target = " ".join(
        f"WHEN {q} THEN {float(target_map[s])!r}"
        for s, q in zip(stage_ids, lit)
        if s in target_map and np.isfinite(target_map[s])
    )
    target_sql = f"CASE stage {target} END" if target else "NULL"
    # the duration in ticks of ``resolution`` days (rounded half to even, as numpy's rint)
    t_sql = (
        f"CAST(roundbankers(greatest(days, 0) / {float(resolution)!r}, 0) AS BIGINT)"
        if resolution
        else "days"
    )
    groups = "".join(f"{q}, " for q in quoted)
    # names and stage ids quoted above; nothing else typed by a user reaches the query
    sql = f"""
    SELECT {groups}list_position([{", ".join(lit)}], stage) - 1 AS pos,
           {t_sql} AS t, observed AS e, count(*) AS w,
           sum(days) AS sum_days, count(*) FILTER (days > {target_sql}) AS over
    FROM {info.sql()} WHERE stage IN ({", ".join(lit)})
    GROUP BY ALL"""  # noqa: S608
    con = connect()
    try:
        agg = con.sql(sql).df()
    finally:
        con.close()
    n_stage = len(stage_ids)
    if by_cols:
        grouped = agg.groupby(by_cols, sort=True, observed=True, dropna=False)
        group = grouped.ngroup().to_numpy()
        labels = grouped.size().index.to_frame(index=False)
    else:
        group = np.zeros(len(agg), dtype=np.int64)
        labels = pd.DataFrame(index=range(1))
    n_cells = len(labels) * n_stage
    cell = group * n_stage + agg["pos"].to_numpy(dtype=np.int64)
    w = agg["w"].to_numpy(dtype=np.int64)
    e = agg["e"].to_numpy(dtype=bool)
    raw_t = agg["t"].to_numpy()
    t = raw_t.astype(np.int64) * resolution if resolution else raw_t.astype(float)
    sum_days = agg["sum_days"].to_numpy(dtype=float)
    order = np.lexsort((e, t, cell))
    return _Cells(
        labels,
        np.bincount(cell, weights=w, minlength=n_cells).astype(np.int64),
        np.bincount(cell, weights=np.where(e, 0, w), minlength=n_cells).astype(np.int64),
        np.bincount(cell, weights=sum_days, minlength=n_cells),
        np.bincount(cell, weights=np.where(e, sum_days, 0.0), minlength=n_cells),
        np.bincount(cell, weights=agg["over"].to_numpy(dtype=float), minlength=n_cells),
        cell[order],
        t[order],
        e[order],
        w[order],
    )


def _fit(
    t: np.ndarray, e: np.ndarray, w: np.ndarray, alpha: float, label: str
) -> KaplanMeierFitter:
    kmf = KaplanMeierFitter(alpha=alpha, label=label)
    return kmf.fit(t, event_observed=e, weights=w)


def _finite(value: Any) -> float:
    x = float(value)
    return x if np.isfinite(x) else float("nan")


def _km_figures(kmf: KaplanMeierFitter) -> tuple[float, float, float, float, float]:
    """median, its CI (low, high), 75th and 90th percentile of the duration; NaN if not reached."""
    q = qth_survival_times([0.5, 0.25, 0.1], kmf.survival_function_).iloc[:, 0].to_numpy()
    ci = median_survival_times(kmf.confidence_interval_)
    return (
        _finite(q[0]),
        _finite(ci.iloc[0, 0]),
        _finite(ci.iloc[0, 1]),
        _finite(q[1]),
        _finite(q[2]),
    )


# ---------------------------------------------------------------------------------- summary
def stage_summary(
    stays: pd.DataFrame | str | os.PathLike[str],
    *,
    by: str | Sequence[str] | None = None,
    targets: Mapping[str, float] | None = None,
    min_count: int | None = None,
    model: StageModel | None = None,
    alpha: float = 0.05,
    resolution: float | None = KM_RESOLUTION,
) -> pd.DataFrame:
    """Per-stage time-in-stage figures, open stays censored (Kaplan–Meier).

    Parameters
    ----------
    stays : pandas.DataFrame, or path of a stays file
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`, or the Parquet file it
        wrote with ``to=``: the file is aggregated by the engine (one row per group, stage,
        duration and observed/open comes back, with its count), so summaries of tens of
        millions of stays never hold one row per stay in memory; the figures are the same.
    by : str or list of str, optional
        Group column(s) carried on the stays (e.g. ``"office"``, ``["office", "category"]``):
        one block of stage rows per group. Missing group values form their own group.
    targets : mapping of stage id -> days, optional
        Target days per stage (default: the stage model's targets). Compare like with like: the
        targets are in the model's ``target_unit``; ``days`` in the unit of ``time_in_stage``.
    min_count : int, optional
        When given, the table goes through the publication gate :func:`~pekso_toolkit.publish`
        with this threshold: ``n_stays`` and ``n_open`` below it are masked, and ``n_open`` when
        the finished stays (``n_stays - n_open``) are fewer; the figures computed from them
        (``mean_days_completed`` also from the finished stays) and complementary cells (blocks:
        each group, and each stage across groups) are masked too. Without it the table carries
        ``attrs["publication"]`` so that ``pk.publish(table)`` applies the same rules.
    model : StageModel, optional
        Stage order and targets (default: those recorded on ``stays`` by ``time_in_stage``).
    alpha : float
        1 - confidence level of the median's interval (default 0.05: 95 %).
    resolution : float or None
        Durations are counted to this many days before fitting (default one minute,
        ``1/1440``), which keeps the fit fast on millions of stays; None fits exact durations.

    Returns
    -------
    pandas.DataFrame
        One row per helping stage in model order (per group when ``by`` is given; every stage
        appears, with ``n_stays == 0`` when it has no stays). Columns: the ``by`` columns, then

        ``stage`` (categorical), ``n_stays`` (stays, finished or open), ``n_open`` (open at
        ``as_of``: censored), ``median_days`` with ``median_ci_low`` / ``median_ci_high``
        (Kaplan–Meier median and its confidence interval, days), ``p75_days`` and ``p90_days``
        (Kaplan–Meier 75th and 90th percentile of the time in stage, days),
        ``mean_days_completed`` (mean of finished stays only; biased low when many stays are
        open), ``share_of_time`` (this stage's share of all days the group's cases spent in
        helping stages, 0–1), ``target_days`` and ``overdue_share`` (share of stays, open ones
        included, already longer than the target, 0–1).

        A Kaplan–Meier figure is NaN when the estimate never falls that low (e.g. more than half
        the stays are still open and long): it is not known yet, and no number is made up.
        Days are in the unit of the stays (``attrs["days"]``: calendar or working).
    """
    by_cols = as_list(by)
    if isinstance(stays, (str, os.PathLike)):
        info = stays_file(stays)
        shell = _shell(info)
        _check_stays(shell, by_cols)
        stage_ids = stays_stage_ids(shell, model)
        target_map = _targets(shell, targets, model)
        attrs = shell.attrs
        cells = _file_cells(info, by_cols, stage_ids, target_map, resolution)
    else:
        _check_stays(stays, by_cols)
        stage_ids = stays_stage_ids(stays, model)
        target_map = _targets(stays, targets, model)
        attrs = stays.attrs
        cells = _frame_cells(stays, by_cols, stage_ids, target_map, resolution)
    n_stage = len(stage_ids)
    labels = cells.labels
    n_group = len(labels)
    n_cells = n_group * n_stage
    n_stays, n_open = cells.n_stays, cells.n_open
    n_done = n_stays - n_open
    sum_days, sum_done, over = cells.sum_days, cells.sum_done, cells.over
    target_arr = np.array([target_map.get(s, np.nan) for s in stage_ids], dtype=float)
    group_days = sum_days.reshape(n_group, n_stage).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_done = np.where(n_done > 0, sum_done / np.maximum(n_done, 1), np.nan)
        share = np.where(
            np.repeat(group_days, n_stage) > 0, sum_days / np.repeat(group_days, n_stage), np.nan
        )
        overdue = np.where(
            (n_stays > 0) & np.isfinite(np.tile(target_arr, n_group)),
            over / np.maximum(n_stays, 1),
            np.nan,
        )

    km = np.full((n_cells, 5), np.nan)
    t, e, w = cells.t, cells.e, cells.w
    bounds = np.searchsorted(cells.cell, np.arange(n_cells + 1))
    for c in np.flatnonzero(n_stays):
        lo, hi = bounds[c], bounds[c + 1]
        kmf = _fit(t[lo:hi], e[lo:hi], w[lo:hi], alpha, stage_ids[c % n_stage])
        km[c] = _km_figures(kmf)

    table = labels.loc[np.repeat(np.arange(n_group), n_stage)].reset_index(drop=True)
    stage_dtype = pd.CategoricalDtype(stage_ids, ordered=True)
    table["stage"] = pd.Categorical(np.tile(stage_ids, n_group), dtype=stage_dtype)
    table["n_stays"] = n_stays.astype(np.int64)
    table["n_open"] = n_open
    table["median_days"] = km[:, 0]
    table["median_ci_low"] = km[:, 1]
    table["median_ci_high"] = km[:, 2]
    table["p75_days"] = km[:, 3]
    table["p90_days"] = km[:, 4]
    table["mean_days_completed"] = mean_done
    table["share_of_time"] = share
    table["target_days"] = np.tile(target_arr, n_group)
    table["overdue_share"] = overdue
    table.attrs = {k: v for k, v in attrs.items() if k in ("as_of", "days")}
    # every figure of a row is computed from its stays (the target is not); the mean of finished
    # stays also from the open ones (n_stays - n_open finished stays)
    not_derived = ("stage", "n_stays", "n_open", "target_days")
    derived: dict[str, str | list[str]] = {
        c: "n_stays" for c in SUMMARY_COLUMNS if c not in not_derived
    }
    derived["mean_days_completed"] = ["n_stays", "n_open"]
    margins: list[str | list[str]] = [by_cols, ["stage"]] if by_cols else [[]]
    spec = publication_spec(
        count_cols=["n_stays", "n_open"],
        derived=derived,
        margins=margins,
        complements={"n_open": "n_stays"},
    )
    table.attrs["publication"] = spec
    if min_count is not None:
        table = publish(table, min_count=min_count)
    return table


def survival_fits(
    stays: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    stage: str | None = None,
    alpha: float = 0.05,
    resolution: float | None = KM_RESOLUTION,
    model: StageModel | None = None,
) -> dict[str, KaplanMeierFitter]:
    """Kaplan–Meier fits of time in stage, one per stage or per group, open stays censored.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    by : str or list of str, optional
        None or ``"stage"``: one curve per helping stage. A carried column, or a list of them:
        one curve per value (values of several columns joined by ``" / "``), for the stays of
        ``stage``.
    stage : str, optional
        Keep only this stage's stays (needed when ``by`` is not ``"stage"``).
    alpha : float
        1 - confidence level of the bands.
    resolution : float or None
        As in :func:`stage_summary`.
    model : StageModel, optional
        Stage order (default: the one recorded on ``stays``).

    Returns
    -------
    dict of label -> lifelines.KaplanMeierFitter
        In stage order (or sorted group order); groups without stays are left out. Each fitter has
        ``survival_function_``, ``confidence_interval_`` and ``event_table`` (with ``at_risk``).
    """
    by_cols = [c for c in as_list(by) if c != "stage"]
    _check_stays(stays, by_cols)
    stage_ids = stays_stage_ids(stays, model)
    if stage is not None and stage not in stage_ids:
        raise KeyError(f"stage {stage!r} is not a helping stage; known: {', '.join(stage_ids)}")
    if by_cols and stage is None:
        raise ValueError(f"give stage=... to compare {by!r} groups within one stage")
    pos = stage_position(stays, stage_ids)
    keep = pos >= 0 if stage is None else pos == stage_ids.index(stage)
    data = stays.loc[keep]
    if not by_cols:
        codes = pos[keep]
        names = stage_ids
    else:
        codes, labels = _group_codes(data, by_cols)
        names = [" / ".join(str(v) for v in row) for row in labels.itertuples(index=False)]
    days = data["days"].to_numpy(dtype=float)
    observed = data["observed"].to_numpy(dtype=bool)
    cells, t, e, w = _aggregate_times(codes, days, observed, resolution)
    bounds = np.searchsorted(cells, np.arange(len(names) + 1))
    fits: dict[str, KaplanMeierFitter] = {}
    for i, name in enumerate(names):
        lo, hi = bounds[i], bounds[i + 1]
        if hi > lo:
            fits[name] = _fit(t[lo:hi], e[lo:hi], w[lo:hi], alpha, name)
    return fits


# ---------------------------------------------------------------------------------- bottlenecks
def _num_id(x: float, digits: int = 0) -> str:
    """Number in Indonesian style: 1.234,5."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _num_en(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def _reason(row: Mapping[str, Any]) -> str:
    median, ratio = row["median_days"], row["ratio_to_target"]
    waiting, overdue, score = row["n_waiting_now"], row["overdue_now"], row["score"]
    hidden = str(row.get("suppressed") or "")
    if pd.isna(row["n_stays"]):  # masked by the publication gate: no figure from it is shown
        return bilingual(
            "sedikit kasus: angka disembunyikan untuk melindungi klien",
            "few cases: figures withheld to protect clients",
        )
    if row["n_stays"] == 0:
        return bilingual("belum ada kasus di tahap ini", "no cases in this stage yet")
    parts_id: list[str] = []
    parts_en: list[str] = []
    if "median_days" in hidden:
        parts_id.append("median disembunyikan")
        parts_en.append("median withheld")
    elif np.isfinite(median):
        digits = 0 if median >= 10 else 1
        text_id = f"median {_num_id(median, digits)} hari"
        text_en = f"median {_num_en(median, digits)} days"
        if np.isfinite(ratio):
            text_id += f", {_num_id(ratio, 1)}× target"
            text_en += f", {_num_en(ratio, 1)}× target"
        parts_id.append(text_id)
        parts_en.append(text_en)
    else:
        parts_id.append("median belum tercapai (lebih dari separuh masih berjalan)")
        parts_en.append("median not reached yet (more than half still open)")
    if pd.isna(waiting):
        wait_id, wait_en = "jumlah kasus menunggu disembunyikan", "number waiting withheld"
    else:
        wait_id = f"{_num_id(waiting)} kasus menunggu sekarang"
        wait_en = f"{_num_en(waiting)} case{'s' if waiting != 1 else ''} waiting now"
    if pd.notna(overdue) and overdue:
        wait_id += f" ({_num_id(overdue)} lewat target)"
        wait_en += f" ({_num_en(overdue)} past target)"
    parts_id.append(wait_id)
    parts_en.append(wait_en)
    if pd.notna(score) and score > 0:
        parts_id.append(f"{_num_id(100 * score)}% dari hari lewat target")
        parts_en.append(f"{_num_en(100 * score)}% of days past target")
    if row.get("differs") is True:
        parts_id.append("berbeda dari kelompok lain lebih dari kebetulan (uji log-rank)")
        parts_en.append("differs from the other groups beyond chance (log-rank test)")
    return bilingual("; ".join(parts_id), "; ".join(parts_en))


def bottlenecks(
    stays: pd.DataFrame,
    *,
    as_of: Any = None,
    by: str | Sequence[str] | None = None,
    targets: Mapping[str, float] | None = None,
    model: StageModel | None = None,
    min_count: int | None = None,
) -> pd.DataFrame:
    """Stages ranked by how much they hold cases up, with the figures behind the rank.

    Scoring
    -------
    Each stay that has lasted longer than its stage's target contributes its *days past
    target* (``days - target_days``; open stays count up to ``as_of``). A stage's
    ``score`` is its share of all days past target in the group (0–1): the share of the
    group's lateness that this stage causes. It grows with how many cases pass through, how far
    past the target they run, and how many are waiting past target now. Stages are ranked by
    ``score``, ties (e.g. no stage past target, or stages without a target, which score 0) by
    ``share_of_time``.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`, made with the same
        ``as_of``.
    as_of : date-like, optional
        The analysis date; must be the ``as_of`` the stays were made with (default: that one,
        ``stays.attrs["as_of"]``).
    by : str or list of str, optional
        Group column(s): stages are ranked within each group.
    targets : mapping of stage id -> days, optional
        Target days (default: the stage model's).
    model : StageModel, optional
        Stage order and targets (default: those recorded on ``stays``).
    min_count : int, optional
        When given, the table goes through the publication gate (:func:`pekso_toolkit.publish`)
        with this threshold: small counts (``n_stays``, ``n_waiting_now``, ``overdue_now``),
        small complements and the figures computed from them are masked, and the reason texts
        are written without them.

    Returns
    -------
    pandas.DataFrame
        One row per group and helping stage, best-ranked first within each group. Columns: the
        ``by`` columns, ``rank`` (1 = biggest bottleneck), ``stage``, ``n_stays``,
        ``median_days`` (Kaplan–Meier), ``target_days``, ``ratio_to_target``
        (median / target), ``n_waiting_now`` (open stays at ``as_of``), ``overdue_now``
        (open stays already past target), ``share_of_time`` (0–1), ``days_past_target``
        (sum over stays, days), ``score`` (0–1), with ``by``: ``p_holm`` (log-rank test of
        the group's stays in that stage against every other group's, open stays censored,
        Holm-adjusted across the groups of the stage) and ``differs`` (``p_holm < 0.05``: the
        group is faster or slower than the rest beyond chance; NA when untestable), and
        ``reason`` (plain-language summary, Bahasa Indonesia / English).
    """
    recorded = stays.attrs.get("as_of")
    when = to_utc(recorded_as_of(stays, as_of))
    if recorded is not None and pd.Timestamp(recorded) != when:
        raise ValueError(
            f"the stays were computed as of {pd.Timestamp(recorded).tz_convert(DEFAULT_TZ)}, not "
            f"{when.tz_convert(DEFAULT_TZ)}; run time_in_stage(log, as_of=...) with the same date"
        )
    by_cols = as_list(by)
    summary = stage_summary(stays, by=by_cols or None, targets=targets, model=model)
    stage_ids = stays_stage_ids(stays, model)
    target_map = _targets(stays, targets, model)
    pos = stage_position(stays, stage_ids)
    keep = pos >= 0
    data = stays.loc[keep]
    pos = pos[keep]
    group, labels = _group_codes(data, by_cols)
    n_stage = len(stage_ids)
    n_cells = len(labels) * n_stage
    cell = group * n_stage + pos
    days = data["days"].to_numpy(dtype=float)
    open_ = ~data["observed"].to_numpy(dtype=bool)
    target = np.array([target_map.get(s, np.nan) for s in stage_ids], dtype=float)[pos]
    past = np.where(np.isfinite(target), np.maximum(days - np.nan_to_num(target), 0.0), 0.0)
    overdue_now = np.bincount(cell, weights=open_ & (past > 0), minlength=n_cells)
    past_sum = np.bincount(cell, weights=past, minlength=n_cells)
    group_past = np.repeat(past_sum.reshape(-1, n_stage).sum(axis=1), n_stage)

    out = summary[[*by_cols, "stage", "n_stays", "median_days", "target_days"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ratio_to_target"] = summary["median_days"] / summary["target_days"]
        score = np.where(group_past > 0, past_sum / np.where(group_past > 0, group_past, 1), 0.0)
    out["n_waiting_now"] = summary["n_open"].to_numpy()
    out["overdue_now"] = overdue_now.astype(np.int64)
    out["share_of_time"] = summary["share_of_time"].fillna(0.0).to_numpy()
    out["days_past_target"] = past_sum
    out["score"] = score
    if by_cols:
        p_holm = np.full(n_cells, np.nan)
        for stage_pos in range(n_stage):
            here = pos == stage_pos
            if here.any():
                tests = one_vs_rest(days[here], ~open_[here], group[here])
                p_holm[np.arange(len(tests)) * n_stage + stage_pos] = tests["p_holm"]
        out["p_holm"] = p_holm
        out["differs"] = pd.array(
            np.where(np.isfinite(p_holm), p_holm < LOGRANK_ALPHA, False), dtype="boolean"
        )
        out.loc[~np.isfinite(p_holm), "differs"] = pd.NA
    out["_group"] = np.repeat(np.arange(len(labels)), n_stage)
    out = out.sort_values(
        ["_group", "score", "share_of_time"], ascending=[True, False, False], kind="stable"
    )
    out.insert(len(by_cols), "rank", out.groupby("_group").cumcount().to_numpy() + 1)
    out["reason"] = _reasons(out)
    out = out.drop(columns="_group").reset_index(drop=True)
    out.attrs = {k: v for k, v in summary.attrs.items() if k != "publication"}
    figures: tuple[str, ...] = (
        "median_days",
        "ratio_to_target",
        "share_of_time",
        "days_past_target",
        "score",
    )
    figures += ("p_holm", "differs") if by_cols else ()
    out.attrs["publication"] = publication_spec(
        count_cols=["n_stays", "n_waiting_now", "overdue_now"],
        derived={c: "n_stays" for c in figures},
        margins=[by_cols, ["stage"]] if by_cols else [[]],
        complements={"n_waiting_now": "n_stays", "overdue_now": "n_waiting_now"},
        rewrite={"reason": _reasons},
    )
    if min_count is not None:
        out = publish(out, min_count=min_count)
    return out


def _reasons(table: pd.DataFrame) -> pd.api.extensions.ExtensionArray:
    """The ``reason`` texts of a bottleneck table (masked figures are not written)."""
    return pd.array([_reason(r) for r in table.to_dict("records")], dtype="string")
