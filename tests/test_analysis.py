"""stage_summary, bottlenecks, wip and transitions against known truths and hand counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, qth_survival_times
from simlog import DISTRIBUTIONS, HAND, make_events, simulate

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.flow import transitions, wip
from pekso_toolkit.stays.summary import (
    SUMMARY_COLUMNS,
    bottlenecks,
    stage_summary,
    survival_fits,
)

MODEL = StageModel.default()
STAGES = [s.id for s in MODEL.helping_stages]


@pytest.fixture(scope="module")
def censored() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A log cut 150 days after its first cases started: a third of interventions still open."""
    sim = simulate(3000, seed=0, span_days=150)
    stays = time_in_stage(sim.events, as_of=sim.as_of)
    return stays, stage_summary(stays)


def true_median(stage: object) -> float:
    return DISTRIBUTIONS[str(stage)][1]


def test_kaplan_meier_medians_cover_the_true_medians(censored) -> None:
    stays, summary = censored
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary.stage.astype(str).tolist() == STAGES
    assert (summary.n_open / summary.n_stays).max() > 0.3  # heavy censoring
    for row in summary.itertuples():
        assert row.median_ci_low <= true_median(row.stage) <= row.median_ci_high, row.stage
        assert row.median_ci_low < row.median_days < row.median_ci_high


def test_confidence_intervals_cover_about_95_percent() -> None:
    covered = total = 0
    for seed in range(1, 7):
        sim = simulate(1500, seed=seed, span_days=150)
        summary = stage_summary(time_in_stage(sim.events, as_of=sim.as_of, carry=[]))
        truth = summary.stage.map(true_median).astype(float)
        covered += int(((summary.median_ci_low <= truth) & (truth <= summary.median_ci_high)).sum())
        total += len(summary)
    # 30 intervals at 95 %: fewer than 25 covering has probability < 0.5 %
    assert covered >= 25, f"{covered} of {total}"


def test_completed_only_median_is_biased_low_on_the_same_data(censored) -> None:
    stays, summary = censored
    naive = stays[stays.observed].groupby("stage", observed=True)["days"].median()
    summary = summary.set_index(summary.stage.astype(str))
    for stage in ("asesmen", "intervensi", "terminasi"):  # stages with many open stays
        truth = true_median(stage)
        assert naive[stage] < truth
        assert naive[stage] < summary.loc[stage, "median_ci_low"], stage
        assert abs(summary.loc[stage, "median_days"] - truth) < truth - naive[stage]
    # the mean of finished stays is reported under its own name and is biased low as well
    inter = summary.loc["intervensi"]
    assert inter.mean_days_completed < np.exp(np.log(40) + 0.5**2 / 2)  # true lognormal mean


def test_figures_equal_a_direct_lifelines_fit(censored) -> None:
    stays, _ = censored
    exact = stage_summary(stays, resolution=None, alpha=0.1)
    for row in exact.itertuples():
        mine = stays[stays.stage == row.stage]
        kmf = KaplanMeierFitter(alpha=0.1).fit(mine.days, mine.observed)
        ci = median_survival_times(kmf.confidence_interval_)
        p75, p90 = qth_survival_times([0.25, 0.10], kmf.survival_function_).iloc[:, 0]
        assert row.median_days == pytest.approx(kmf.median_survival_time_)
        assert row.median_ci_low == pytest.approx(ci.iloc[0, 0])
        assert row.median_ci_high == pytest.approx(ci.iloc[0, 1])
        assert row.p75_days == pytest.approx(p75)
        assert row.p90_days == pytest.approx(p90)
        assert row.n_stays == len(mine) and row.n_open == int((~mine.observed).sum())
        assert row.mean_days_completed == pytest.approx(mine.days[mine.observed].mean())
    # the default one-minute resolution moves figures by at most half a minute
    rounded = stage_summary(stays, alpha=0.1)
    for col in ("median_days", "median_ci_low", "median_ci_high", "p75_days", "p90_days"):
        np.testing.assert_allclose(rounded[col], exact[col], atol=0.5 / 1440 + 1e-9)


