"""stage_drivers and compare_groups on simulated logs with a known effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test
from scipy.stats import binom
from simlog import simulate_effect

import pekso_toolkit as pk
from pekso_toolkit.stays.drivers import COMPARE_COLUMNS, DRIVER_COLUMNS


def _stays(n: int, seed: int, **kwargs: object) -> pd.DataFrame:
    sim = simulate_effect(n, seed=seed, **kwargs)  # type: ignore[arg-type]
    return pk.time_in_stage(sim.events, as_of=sim.as_of)


def _row(table: pd.DataFrame, covariate: str, level: str) -> pd.Series:
    hit = table[(table["covariate"] == covariate) & (table["level"] == level)]
    assert len(hit) == 1, table
    return hit.iloc[0]


@pytest.mark.parametrize(
    ("distribution", "seeds"),
    [("exponential", range(0, 6)), ("weibull", range(100, 106))],
)
def test_median_ratio_interval_covers_the_true_doubling(distribution: str, seeds: range) -> None:
    """risk tinggi doubles the assessment median: the 95 % interval covers 2 in most seeds and
    the estimate is near 2 (a wrong ratio, e.g. the hazard ratio itself, fails both)."""
    covered = 0
    for seed in seeds:
        stays = _stays(1500, seed, ratio=2.0, distribution=distribution, shape=1.5)
        table = pk.stage_drivers(
            stays, stage="asesmen", covariates=["risk", "shift"], reference={"risk": "rendah"}
        )
        row = _row(table, "risk", "tinggi")
        assert row["reference"] == "rendah" and row["method"] == "cox"
        assert abs(math.log(row["median_ratio"] / 2.0)) < 0.3, row
        assert row["median_ratio_low"] < row["median_ratio"] < row["median_ratio_high"]
        covered += row["median_ratio_low"] <= 2.0 <= row["median_ratio_high"]
        # the hazard ratio is the other way round: stays of tinggi end at a lower rate
        shape = 1.0 if distribution == "exponential" else 1.5
        assert row["ci_low"] < row["hazard_ratio"] < row["ci_high"] < 1.0
        assert abs(math.log(row["hazard_ratio"]) + shape * math.log(2.0)) < 0.35
        sedang = _row(table, "risk", "sedang")
        assert abs(math.log(sedang["median_ratio"])) < 0.3
    # 6 seeds at 95 %: at least 5 covered with probability 0.967
    assert covered >= 5, covered


def test_a_null_covariate_is_significant_at_about_the_nominal_rate() -> None:
    """100 small fits of a covariate with no effect: p < 0.05 in about 5 of them.

    With a true rate of 5 %, 1..12 rejections out of 100 happen with probability 0.99; a method
    that under-states the standard errors (or ignores censoring) rejects far more often.
    """
    rejections = 0
    for seed in range(100):
        stays = _stays(300, 5000 + seed, ratio=1.0)
        table = pk.stage_drivers(stays, stage="asesmen", covariates="shift")
        rejections += bool(table["p_value"].iloc[0] < 0.05)
    low, high = 1, 12
    assert binom.cdf(high, 100, 0.05) - binom.cdf(low - 1, 100, 0.05) > 0.98
    assert low <= rejections <= high, rejections


def test_table_columns_sentences_and_reference_levels() -> None:
    stays = _stays(1500, 7, ratio=2.0)
    table = pk.stage_drivers(stays, stage="asesmen", covariates=["risk", "shift"])
    assert tuple(table.columns) == DRIVER_COLUMNS
    # default reference: the most frequent level (sedang, 40 %)
    assert set(table.loc[table["covariate"] == "risk", "reference"]) == {"sedang"}
    tinggi = _row(table, "risk", "tinggi")
    assert tinggi["p_value"] < 1e-6
    text = tinggi["sentence"]
    assert "bertahan di asesmen" in text and "lebih lama" in text
    assert " / " in text and "longer in assessment" in text
    ratio = f"{tinggi['median_ratio']:.1f}"
    assert f"{ratio.replace('.', ',')}×" in text and f"{ratio}×" in text
    # rows that are not significant carry no sentence
    quiet = table[table["p_value"] >= 0.05]
    assert quiet["sentence"].isna().all()
    assert table["n"].sum() <= (stays["stage"] == "asesmen").sum() * 2
    assert (table["n_events"] <= table["n"]).all()


def test_shorter_stays_get_a_sentence_that_says_shorter() -> None:
    stays = _stays(1500, 8, ratio=2.0)
    table = pk.stage_drivers(
        stays, stage="asesmen", covariates="risk", reference={"risk": "tinggi"}
    )
    rendah = _row(table, "risk", "rendah")
    assert rendah["median_ratio"] < 0.7 and rendah["hazard_ratio"] > 1
    assert "lebih cepat" in rendah["sentence"] and "sooner" in rendah["sentence"]


def test_repeat_visits_are_clustered_by_case() -> None:
    stays = _stays(800, 9, rework=0.3)
    assert stays.loc[stays["stage"] == "asesmen", "case_id"].duplicated().any()
    table = pk.stage_drivers(stays, stage="asesmen", covariates="risk")
    assert any("clustered by case_id" in n for n in table.attrs["notes"])
    plain = pk.stage_drivers(stays, stage="asesmen", covariates="risk", cluster_col=None)
    assert not any("clustered" in n for n in plain.attrs["notes"])
    # same estimates, other standard errors
    np.testing.assert_allclose(table["hazard_ratio"], plain["hazard_ratio"])
    assert not np.allclose(table["ci_low"], plain["ci_low"])


def _crossing_stays(n: int, seed: int) -> pd.DataFrame:
    """Stays whose hazards cross: same median, group B spread far less (Weibull shape 4)."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "A", "B")
    scale_a = 10 / math.log(2)
    scale_b = 10 / math.log(2) ** (1 / 4)
    days = np.where(group == "A", scale_a * rng.weibull(1.0, n), scale_b * rng.weibull(4.0, n))
    follow = rng.uniform(5, 60, n)
    return pd.DataFrame(
        {
            "case_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
            "stage": pd.Categorical(["asesmen"] * n, dtype=pk.StageModel.default().dtype),
            "days": np.minimum(days, follow),
            "observed": days <= follow,
            "group": group,
            "office": rng.choice(["X", "Y"], n),
        }
    )


