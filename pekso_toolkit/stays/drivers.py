"""Why a stage is slow: covariate models of time in stage, and tests between groups.

:func:`stage_drivers` fits a Cox proportional-hazards model (lifelines ``CoxPHFitter``) of the
time spent in one stage, open stays right-censored. A *hazard ratio* above 1 means stays end
sooner; the plain-language sentence is written from the **median-time ratio** the model implies
(how much longer or shorter the typical stay is), which is what a supervisor asks. The
proportional-hazards assumption is checked (lifelines ``proportional_hazard_test``); a categorical
covariate that fails it is moved into the strata of a stratified model, and its levels are
compared by log-rank test and Kaplan–Meier medians instead.

:func:`compare_groups` answers "does this office differ from the rest beyond chance?" with
log-rank tests (one group against the rest, and all groups at once).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import logrank_test, multivariate_logrank_test, proportional_hazard_test

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.publish.disclosure import suppress_small_cells
from pekso_toolkit.stays.logrank import one_vs_rest
from pekso_toolkit.stays.summary import stage_position, stays_stage_ids

__all__ = [
    "COMPARE_COLUMNS",
    "DRIVER_COLUMNS",
    "DRIVER_RESOLUTION",
    "compare_groups",
    "stage_drivers",
]

#: Columns of :func:`stage_drivers`.
DRIVER_COLUMNS = (
    "stage",
    "covariate",
    "level",
    "reference",
    "hazard_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_events",
    "median_ratio",
    "median_ratio_low",
    "median_ratio_high",
    "ph_p_value",
    "method",
    "sentence",
    "note",
)

#: Durations are rounded up to this resolution (days) before the Cox fit: one hour.
DRIVER_RESOLUTION = 1 / 24

#: Columns of :func:`compare_groups` after the group columns.
COMPARE_COLUMNS = (
    "stage",
    "comparison",
    "n_stays",
    "n_events",
    "median_days",
    "median_rest_days",
    "test_statistic",
    "degrees_of_freedom",
    "p_value",
    "p_holm",
    "differs",
)

_LN2 = math.log(2.0)
_NEEDS = ("case_id", "stage", "days", "observed")


# ---------------------------------------------------------------------------------- helpers
def _num(x: float, lang: str, digits: int = 1) -> str:
    """A number for a sentence: decimal comma in Bahasa Indonesia."""
    text = f"{x:.{digits}f}"
    return text.replace(".", ",") if lang == "id" else text


def _p_text(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < 0,001" if lang == "id" else "p < 0.001"
    return f"p = {_num(p, lang, 3)}"


def _stage_labels(stage: str, model: StageModel | None) -> tuple[str, str]:
    model = model or StageModel.default()
    if stage in model:
        return model.label(stage, "id"), model.label(stage, "en")
    return stage, stage


def _check(stays: pd.DataFrame) -> None:
    if not isinstance(stays, pd.DataFrame):
        raise TypeError(
            f"expected the stays table of pk.time_in_stage(...), not {type(stays).__name__}"
        )
    missing = [c for c in _NEEDS if c not in stays.columns]
    if missing:
        raise KeyError(
            f"the stays table lacks column(s) {missing}; make it with pk.time_in_stage(log, "
            "as_of=...)"
        )


def _stages_wanted(
    stays: pd.DataFrame, stage: str | Sequence[str] | None, model: StageModel | None
) -> list[str]:
    stage_ids = stays_stage_ids(stays, model)
    wanted = stage_ids if stage is None else as_list(stage)
    unknown = [s for s in wanted if s not in stage_ids]
    if unknown:
        raise KeyError(
            f"stage {unknown[0]!r} is not a helping stage; known: {', '.join(stage_ids)}"
        )
    return wanted


def _is_categorical(values: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    )


def _km_median(days: np.ndarray, observed: np.ndarray) -> float:
    if len(days) == 0:
        return float("nan")
    kmf = KaplanMeierFitter().fit(days, event_observed=observed)
    value = float(kmf.median_survival_time_)
    return value if np.isfinite(value) else float("nan")


def _median_for(times: np.ndarray, cumhaz: np.ndarray, multiplier: float) -> float:
    """First time at which ``multiplier * cumhaz`` reaches ln 2 (the median); NaN if never."""
    if not np.isfinite(multiplier) or multiplier <= 0:
        return float("nan")
    hit = np.flatnonzero(cumhaz * multiplier >= _LN2)
    return float(times[hit[0]]) if len(hit) else float("nan")


def _with_covariates(
    data: pd.DataFrame, covariates: list[str], cases: pd.DataFrame | None
) -> pd.DataFrame:
    """The stays with every covariate: taken from the stays, else joined from ``cases``."""
    from_cases = [c for c in covariates if c not in data.columns]
    if not from_cases:
        return data
    if cases is None:
        raise KeyError(
            f"covariate(s) {from_cases} are not columns of the stays; carry them from the event "
            "log or give cases=... (one row per case_id)"
        )
    missing = [c for c in ("case_id", *from_cases) if c not in cases.columns]
    if missing:
        raise KeyError(f"cases: column(s) {missing} are missing (need case_id and the covariates)")
    table = cases[["case_id", *from_cases]].copy()
    table["case_id"] = table["case_id"].astype("string")
    if table["case_id"].duplicated().any():
        dup = table.loc[table["case_id"].duplicated(), "case_id"].iloc[0]
        raise ValueError(f"cases: case_id {dup!r} appears twice; give one row per case")
    return data.assign(case_id=data["case_id"].astype("string")).merge(
        table, on="case_id", how="left"
    )


class _Design:
    """One-hot design of the covariates: dummy columns, levels and reference levels."""

    def __init__(
        self,
        data: pd.DataFrame,
        covariates: list[str],
        reference: Mapping[str, Any],
    ) -> None:
        self.columns: dict[str, list[tuple[str, str]]] = {}  # covariate -> [(dummy, level)]
        self.reference: dict[str, str | None] = {}
        self.numeric: list[str] = []
        self.frame = pd.DataFrame(index=data.index)
        self.codes: dict[str, pd.Series] = {}
        for cov in covariates:
            values = data[cov]
            if not _is_categorical(values):
                self.numeric.append(cov)
                self.reference[cov] = None
                self.columns[cov] = [(cov, "")]
                self.frame[cov] = values.astype(float)
                continue
            text = values.astype("string")
            counts = text.value_counts(sort=False)
            counts = counts[counts > 0]
            if cov in reference:
                ref = str(reference[cov])
                if ref not in counts.index:
                    raise ValueError(
                        f"reference level {ref!r} of {cov!r} does not occur in this stage; "
                        f"levels: {', '.join(map(str, counts.index))}"
                    )
            else:  # the most frequent level (ties: first in sorted order)
                ordered = counts.sort_index().sort_values(ascending=False, kind="stable")
                ref = str(ordered.index[0])
            self.reference[cov] = ref
            self.codes[cov] = text
            dummies = []
            for level in sorted(str(v) for v in counts.index):
                if level == ref:
                    continue
                name = f"{cov}={level}"
                self.frame[name] = (text == level).fillna(False).astype(float)
                dummies.append((name, level))
            self.columns[cov] = dummies

    def dummies(self, covariates: Sequence[str]) -> list[str]:
        return [name for cov in covariates for name, _ in self.columns[cov]]


def _fit_cox(
    df: pd.DataFrame,
    strata: list[str] | None,
    cluster: bool,
    penalizer: float,
    alpha: float,
) -> CoxPHFitter:
    cph = CoxPHFitter(penalizer=penalizer, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cph.fit(
            df,
            duration_col="__days",
            event_col="__event",
            strata=strata or None,
            cluster_col="__cluster" if cluster else None,
        )
    return cph


def _reference_cumhaz(
    cph: CoxPHFitter, df: pd.DataFrame, design_cols: list[str], strata: list[str]
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(times, cumulative hazard, weight) of the reference profile, per stratum.

    The reference profile has every categorical covariate at its reference level (dummies 0) and
    every numeric covariate at its median; the weight is the stratum's number of finished stays.
    """
    profile = {c: 0.0 for c in design_cols}
    for c in design_cols:
        if "=" not in c:
            profile[c] = float(df[c].median())
    out = []
    if not strata:
        row = pd.DataFrame([profile])
        ch = cph.predict_cumulative_hazard(row)
        out.append((ch.index.to_numpy(dtype=float), ch.iloc[:, 0].to_numpy(float), 1.0))
        return out
    for key, part in df.groupby(strata, sort=True, observed=True):
        keys = key if isinstance(key, tuple) else (key,)
        row = pd.DataFrame([{**profile, **dict(zip(strata, keys))}])
        ch = cph.predict_cumulative_hazard(row)
        out.append(
            (
                ch.index.to_numpy(dtype=float),
                ch.iloc[:, 0].to_numpy(float),
                float(part["__event"].sum()),
            )
        )
    return out


