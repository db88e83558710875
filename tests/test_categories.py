"""Category summaries, contract scope coverage and category roll-ups on stays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.categories.analysis import (
    ScopeCoverage,
    category_summary,
    join_categories,
    scope_coverage,
)
from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import PeksoError, TaxonomyError


@pytest.fixture(scope="module")
def ppks() -> Taxonomy:
    return Taxonomy.ppks()


@pytest.fixture
def problems() -> pd.DataFrame:
    """Three cases; the answers below are worked out by hand."""
    return pd.DataFrame(
        {
            "case_id": pd.array(["K1", "K1", "K1", "K1", "K2", "K2", "K3"], dtype="string"),
            "problem_id": pd.array(["P1", "P2", "P3", "P4", "P1", "P2", "P1"], dtype="string"),
            "category": pd.array(["AT", "FM", "AKTK", pd.NA, "KTK", "KTK", "FM"], dtype="string"),
            "scope": pd.array(["in", "in", "out", pd.NA, "out", "out", "in"], dtype="string"),
            "referred_to": pd.array(
                [pd.NA, pd.NA, "UPTD PPA", pd.NA, "LBH", pd.NA, pd.NA], dtype="string"
            ),
            "n_amendments": [2, 2, 2, 2, 0, 0, 1],
        }
    )


# --------------------------------------------------------------------- category_summary
def test_category_summary_level1_known_counts(ppks: Taxonomy, problems: pd.DataFrame) -> None:
    out = category_summary(problems, taxonomy=ppks, level=1)
    assert list(out.columns) == [
        "code",
        "label",
        "level",
        "n_cases",
        "n_problems",
        "share_problems",
        "share_cases",
    ]
    rows = out.set_index(out["code"].fillna("NA"))
    # anak: AT + AKTK, both in K1; kemiskinan: FM in K1 and K3; korban: KTK twice in K2
    assert rows.loc["anak", ["n_cases", "n_problems"]].tolist() == [1, 2]
    assert rows.loc["kemiskinan", ["n_cases", "n_problems"]].tolist() == [2, 2]
    assert rows.loc["korban", ["n_cases", "n_problems"]].tolist() == [1, 2]
    assert rows.loc["NA", ["n_cases", "n_problems"]].tolist() == [1, 1]
    assert rows.loc["NA", "label"] == "Belum dikategorikan"
    assert rows.loc["lansia", "n_problems"] == 0  # every cluster listed
    assert len(out) == 8 + 1 and out["level"].eq(1).all()
    assert out["n_problems"].sum() == len(problems)
    assert out["share_problems"].sum() == pytest.approx(1.0)
    assert rows.loc["kemiskinan", "share_cases"] == pytest.approx(2 / 3)


def test_category_summary_level2_matches_groupby(ppks: Taxonomy, problems: pd.DataFrame) -> None:
    out = category_summary(problems, taxonomy=ppks, level=2, include_empty=False, lang="en")
    expected = problems.dropna(subset=["category"]).groupby("category")
    got = out.dropna(subset=["code"]).set_index("code")
    assert got["n_problems"].to_dict() == expected.size().to_dict()
    assert got["n_cases"].to_dict() == expected["case_id"].nunique().to_dict()
    assert list(got.index) == ["AT", "AKTK", "KTK", "FM"]  # taxonomy order
    assert got.loc["FM", "label"] == "Destitute or poor person or family"


def test_category_summary_one_row_per_case_and_pp39(ppks: Taxonomy) -> None:
    rng = np.random.default_rng(11)
    cases = pd.DataFrame(
        {"case_id": [f"C{i}" for i in range(200)], "category": rng.choice(ppks.leaves, 200)}
    )
    out = category_summary(cases, taxonomy=ppks, level=1, hierarchy="pp39")
    assert (out["n_cases"] == out["n_problems"]).all() and out["n_cases"].sum() == 200
    assert out["share_cases"].sum() == pytest.approx(1.0)
    expected = pd.Series(
        ppks.rollup(list(cases["category"]), level=1, hierarchy="pp39")
    ).value_counts()
    assert out.set_index("code")["n_cases"][expected.index].tolist() == expected.tolist()
    no_ids = category_summary(cases[["category"]], taxonomy=ppks, level=2)
    assert no_ids["n_cases"].sum() == 200  # without case ids every row is a case


def test_category_summary_errors(ppks: Taxonomy, problems: pd.DataFrame) -> None:
    with pytest.raises(TaxonomyError, match="'ZZ'"):
        category_summary(problems.assign(category="ZZ"), taxonomy=ppks, level=1)
    with pytest.raises(TaxonomyError, match="kategori|category"):
        category_summary(problems.drop(columns="category"), taxonomy=ppks, level=1)
    with pytest.raises(TaxonomyError, match="level 3"):
        category_summary(problems, taxonomy=ppks, level=3)
    empty = category_summary(problems.iloc[:0], taxonomy=ppks, level=1)
    assert empty["n_problems"].sum() == 0 and empty["share_problems"].isna().all()


# --------------------------------------------------------------------- scope_coverage
def test_scope_coverage_known_answers(problems: pd.DataFrame) -> None:
    result = scope_coverage(problems)
    assert isinstance(result, ScopeCoverage)
    per = result.per_case.set_index("case_id")
    assert list(result.per_case.columns) == [
        "case_id",
        "n_problems",
        "n_in_scope",
        "n_out_of_scope",
        "n_undecided",
        "n_referred",
        "coverage",
        "n_amendments",
    ]
    assert per.loc["K1"].tolist() == [4, 2, 1, 1, 1, 0.5, 2]
    assert per.loc["K2"].tolist() == [2, 0, 2, 0, 1, 0.0, 0]
    assert per.loc["K3"].tolist() == [1, 1, 0, 0, 0, 1.0, 1]
    assert result.overall == {
        "n_cases": 3,
        "n_problems": 7,
        "n_in_scope": 3,
        "n_out_of_scope": 3,
        "n_undecided": 1,
        "n_referred": 2,
        "coverage": pytest.approx(3 / 7),
        "mean_case_coverage": pytest.approx(0.5),
        "n_amendments": 3,
        "n_cases_amended": 2,
    }
    assert "K1" in result._repr_html_() and "ScopeCoverage(n_cases=3" in repr(result)


def test_scope_coverage_amendments_and_optional_columns(problems: pd.DataFrame) -> None:
    cases = pd.DataFrame({"case_id": ["K1", "K2", "K3"], "n_amendments": [5, 1, 0]})
    result = scope_coverage(problems, amendments=cases)
    assert result.per_case["n_amendments"].tolist() == [5, 1, 0]
    assert result.overall["n_cases_amended"] == 2
    by_series = scope_coverage(problems, amendments=pd.Series({"K1": 1}))
    assert by_series.per_case["n_amendments"].tolist() == [1, 0, 0]
    bare = scope_coverage(problems[["case_id", "scope"]].assign(scope=lambda f: f["scope"]))
    assert bare.overall["n_referred"] == 0 and bare.overall["n_amendments"] == 0
    messy = problems.assign(scope=[" IN", "in", "Out", None, "out", "out", "in"])
    assert scope_coverage(messy).overall["n_in_scope"] == 3


def test_scope_coverage_rejects_unknown_scope(problems: pd.DataFrame) -> None:
    bad = problems.assign(scope=["in", "in", "maybe", pd.NA, "out", "out", "in"])
    with pytest.raises(PeksoError, match="row 2.*'maybe'"):
        scope_coverage(bad)
    with pytest.raises(PeksoError, match="scope"):
        scope_coverage(problems.drop(columns="scope"))


def test_scope_coverage_agrees_with_row_counts_on_random_data() -> None:
    rng = np.random.default_rng(5)
    n = 500
    frame = pd.DataFrame(
        {
            "case_id": rng.choice([f"C{i}" for i in range(60)], n),
            "scope": rng.choice(np.array(["in", "out", None], dtype=object), n),
            "referred_to": rng.choice(np.array([None, "RS", "LBH"], dtype=object), n),
            "n_amendments": 0,
        }
    )
    result = scope_coverage(frame)
    assert result.overall["n_problems"] == n
    assert result.overall["n_in_scope"] == (frame["scope"] == "in").sum()
    assert result.overall["n_referred"] == frame["referred_to"].notna().sum()
    per = result.per_case
    assert (per["n_in_scope"] + per["n_out_of_scope"] + per["n_undecided"]).equals(
        per["n_problems"]
    )


# --------------------------------------------------------------------- join_categories
def test_join_categories_from_problem_rows(ppks: Taxonomy, problems: pd.DataFrame) -> None:
    stays = pd.DataFrame(
        {"case_id": ["K1", "K2", "K2", "K3", "K9"], "stage": ["asesmen"] * 5},
        index=[5, 6, 7, 8, 9],
    )
    out = join_categories(stays, cases=problems, taxonomy=ppks)
    assert list(out.index) == [5, 6, 7, 8, 9] and list(stays.columns) == ["case_id", "stage"]
    # K1: first in-scope problem with a category is AT; K2 has none in scope: first is KTK
    assert out["category"].tolist()[:4] == ["AT", "KTK", "KTK", "FM"] and pd.isna(
        out["category"].iloc[4]
    )
    assert out["category_l1"].tolist()[:4] == ["anak", "korban", "korban", "kemiskinan"]
    assert out["category_l2"].dtype == "string" and pd.isna(out["category_l1"].iloc[4])
    first = join_categories(stays, cases=problems.iloc[::-1], taxonomy=ppks, multiple="first")
    assert first["category"].iloc[0] == "AKTK"  # reversed rows: first categorised row of K1
    with pytest.raises(TaxonomyError, match="'K1' has 3 categories"):
        join_categories(stays, cases=problems, taxonomy=ppks, multiple="error")


def test_join_categories_existing_column_and_pp39(ppks: Taxonomy) -> None:
    stays = pd.DataFrame({"case_id": ["a", "b", "c"], "category": ["AT", None, "KAT"]})
    out = join_categories(stays, taxonomy=ppks, levels=(1,))
    assert out["category_l1"].tolist()[0] == "anak" and pd.isna(out["category_l1"].iloc[1])
    assert "category_l2" not in out.columns
    pp39 = join_categories(stays, taxonomy=ppks, levels=(1, 2), hierarchy="pp39")
    assert pp39["category_pp39_l1"].tolist()[2] == "keterpencilan"
    assert pp39["category_pp39_l2"].tolist()[2] == "KAT"
    with pytest.raises(TaxonomyError, match="pass cases"):
        join_categories(stays.drop(columns="category"), taxonomy=ppks)
    with pytest.raises(TaxonomyError, match="'XX'"):
        join_categories(stays.assign(category=["XX", "AT", "AT"]), taxonomy=ppks)


def test_join_categories_feeds_stage_summary(ppks: Taxonomy) -> None:
    from pekso_toolkit.datasets import synthesize
    from pekso_toolkit.stays.durations import time_in_stage
    from pekso_toolkit.stays.summary import stage_summary

    log = synthesize(40, seed=3, as_of="2024-06-30")
    stays = time_in_stage(log, as_of="2024-06-30")
    joined = join_categories(stays, taxonomy=ppks)
    summary = stage_summary(joined, by="category_l1")
    per_cluster = summary.groupby("category_l1")["n_stays"].sum()
    assert per_cluster.to_dict() == joined.groupby("category_l1").size().to_dict()