def test_failed_proportional_hazards_is_said_and_stratified() -> None:
    stays = _crossing_stays(3000, 1)
    table = pk.stage_drivers(stays, stage="asesmen", covariates=["group", "office"])
    row = _row(table, "group", "B")
    assert row["ph_p_value"] < 0.01
    assert row["method"] == "logrank" and np.isnan(row["hazard_ratio"])
    assert "proportional-hazards assumption fails" in row["note"]
    assert "hazard proporsional tidak terpenuhi" in row["note"]
    # same medians: the Kaplan-Meier ratio is near 1
    assert abs(math.log(row["median_ratio"])) < 0.2
    other = _row(table, "office", "Y")
    assert other["method"] == "cox_stratified" and pd.isna(other["note"])
    assert any("group" in n for n in table.attrs["notes"])


def test_covariates_from_a_cases_table_and_numeric_covariates() -> None:
    sim = simulate_effect(1000, seed=11, ratio=2.0)
    stays = pk.time_in_stage(sim.events, as_of=sim.as_of, carry=[])
    cases = sim.truth[["case_id", "risk"]].assign(
        age=np.random.default_rng(0).integers(18, 70, len(sim.truth))
    )
    table = pk.stage_drivers(stays, stage="asesmen", covariates=["risk", "age"], cases=cases)
    age = table[table["covariate"] == "age"].iloc[0]
    assert pd.isna(age["level"]) and pd.isna(age["reference"])
    assert abs(math.log(age["hazard_ratio"])) < 0.05
    with pytest.raises(KeyError, match="cases="):
        pk.stage_drivers(stays, stage="asesmen", covariates="risk")
    with pytest.raises(KeyError, match="not a helping stage"):
        pk.stage_drivers(stays, stage="asessmen", covariates="risk", cases=cases)
    with pytest.raises(ValueError, match="reference level"):
        pk.stage_drivers(
            stays, stage="asesmen", covariates="risk", cases=cases, reference={"risk": "x"}
        )