def test_shares_targets_and_overdue_by_hand() -> None:
    stays = time_in_stage(make_events(HAND), as_of="2024-03-10")
    summary = stage_summary(stays, targets={"proses_awal": 2, "asesmen": 4, "intervensi": 8})
    s = summary.set_index(summary.stage.astype(str))
    # days: proses_awal 3 + 1 + 1 = 5; asesmen 5.625 + 3 + 4 = 12.625; intervensi 10 + 7 = 17;
    # terminasi 4; total 38.625
    assert s.loc["asesmen", "share_of_time"] == pytest.approx(12.625 / 38.625)
    assert summary.share_of_time.sum() == pytest.approx(1.0)
    assert s.loc["proses_awal", "overdue_share"] == pytest.approx(1 / 3)  # 3 > 2
    assert s.loc["asesmen", "overdue_share"] == pytest.approx(1 / 3)  # 5.625 (open) > 4
    assert s.loc["intervensi", "overdue_share"] == pytest.approx(1 / 2)  # 10 > 8; 7 is not
    assert np.isnan(s.loc["terminasi", "overdue_share"])  # no target given
    assert s.loc["asesmen", "mean_days_completed"] == pytest.approx(3.0)  # the finished one
    assert s.loc["analisa_masalah", "n_stays"] == 0
    assert np.isnan(s.loc["analisa_masalah", "median_days"])
    # model targets by default
    default = stage_summary(stays).set_index("stage")
    assert default.loc["intervensi", "target_days"] == MODEL.targets["intervensi"]


def test_targets_in_another_unit_are_flagged() -> None:
    stays = time_in_stage(make_events(HAND), as_of="2024-03-10", days="working")
    with pytest.warns(UserWarning, match="calendar days but the stays are in working days"):
        stage_summary(stays)
    stage_summary(stays, targets={"asesmen": 10})  # explicit targets: no warning


def test_quantiles_that_are_not_reached_are_missing_not_made_up() -> None:
    rows = [(f"c{i}", "asesmen", "2024-01-01") for i in range(6)]
    rows += [("c0", "analisa_masalah", "2024-01-03"), ("c1", "analisa_masalah", "2024-01-05")]
    stays = time_in_stage(make_events(rows), as_of="2024-02-01")
    s = stage_summary(stays).set_index("stage")
    # asesmen: 2 of 6 finished (2 and 4 days), 4 open at 31 days -> S never below 0.5
    assert s.loc["asesmen", "n_open"] == 4
    assert np.isnan(s.loc["asesmen", "median_days"])
    assert np.isnan(s.loc["asesmen", "p90_days"])
    assert np.isnan(s.loc["asesmen", "median_ci_high"])
    # analisa_masalah: all open -> nothing known
    assert np.isnan(s.loc["analisa_masalah", "median_days"])


def test_groups_and_suppression(censored) -> None:
    stays, _ = censored
    by_office = stage_summary(stays, by="office")
    assert list(by_office.columns[:2]) == ["office", "stage"]
    assert len(by_office) == stays.office.nunique() * len(STAGES)
    totals = by_office.groupby("stage", observed=True).n_stays.sum()
    assert (totals.to_numpy() == stage_summary(stays).n_stays.to_numpy()).all()
    assert np.allclose(by_office.groupby("office", observed=True).share_of_time.sum(), 1.0)
    two = stage_summary(stays, by=["office", "category"])
    assert len(two) == len(stays[["office", "category"]].drop_duplicates()) * len(STAGES)
    # suppression: small n_open masked with complements, medians masked only with n_stays
    small = stage_summary(stays, by="office", min_count=200)
    masked = small.n_open.isna()
    assert (by_office.n_open[by_office.n_open < 200] > 0).all()
    assert masked[by_office.n_open < 200].all()
    assert small.n_stays.notna().all() and small.median_days.notna().all()
    assert small.suppressed.str.contains("n_open").sum() == masked.sum()


