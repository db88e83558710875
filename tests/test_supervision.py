"""Overdue cases, forgotten-step summaries, skipped analysis and the censoring bias."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.stays.supervision import (
    censoring_bias,
    forgotten_summary,
    overdue_cases,
    skipped_analysis,
)

AS_OF = "2024-03-01"


def _log(rows: list[tuple[str, str, str]], **extra: list[str]) -> pk.EventLog:
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    for name, values in extra.items():
        frame[name] = values
    log = pk.load_events(frame)
    assert log.report.n_rejected == 0
    return log


def test_overdue_cases_lists_open_stays_past_target_most_overdue_first() -> None:
    log = _log(
        [
            ("A", "proses_awal", "2024-02-01"),  # open 29 days in intake: target 7 -> overdue
            ("B", "proses_awal", "2024-02-27"),  # open 3 days: on time
            ("C", "proses_awal", "2023-12-01"),
            ("C", "asesmen", "2024-01-01"),  # open 60 days, target 14 -> overdue
            ("D", "proses_awal", "2024-01-01"),
            ("D", "asesmen", "2024-01-20"),  # intake 19 days but finished: not listed
            ("D", "analisa_masalah", "2024-02-28"),  # open 2 days: on time
        ],
        office=["X", "Y", "X", "X", "Y", "Y", "Y"],
    )
    stays = pk.time_in_stage(log, as_of=AS_OF)
    late = overdue_cases(stays, as_of=AS_OF)
    assert list(late["case_id"]) == ["C", "A"]
    assert list(late["stage"].astype(str)) == ["asesmen", "proses_awal"]
    # 2024-01-01 -> 2024-03-01 is 60 days (2024 is a leap year)
    assert late.loc[0, "days"] == pytest.approx(60.0)
    assert late.loc[0, "days_over"] == pytest.approx(46.0)
    assert late.loc[1, "times_target"] == pytest.approx(29 / 7)
    assert list(late["office"]) == ["X", "X"]


def test_overdue_cases_with_agency_targets() -> None:
    log = _log([("A", "proses_awal", "2024-02-01")])
    stays = pk.time_in_stage(log, as_of=AS_OF)
    assert overdue_cases(stays, as_of=AS_OF, targets={"proses_awal": 30}).empty
    assert len(overdue_cases(stays, as_of=AS_OF, targets={"proses_awal": 28})) == 1


def _steps(office: list[str], reached: list[bool], forgotten: list[bool]) -> pd.DataFrame:
    """A forgotten_steps-shaped table for one item (the termination contract)."""
    n = len(office)
    return pd.DataFrame(
        {
            "case_id": [f"K{i}" for i in range(n)],
            "office": office,
            "worker": ["w"] * n,
            "step": ["termination_contract"] * n,
            "item": ["kontrak_pengakhiran"] * n,
            "label_id": ["Kontrak pengakhiran layanan ditandatangani"] * n,
            "label_en": ["Termination contract signed"] * n,
            "checkpoint": ["closed"] * n,
            "reached": reached,
            "forgotten": forgotten,
        }
    )


def test_forgotten_summary_counts_among_cases_that_reached_the_checkpoint() -> None:
    # 40 cases, 30 closed; 3 closed without the termination contract
    steps = _steps(
        ["X"] * 30 + ["Y"] * 10,
        [True] * 30 + [False] * 10,
        [True] * 3 + [False] * 37,
    )
    row = forgotten_summary(steps).iloc[0]
    assert (row["n_reached"], row["n_forgotten"]) == (30, 3)
    assert row["share"] == pytest.approx(0.1)
    assert row["step_label"] == "Kontrak pengakhiran layanan"
    published = forgotten_summary(steps, by="office", min_count=11).set_index("office")
    assert pd.isna(published.loc["X", "n_forgotten"])  # 3 of 30: hidden with its share
    assert pd.isna(published.loc["X", "share"])
    assert published.loc["Y", "n_reached"] == 0  # zero is not masked
    assert pd.isna(published.loc["Y", "share"])  # no case reached it: no share


def test_forgotten_summary_labels_follow_the_language() -> None:
    steps = _steps(["X"], [True], [True])
    assert forgotten_summary(steps)["step_label"].iloc[0] == "Kontrak pengakhiran layanan"
    pk.set_language("en")
    assert forgotten_summary(steps)["step_label"].iloc[0] == "Termination contract"


def test_forgotten_summary_needs_the_checks_table() -> None:
    with pytest.raises(ValueError, match="forgotten_steps"):
        forgotten_summary(pd.DataFrame({"case_id": ["A"], "skipped_analysis": [True]}))


def test_skipped_analysis_per_episode() -> None:
    log = _log(
        [
            ("A", "proses_awal", "2024-01-01"),
            ("A", "asesmen", "2024-01-02"),
            ("A", "intervensi", "2024-01-03"),  # skipped
            ("B", "proses_awal", "2024-01-01"),
            ("B", "asesmen", "2024-01-02"),
            ("B", "analisa_masalah", "2024-01-03"),
            ("B", "intervensi", "2024-01-04"),  # fine
            ("C", "proses_awal", "2024-01-01"),
            ("C", "analisa_masalah", "2024-01-02"),
            ("C", "intervensi", "2024-01-03"),
            ("C", "ditutup", "2024-01-04"),
            ("C", "dibuka_kembali", "2024-01-10"),
            ("C", "intervensi", "2024-01-11"),  # reopened, straight to intervention: skipped
            ("D", "proses_awal", "2024-01-01"),  # never reached intervention: not listed
            ("E", "proses_awal", "2024-01-01"),
            ("E", "intervensi", "2024-04-01"),  # after as_of: ignored
        ]
    )
    out = skipped_analysis(log, as_of=AS_OF).set_index("case_id")["skipped_analysis"]
    assert out.to_dict() == {"A": True, "B": False, "C": True}


def test_censoring_bias_recovers_truth_where_the_naive_median_is_too_short() -> None:
    # one stage, exponential durations with median 30 days, entries spread over a year,
    # extracted at a date that leaves many stays open
    rng = np.random.default_rng(7)
    n = 3000
    start = pd.Timestamp("2023-01-01", tz="UTC")
    entered = start + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    left = entered + pd.to_timedelta(rng.exponential(30 / np.log(2), n), unit="D")
    as_of = start + pd.Timedelta(days=365)
    rows = []
    for i in range(n):
        rows.append((f"K{i}", "asesmen", entered[i]))
        if left[i] <= as_of:
            rows.append((f"K{i}", "analisa_masalah", left[i]))
    log = pk.load_events(pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"]))
    stays = pk.time_in_stage(log, as_of=as_of)
    row = censoring_bias(stays).set_index("stage").loc["asesmen"]
    assert row["n_open"] > 0.05 * n
    assert row["median_ci_low"] <= 30 <= row["median_ci_high"]
    assert row["median_completed_only"] < row["median_ci_low"]  # the naive figure is biased
    assert row["understatement_days"] > 0


def test_skipped_analysis_does_not_trust_row_order() -> None:
    rows = [
        ("A", "proses_awal", "2024-01-01"),
        ("A", "asesmen", "2024-01-02"),
        ("A", "analisa_masalah", "2024-01-03"),
        ("A", "intervensi", "2024-01-04"),
        ("B", "proses_awal", "2024-01-01"),
        ("B", "asesmen", "2024-01-02"),
        ("B", "intervensi", "2024-01-03"),
        ("C", "analisa_masalah", "2024-01-05"),
        ("C", "intervensi", "2024-01-05"),  # same instant: stage order puts analysis first
        ("D", "intervensi", "2024-01-02"),
        ("D", "ditutup", "2024-01-03"),
        ("D", "dibuka_kembali", "2024-01-03"),  # reopened at the closing's instant
        ("D", "analisa_masalah", "2024-01-03"),
        ("D", "intervensi", "2024-01-04"),
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame["office"] = frame["case_id"].map({"A": "X", "B": "Y", "C": "X", "D": "Y"})
    log = pk.load_events(frame)
    expected = skipped_analysis(log, as_of=AS_OF)
    assert expected.set_index("case_id")["skipped_analysis"].to_dict() == {
        "A": False,
        "B": True,
        "C": False,
        "D": True,
    }
    for seed in range(5):
        shuffled = log.events.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        got = skipped_analysis(shuffled, as_of=AS_OF)
        pd.testing.assert_frame_equal(
            got.sort_values("case_id").reset_index(drop=True)[["case_id", "skipped_analysis"]],
            expected.sort_values("case_id").reset_index(drop=True)[["case_id", "skipped_analysis"]],
        )
        assert got.set_index("case_id")["office"].to_dict() == {
            "A": "X",
            "B": "Y",
            "C": "X",
            "D": "Y",
        }