def _median_ratio(curves: list[tuple[np.ndarray, np.ndarray, float]], hazard_ratio: float) -> float:
    """Median time at hazard ratio ``hazard_ratio`` over the reference median (geometric mean of
    the strata, weighted by their finished stays)."""
    logs, weights = [], []
    for times, cumhaz, weight in curves:
        ref = _median_for(times, cumhaz, 1.0)
        other = _median_for(times, cumhaz, hazard_ratio)
        if np.isfinite(ref) and np.isfinite(other) and ref > 0 and other > 0 and weight > 0:
            logs.append(math.log(other / ref))
            weights.append(weight)
    if not logs:
        return float("nan")
    return float(math.exp(np.average(logs, weights=weights)))


def _sentence(
    cov: str,
    level: str,
    ref: str | None,
    stage_labels: tuple[str, str],
    median_ratio: float,
    hazard_ratio: float,
    p: float,
) -> str:
    """Bilingual plain sentence for one significant factor."""
    parts = []
    for lang, stage_label in zip(("id", "en"), stage_labels):
        if ref is None:
            who = f"setiap tambahan 1 pada {cov}" if lang == "id" else f"each additional 1 of {cov}"
        else:
            who = f"kasus {cov} = {level}" if lang == "id" else f"cases with {cov} = {level}"
        than = ""
        if ref is not None:
            than = f" daripada {cov} = {ref}" if lang == "id" else f" than {cov} = {ref}"
        stats = (
            f"(waktu median; rasio hazard {_num(hazard_ratio, lang, 2)}, {_p_text(p, lang)})"
            if lang == "id"
            else f"(median time; hazard ratio {_num(hazard_ratio, lang, 2)}, {_p_text(p, lang)})"
        )
        stage_text = stage_label.lower() if lang == "id" else stage_label.lower()
        if np.isfinite(median_ratio) and median_ratio >= 1:
            r = _num(median_ratio, lang)
            if ref is None:
                verb = (
                    f"membuat kasus bertahan di {stage_text} {r}× lebih lama"
                    if lang == "id"
                    else f"makes cases stay {r}× longer in {stage_text}"
                )
            else:
                verb = (
                    f"bertahan di {stage_text} {r}× lebih lama"
                    if lang == "id"
                    else f"stay {r}× longer in {stage_text}"
                )
            parts.append(f"{who} {verb}{than} {stats}")
        elif np.isfinite(median_ratio):
            r = _num(median_ratio, lang)
            if ref is None:
                verb = (
                    f"membuat waktu di {stage_text} {r}× (lebih singkat)"
                    if lang == "id"
                    else f"makes the time in {stage_text} {r}× as long (shorter)"
                )
            else:
                verb = (
                    f"keluar dari {stage_text} lebih cepat: waktunya {r}× dibanding"
                    if lang == "id"
                    else f"leave {stage_text} sooner: their time is {r}× that of"
                )
                than = f" {cov} = {ref}"
            parts.append(f"{who} {verb}{than} {stats}")
        else:  # the median is not reached: say it from the hazard ratio only
            slower = hazard_ratio < 1
            if lang == "id":
                how = "lebih lambat" if slower else "lebih cepat"
                parts.append(f"{who} keluar dari {stage_text} {how}{than} {stats}")
            else:
                how = "more slowly" if slower else "sooner"
                parts.append(f"{who} leave {stage_text} {how}{than} {stats}")
    text_id, text_en = parts
    return f"{text_id[0].upper()}{text_id[1:]}. / {text_en[0].upper()}{text_en[1:]}."