def test_every_stage_by_default_and_min_count_masks_small_levels() -> None:
    stays = _stays(400, 12, ratio=2.0)
    table = pk.stage_drivers(stays, covariates="risk")
    assert set(table["stage"].astype(str)) == set(stays.attrs["stages"])
    small = stays[(stays["risk"] != "tinggi") | (stays.index % 40 == 0)]
    masked = pk.stage_drivers(small, stage="asesmen", covariates="risk", min_count=11)
    tinggi = _row(masked, "risk", "tinggi")
    assert pd.isna(tinggi["n"]) and np.isnan(tinggi["hazard_ratio"])
    assert pd.isna(tinggi["sentence"]) and "n" in tinggi["suppressed"]


def test_compare_groups_finds_the_slow_group_and_not_a_null_one() -> None:
    stays = _stays(2000, 13, ratio=2.0)
    table = pk.compare_groups(stays, by="risk", stage="asesmen")
    assert tuple(table.columns) == ("risk", *COMPARE_COLUMNS)
    tinggi = table[table["risk"] == "tinggi"].iloc[0]
    assert tinggi["differs"] and tinggi["median_days"] > 1.6 * tinggi["median_rest_days"]
    overall = table[table["comparison"] == "all"].iloc[0]
    assert pd.isna(overall["risk"]) and overall["degrees_of_freedom"] == 2
    assert overall["n_stays"] == (stays["stage"] == "asesmen").sum()
    vs_rest = table[table["comparison"] == "vs_rest"]
    assert (vs_rest["p_holm"] >= vs_rest["p_value"]).all()
    null = pk.compare_groups(stays, by="shift")
    assert set(null["stage"].astype(str)) == set(stays.attrs["stages"])


def test_compare_groups_rejects_a_null_grouping_at_about_the_nominal_rate() -> None:
    """20 logs x 5 stages = 100 log-rank tests of a grouping with no effect: 1..12 rejections
    (probability 0.99 at a true 5 % rate)."""
    rejections = 0
    for seed in range(20):
        table = pk.compare_groups(_stays(300, 7000 + seed, ratio=1.0), by="shift")
        overall = table[table["comparison"] == "all"]
        assert len(overall) == 5
        rejections += int((overall["p_value"] < 0.05).sum())
    assert 1 <= rejections <= 12, rejections


def test_compare_groups_matches_lifelines_directly() -> None:
    stays = _stays(600, 14, ratio=1.5)
    table = pk.compare_groups(stays, by="risk", stage="asesmen")
    data = stays[stays["stage"] == "asesmen"]
    mine = (data["risk"] == "rendah").to_numpy()
    d, e = data["days"].to_numpy(), data["observed"].to_numpy()
    ref = logrank_test(d[mine], d[~mine], e[mine], e[~mine])
    got = table[table["risk"] == "rendah"].iloc[0]
    assert got["p_value"] == pytest.approx(ref.p_value)


def test_bottlenecks_say_which_group_differs_beyond_chance() -> None:
    """Risk "tinggi" doubles the assessment median (known truth); "shift" has no effect."""
    stays = _stays(2000, 13, ratio=2.0)
    by_risk = pk.bottlenecks(stays, by="risk")
    asesmen = by_risk[by_risk["stage"] == "asesmen"].set_index("risk")
    assert bool(asesmen.at["tinggi", "differs"])
    assert "uji log-rank" in asesmen.at["tinggi", "reason"]
    # the same test as compare_groups (and lifelines) gives
    reference = pk.compare_groups(stays, by="risk", stage="asesmen")
    reference = reference[reference["comparison"] == "vs_rest"].set_index("risk")
    for level in asesmen.index:
        assert asesmen.at[level, "p_holm"] == pytest.approx(reference.at[level, "p_holm"])
    # a grouping with no effect: at most a few of its stage tests reject (Holm-adjusted)
    by_shift = pk.bottlenecks(stays, by="shift")
    assert by_shift["differs"].fillna(False).sum() <= 2
    # without groups there is nothing to compare
    assert "differs" not in pk.bottlenecks(stays).columns


def test_bottleneck_test_results_are_masked_with_small_groups() -> None:
    stays = _stays(400, 21, ratio=2.0)
    table = pk.bottlenecks(stays, by="risk", min_count=200)
    small = table["n_stays"].isna()
    assert small.any()
    assert table.loc[small, "p_holm"].isna().all() and table.loc[small, "differs"].isna().all()