def test_survival_fits_follow_the_stage_order(censored) -> None:
    stays, summary = censored
    fits = survival_fits(stays)
    assert list(fits) == STAGES
    assert fits["intervensi"].median_survival_time_ == pytest.approx(
        summary.set_index("stage").loc["intervensi", "median_days"]
    )
    per_office = survival_fits(stays, by="office", stage="intervensi")
    assert set(per_office) == set(stays.office.astype(str))
    n = sum(int(f.event_table.at_risk.iloc[0]) for f in per_office.values())
    assert n == int((stays.stage == "intervensi").sum())
    with pytest.raises(ValueError, match="stage="):
        survival_fits(stays, by="office")


def test_bottlenecks_rank_the_stage_that_holds_cases_up() -> None:
    rows = []
    for i in range(12):  # intake quick; assessment slow and far past its 14-day target
        rows += [(f"k{i}", "proses_awal", "2024-01-01"), (f"k{i}", "asesmen", "2024-01-03")]
        if i < 8:
            rows.append((f"k{i}", "analisa_masalah", "2024-03-01"))
    stays = time_in_stage(make_events(rows), as_of="2024-04-01")
    table = bottlenecks(stays, as_of="2024-04-01")
    top = table.iloc[0]
    assert top.stage == "asesmen" and top["rank"] == 1
    assert top.n_waiting_now == 4 and top.overdue_now == 4
    assert top.median_days == pytest.approx(58.0)  # 8 of 12 finished at 58 days
    assert top.ratio_to_target == pytest.approx(58 / 14)
    # days past target: assessment 8 x (58 - 14) + 4 x (89 - 14) = 652;
    # analysis 8 open x (31 - 7) = 192
    assert top.days_past_target == pytest.approx(652)
    assert top.score == pytest.approx(652 / 844)
    assert top.reason == (
        "median 58 hari, 4,1× target; 4 kasus menunggu sekarang (4 lewat target); "
        "77% dari hari lewat target / median 58 days, 4.1× target; 4 cases waiting now "
        "(4 past target); 77% of days past target"
    )
    second = table.iloc[1]
    assert second.stage == "analisa_masalah" and second.overdue_now == 8
    assert second.score == pytest.approx(192 / 844)
    assert np.isnan(second.median_days)  # all still open: not known yet
    assert second.reason.startswith("median belum tercapai")
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert table.score.sum() == pytest.approx(1.0)
    assert table.iloc[-1].reason.startswith("belum ada kasus")  # terminasi: no stays
    with pytest.raises(ValueError, match="as of"):
        bottlenecks(stays, as_of="2024-05-01")


def test_bottlenecks_within_groups(censored) -> None:
    stays, _ = censored
    table = bottlenecks(stays, as_of=stays.attrs["as_of"], by="office")
    assert (table.groupby("office", observed=True)["rank"].min() == 1).all()
    assert np.allclose(table.groupby("office", observed=True).score.sum(), 1.0)
    ordered = table.groupby("office", observed=True).score.apply(
        lambda s: bool((np.diff(s.to_numpy()) <= 0).all())
    )
    assert ordered.all()


def test_wip_counts_by_hand() -> None:
    stays = time_in_stage(make_events(HAND), as_of="2024-03-10")
    table = wip(stays, as_of="2024-03-10", freq="W")
    assert list(table.columns) == ["period_end", "stage", "n_cases", "arrivals", "exits"]
    at = table.set_index([table.period_end.dt.strftime("%Y-%m-%d"), table.stage.astype(str)])
    # end of Sunday 3 March: A in intake (since 1 Mar), B in assessment (since 2 Mar)
    assert at.loc[("2024-03-03", "proses_awal"), "n_cases"] == 1
    assert at.loc[("2024-03-03", "asesmen"), "n_cases"] == 1
    assert at.loc[("2024-03-03", "intervensi"), "n_cases"] == 1  # C since 3 March, reopened
    # as_of (Sunday 10 March 00:00): A and B in assessment; C in intervention
    assert at.loc[("2024-03-10", "asesmen"), "n_cases"] == 2
    assert at.loc[("2024-03-10", "proses_awal"), "n_cases"] == 0
    assert at.loc[("2024-03-10", "proses_awal"), "arrivals"] == 1  # B back on 5 March
    assert at.loc[("2024-03-10", "proses_awal"), "exits"] == 2  # A on 4 March, B on 6 March
    # stock-flow identity over the whole history
    last = table.groupby("stage", observed=True).last()
    flows = table.groupby("stage", observed=True)[["arrivals", "exits"]].sum()
    assert (last.n_cases == flows.arrivals - flows.exits).all()
    same = wip(make_events(HAND), as_of="2024-03-10", freq="W")
    pd.testing.assert_frame_equal(table, same)