# ---------------------------------------------------------------------------------- drivers
def stage_drivers(
    stays: pd.DataFrame,
    *,
    stage: str | Sequence[str] | None = None,
    covariates: str | Sequence[str],
    cases: pd.DataFrame | None = None,
    reference: Mapping[str, Any] | None = None,
    cluster_col: str | None = "case_id",
    alpha: float = 0.05,
    ph_alpha: float = 0.01,
    penalizer: float = 0.0,
    resolution: float | None = DRIVER_RESOLUTION,
    min_count: int | None = None,
    model: StageModel | None = None,
) -> pd.DataFrame:
    """What makes a stage long: a Cox model of time in stage per stage, open stays censored.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    stage : str or list of str, optional
        Helping stage(s) to model, one model each (default: every helping stage).
    covariates : str or list of str
        Columns of the stays (carried from the event log) or of ``cases``. Text, categorical and
        boolean columns are one-hot coded against a reference level; numeric columns enter as
        they are (the ratio is then per additional unit).
    cases : pandas.DataFrame, optional
        One row per case: ``case_id`` and covariates the stays do not carry (e.g. risk level
        from the case store).
    reference : mapping of covariate -> level, optional
        Reference level of a categorical covariate (default: its most frequent level in the
        stage). Stated in the ``reference`` column.
    cluster_col : str or None
        Stays of one case that visits the stage twice (rework) are not independent: when any case
        has more than one stay in the stage, standard errors are clustered on this column (robust
        sandwich estimate). None: never cluster.
    alpha : float
        1 - confidence level of the intervals; also the significance level for the sentences.
    ph_alpha : float
        Level of the proportional-hazards test (default 0.01, as lifelines'
        ``check_assumptions``); a covariate's smallest p-value over its levels, times its number
        of levels, is compared with it.
    penalizer : float
        Ridge penalty of lifelines' ``CoxPHFitter`` (default 0: the plain partial likelihood).
    resolution : float or None
        Durations are rounded up to this many days before fitting (default one hour; a stay of
        0 days counts as ending within the first hour). lifelines' fit takes a step per distinct
        time, so this keeps it quick on large tables; ties are handled by Efron's method. None
        fits exact durations.
    min_count : int, optional
        Pass the table through
        :func:`~pekso_toolkit.publish.disclosure.suppress_small_cells`: ``n`` and ``n_events``
        below it are masked, with every figure and sentence of that row.
    model : StageModel, optional
        Stage order and labels (default: the one recorded on ``stays``).

    Returns
    -------
    pandas.DataFrame
        One row per stage and covariate level other than the reference (one row per numeric
        covariate):

        ``stage``; ``covariate``; ``level`` (NA for a numeric covariate); ``reference`` (the
        level compared with; NA for numeric); ``hazard_ratio`` with ``ci_low`` / ``ci_high``
        (rate at which stays end, relative to the reference; above 1 = stays end sooner);
        ``p_value`` (Wald test of the Cox model, or log-rank test for a stratifying covariate);
        ``n`` and ``n_events`` (stays of that level in the model, and finished ones; all stays
        for a numeric covariate); ``median_ratio`` with ``median_ratio_low`` /
        ``median_ratio_high`` (median time in stage at this level divided by the median at the
        reference level, all else at the reference profile: reference levels and numeric
        medians; above 1 = longer stays. From the fitted model, its interval from the hazard
        ratio's interval with the baseline held fixed. For a stratifying covariate, the ratio of
        Kaplan–Meier medians, without interval); ``ph_p_value`` (proportional-hazards test of the
        covariate, Bonferroni over its levels); ``method`` (``"cox"``, ``"cox_stratified"`` when
        another covariate was moved to the strata, ``"logrank"`` for a covariate that failed the
        proportional-hazards test and became a stratum); ``sentence`` (bilingual plain sentence
        when ``p_value < alpha``, else NA); ``note`` (bilingual: what failed and what was done,
        else NA).

        ``attrs`` holds ``as_of``, ``days`` and ``notes`` (list of bilingual notes per stage:
        stays dropped for missing covariates, clustering, proportional-hazards failures).
    """
    _check(stays)
    cov_list = as_list(covariates)
    if not cov_list:
        raise ValueError("covariates: name at least one column, e.g. covariates=['risk']")
    reference = dict(reference or {})
    unknown_ref = [c for c in reference if c not in cov_list]
    if unknown_ref:
        raise KeyError(f"reference: {unknown_ref} are not among the covariates {cov_list}")
    wanted = _stages_wanted(stays, stage, model)
    stage_ids = stays_stage_ids(stays, model)
    pos = stage_position(stays, stage_ids)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for stage_id in wanted:
        data = stays.loc[pos == stage_ids.index(stage_id)]
        data = _with_covariates(data.reset_index(drop=True), cov_list, cases)
        complete = data[cov_list].notna().all(axis=1)
        if not complete.all():
            notes.append(
                f"{stage_id}: {int((~complete).sum())} tinggal tanpa nilai kovariat tidak dipakai "
                f"/ {int((~complete).sum())} stays without covariate values were left out"
            )
            data = data.loc[complete].reset_index(drop=True)
        if data.empty or not data["observed"].any():
            notes.append(
                f"{stage_id}: tidak ada tinggal yang selesai, model tidak dapat dihitung / "
                "no finished stays, no model"
            )
            continue
        rows.extend(
            _drivers_of_stage(
                data, stage_id, cov_list, reference, cluster_col, alpha, ph_alpha, penalizer,
                resolution, model, notes,
            )
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))
    table["stage"] = pd.Categorical(table["stage"], categories=stage_ids, ordered=True)
    for col in ("covariate", "level", "reference", "method", "sentence", "note"):
        table[col] = table[col].astype("string")
    table = table.astype({"n": "int64", "n_events": "int64"})
    for col in ("hazard_ratio", "ci_low", "ci_high", "p_value", "median_ratio"):
        table[col] = table[col].astype(float)
    table.attrs = {k: v for k, v in stays.attrs.items() if k in ("as_of", "days")}
    table.attrs["notes"] = notes
    if min_count is not None:
        figures = [c for c in DRIVER_COLUMNS[4:] if c not in ("n", "n_events", "method")]
        table = suppress_small_cells(
            table,
            threshold=min_count,
            count_cols=["n", "n_events"],
            derived={c: ["n", "n_events"] for c in figures},
            margins=[["stage", "covariate"]],
        )
    return table


def _drivers_of_stage(
    data: pd.DataFrame,
    stage_id: str,
    covariates: list[str],
    reference: Mapping[str, Any],
    cluster_col: str | None,
    alpha: float,
    ph_alpha: float,
    penalizer: float,
    resolution: float | None,
    model: StageModel | None,
    notes: list[str],
) -> list[dict[str, Any]]:
    design = _Design(data, covariates, reference)
    labels = _stage_labels(stage_id, model)
    days = data["days"].to_numpy(dtype=float)
    event = data["observed"].to_numpy(dtype=bool)
    df = design.frame.copy()
    if resolution:
        df["__days"] = np.maximum(np.ceil(days / resolution), 1.0) * resolution
    else:
        df["__days"] = np.maximum(days, 0.0)
    df["__event"] = event
    cluster = False
    if cluster_col is not None:
        if cluster_col not in data.columns:
            raise KeyError(f"cluster_col: column {cluster_col!r} is not in the stays")
        codes = pd.factorize(data[cluster_col].astype("string"))[0]
        if len(np.unique(codes)) < len(codes):
            df["__cluster"] = codes
            cluster = True
            notes.append(
                f"{stage_id}: kasus dengan lebih dari satu tinggal; galat baku dikelompokkan per "
                f"{cluster_col} / cases with more than one stay; standard errors clustered by "
                f"{cluster_col}"
            )
    # covariates whose levels never differ in this stage (one level only) cannot enter
    usable = [
        c for c in covariates if design.columns[c] and df[design.dummies([c])].std().gt(0).all()
    ]
    for cov in covariates:
        if cov not in usable:
            notes.append(
                f"{stage_id}: {cov} hanya satu nilai di tahap ini, tidak dimodelkan / {cov} has "
                "a single value in this stage, not modelled"
            )
    if not usable:
        return []
    cols = design.dummies(usable)
    fit_df = df[[*cols, "__days", "__event", *(["__cluster"] if cluster else [])]]
    cph = _fit_cox(fit_df, None, cluster, penalizer, alpha)

    # proportional hazards: rank-time test per dummy, Bonferroni within each covariate
    ph_p: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = proportional_hazard_test(cph, fit_df, time_transform="rank")
    test_p = test.summary["p"]
    test_p.index = [i[0] if isinstance(i, tuple) else i for i in test_p.index]
    for cov in usable:
        dummies = design.dummies([cov])
        p_min = float(np.nanmin([test_p.get(d, np.nan) for d in dummies]))
        ph_p[cov] = min(1.0, p_min * len(dummies))
    failed = [c for c in usable if ph_p[c] < ph_alpha]
    strata_covs = [c for c in failed if c not in design.numeric]
    failed_numeric = [c for c in failed if c in design.numeric]
    in_model = [c for c in usable if c not in strata_covs]
    stratified = bool(strata_covs)
    strata_cols = [f"__strata_{c}" for c in strata_covs]
    if stratified:
        for cov, col in zip(strata_covs, strata_cols):
            fit_df = fit_df.assign(**{col: pd.factorize(design.codes[cov])[0]})
        cols = design.dummies(in_model)
        keep = [*cols, "__days", "__event", *(["__cluster"] if cluster else []), *strata_cols]
        fit_df = fit_df[keep]
        cph = _fit_cox(fit_df, strata_cols, cluster, penalizer, alpha) if cols else None
    curves = _reference_cumhaz(cph, fit_df, cols, strata_cols) if cph is not None else []

    rows: list[dict[str, Any]] = []
    summary = cph.summary if cph is not None else None
    for cov in usable:
        ref = design.reference[cov]
        note: str | None = None
        if cov in strata_covs:
            note = (
                f"Asumsi hazard proporsional tidak terpenuhi untuk {cov} "
                f"({_p_text(ph_p[cov], 'id')}): {cov} dijadikan strata, tingkatnya dibandingkan "
                f"dengan uji log-rank dan median Kaplan–Meier. / The proportional-hazards "
                f"assumption fails for {cov} ({_p_text(ph_p[cov], 'en')}): {cov} became a "
                "stratum; its levels are compared by log-rank test and Kaplan–Meier medians."
            )
            notes.append(f"{stage_id}: {note}")
        elif cov in failed_numeric:
            note = (
                f"Asumsi hazard proporsional tidak terpenuhi untuk {cov} "
                f"({_p_text(ph_p[cov], 'id')}): efeknya berubah menurut waktu; rasio hazard "
                f"adalah rata-rata. / The proportional-hazards assumption fails for {cov} "
                f"({_p_text(ph_p[cov], 'en')}): its effect changes over time; the hazard ratio "
                "is an average."
            )
            notes.append(f"{stage_id}: {note}")
        for name, level in design.columns[cov]:
            if cov in design.numeric:
                mask = np.ones(len(data), dtype=bool)
            else:
                mask = (design.codes[cov] == level).fillna(False).to_numpy(dtype=bool)
            row: dict[str, Any] = {
                "stage": stage_id,
                "covariate": cov,
                "level": None if cov in design.numeric else level,
                "reference": ref,
                "n": int(mask.sum()),
                "n_events": int(event[mask].sum()),
                "ph_p_value": ph_p[cov],
                "note": note,
            }
            if cov in strata_covs:
                ref_mask = (design.codes[cov] == ref).fillna(False).to_numpy(dtype=bool)
                lr = logrank_test(days[mask], days[ref_mask], event[mask], event[ref_mask])
                m_lvl = _km_median(days[mask], event[mask])
                m_ref = _km_median(days[ref_mask], event[ref_mask])
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = m_lvl / m_ref if m_ref > 0 else float("nan")
                row.update(
                    hazard_ratio=np.nan,
                    ci_low=np.nan,
                    ci_high=np.nan,
                    p_value=float(lr.p_value),
                    median_ratio=ratio,
                    median_ratio_low=np.nan,
                    median_ratio_high=np.nan,
                    method="logrank",
                )
                hr_for_text = float("nan")
            else:
                assert summary is not None
                line = summary.loc[name]
                hr = float(line["exp(coef)"])
                lo = float(line[f"exp(coef) lower {100 * (1 - alpha):g}%"])
                hi = float(line[f"exp(coef) upper {100 * (1 - alpha):g}%"])
                row.update(
                    hazard_ratio=hr,
                    ci_low=lo,
                    ci_high=hi,
                    p_value=float(line["p"]),
                    median_ratio=_median_ratio(curves, hr),
                    median_ratio_low=_median_ratio(curves, hi),
                    median_ratio_high=_median_ratio(curves, lo),
                    method="cox_stratified" if stratified else "cox",
                )
                hr_for_text = hr
            significant = row["p_value"] < alpha
            row["sentence"] = (
                _sentence(
                    cov,
                    level,
                    ref,
                    labels,
                    row["median_ratio"],
                    hr_for_text if np.isfinite(hr_for_text) else 1 / row["median_ratio"],
                    row["p_value"],
                )
                if significant
                else None
            )
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------- groups
def compare_groups(
    stays: pd.DataFrame,
    *,
    by: str | Sequence[str],
    stage: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    min_count: int | None = None,
    model: StageModel | None = None,
) -> pd.DataFrame:
    """Do groups (offices, workers, ...) differ in time in stage beyond chance? Log-rank tests.

    Per stage, one log-rank test of every group against the rest of the stays, and one
    multivariate log-rank test of all groups at once (lifelines), open stays censored.

    Parameters
    ----------
    stays : pandas.DataFrame
        Output of :func:`~pekso_toolkit.stays.durations.time_in_stage`.
    by : str or list of str
        Group column(s) carried on the stays (e.g. ``"office"``).
    stage : str or list of str, optional
        Helping stage(s) to test (default: every helping stage with stays).
    alpha : float
        Level for ``differs`` (Holm-adjusted across the groups of a stage).
    min_count : int, optional
        Pass the table through
        :func:`~pekso_toolkit.publish.disclosure.suppress_small_cells` (``n_stays`` and
        ``n_events`` below it masked with the figures of that row).
    model : StageModel, optional
        Stage order (default: the one recorded on ``stays``).

    Returns
    -------
    pandas.DataFrame
        Per stage: one row per group (``comparison == "vs_rest"``), then one row for all groups
        (``"all"``, group columns NA). Columns: the ``by`` columns, ``stage``, ``comparison``,
        ``n_stays`` and ``n_events`` (stays of the group and finished ones; all stays of the
        stage for ``"all"``), ``median_days`` (Kaplan–Meier median of the group, or of the
        stage), ``median_rest_days`` (of the other groups; NaN for ``"all"``),
        ``test_statistic``, ``degrees_of_freedom`` (chi-squared), ``p_value``, ``p_holm``
        (one-vs-rest p-values Holm-adjusted within the stage; equal to ``p_value`` for
        ``"all"``) and ``differs`` (``p_holm < alpha``).
    """
    _check(stays)
    by_cols = as_list(by)
    if not by_cols:
        raise ValueError("by: name the group column(s), e.g. by='office'")
    missing = [c for c in by_cols if c not in stays.columns]
    if missing:
        raise KeyError(f"by: column(s) {missing} are not in the stays table")
    wanted = _stages_wanted(stays, stage, model)
    stage_ids = stays_stage_ids(stays, model)
    pos = stage_position(stays, stage_ids)
    rows: list[dict[str, Any]] = []
    for stage_id in wanted:
        data = stays.loc[pos == stage_ids.index(stage_id)]
        if data.empty:
            continue
        group_code, labels = pd.factorize(
            pd.MultiIndex.from_frame(data[by_cols].astype(object)), sort=True
        )
        days = data["days"].to_numpy(dtype=float)
        event = data["observed"].to_numpy(dtype=bool)
        tests = one_vs_rest(days, event, group_code)
        for g, label in enumerate(labels):
            mine = group_code == g
            row: dict[str, Any] = dict(zip(by_cols, label))
            row.update(
                stage=stage_id,
                comparison="vs_rest",
                n_stays=int(mine.sum()),
                n_events=int(event[mine].sum()),
                median_days=_km_median(days[mine], event[mine]),
                median_rest_days=_km_median(days[~mine], event[~mine]),
                test_statistic=tests.at[g, "test_statistic"],
                degrees_of_freedom=1 if np.isfinite(tests.at[g, "p_value"]) else np.nan,
                p_value=tests.at[g, "p_value"],
                p_holm=tests.at[g, "p_holm"],
            )
            rows.append(row)
        row = {c: None for c in by_cols}
        row.update(
            stage=stage_id,
            comparison="all",
            n_stays=len(data),
            n_events=int(event.sum()),
            median_days=_km_median(days, event),
            median_rest_days=np.nan,
        )
        if len(labels) > 1 and event.any():
            res = multivariate_logrank_test(days, group_code, event)
            row.update(
                test_statistic=float(res.test_statistic),
                degrees_of_freedom=int(res.degrees_of_freedom),
                p_value=float(res.p_value),
                p_holm=float(res.p_value),
            )
        else:
            row.update(test_statistic=np.nan, degrees_of_freedom=np.nan, p_value=np.nan)
            row["p_holm"] = np.nan
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*by_cols, *COMPARE_COLUMNS])
    for col in by_cols:
        if isinstance(stays[col].dtype, pd.CategoricalDtype):
            table[col] = pd.Categorical(table[col], dtype=stays[col].dtype)
    table["stage"] = pd.Categorical(table["stage"], categories=stage_ids, ordered=True)
    table["comparison"] = table["comparison"].astype("string")
    table = table.astype({"n_stays": "int64", "n_events": "int64"})
    for col in ("test_statistic", "degrees_of_freedom", "p_value", "p_holm"):
        table[col] = table[col].astype(float)
    table["differs"] = (table["p_holm"] < alpha).to_numpy()
    table.attrs = {k: v for k, v in stays.attrs.items() if k in ("as_of", "days")}
    if min_count is not None:
        figures = [c for c in COMPARE_COLUMNS if c not in ("stage", "comparison", "n_stays")]
        figures.remove("n_events")
        table = suppress_small_cells(
            table,
            threshold=min_count,
            count_cols=["n_stays", "n_events"],
            derived={c: ["n_stays", "n_events"] for c in figures},
            margins=[["stage", "comparison"]],
        )
    return table