def test_wip_counts_events_at_as_of_itself() -> None:
    # A closes exactly at as_of: its assessment exit belongs to the last day
    stays = time_in_stage(make_events(HAND), as_of="2024-03-11 21:00")
    table = wip(stays, as_of="2024-03-11 21:00", freq="D")
    last = table[table.period_end == table.period_end.max()].set_index("stage")
    assert str(table.period_end.max().date()) == "2024-03-11"
    assert last.loc["asesmen", "exits"] == 1
    assert last.loc["asesmen", "n_cases"] == 1  # B only


def test_an_agency_model_with_other_stages() -> None:
    model = StageModel.from_dict(
        {
            "name": "agency",
            "stages": [
                {"id": "terima", "target_days": 3},
                {"id": "layani", "target_days": 10},
                {"id": "selesai", "kind": "closed"},
            ],
        }
    )
    events = pd.DataFrame(
        {
            "case_id": ["a", "a", "a", "b", "b"],
            "stage": ["terima", "layani", "selesai", "terima", "layani"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-05", "2024-01-20", "2024-01-02", "2024-01-03"]
            ),
        }
    )
    stays = time_in_stage(events, as_of="2024-01-31", model=model)
    assert stays.stage.astype(str).tolist() == ["terima", "layani", "terima", "layani"]
    summary = stage_summary(stays)
    assert summary.stage.astype(str).tolist() == ["terima", "layani"]
    assert summary.target_days.tolist() == [3.0, 10.0]
    assert summary.overdue_share.tolist() == [0.5, 1.0]  # a: 4 > 3, b: 1; 15 and 28 > 10
    kinds = transitions(events, model=model).kind.tolist()
    assert kinds == ["forward", "close"]


def test_transitions_kinds_and_counts() -> None:
    rows = HAND + [
        ("S", "proses_awal", "2024-01-01"),
        ("S", "analisa_masalah", "2024-01-02"),  # skips the assessment
        ("S", "ditutup", "2024-01-03"),
    ]
    table = transitions(make_events(rows))
    got = {
        (str(r.from_stage), str(r.to_stage)): (r.kind, r.n, r.n_cases) for r in table.itertuples()
    }
    assert got[("proses_awal", "asesmen")] == ("forward", 3, 2)  # A once, B twice
    assert got[("asesmen", "proses_awal")] == ("rework", 1, 1)
    assert got[("asesmen", "ditutup")] == ("close", 1, 1)
    assert got[("intervensi", "ditutup")] == ("close", 1, 1)
    assert got[("ditutup", "dibuka_kembali")] == ("reopen", 2, 2)
    assert got[("dibuka_kembali", "intervensi")] == ("resume", 1, 1)
    assert got[("proses_awal", "analisa_masalah")] == ("skip", 1, 1)
    assert got[("analisa_masalah", "ditutup")] == ("close", 1, 1)
    assert table.n.sum() == 12  # A 2, B 3, C 3, D 2, S 2
    # as_of drops later events: A's closure and D's reopening are not known on 5 March
    early = transitions(make_events(rows), as_of="2024-03-05")
    pairs = {(str(a), str(b)) for a, b in zip(early.from_stage, early.to_stage)}
    assert ("asesmen", "ditutup") not in pairs
    assert ("asesmen", "proses_awal") in pairs


def test_same_day_transitions_never_go_backward() -> None:
    sim = simulate(400, seed=9, span_days=120, date_only=True)
    shuffled = sim.events.sample(frac=1.0, random_state=3)
    table = transitions(shuffled, as_of=sim.as_of)
    assert set(table.kind) <= {"forward", "close"}
