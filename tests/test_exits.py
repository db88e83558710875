"""Competing exits of a stage: Aalen–Johansen against known cumulative incidences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from simlog import simulate

from pekso_toolkit.core.i18n import pick, set_language
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.datasets import synthesize
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.exits import (
    EXIT_COLUMNS,
    EXIT_LABELS,
    EXITS,
    exit_codes,
    exit_fits,
    stage_exits,
)
from pekso_toolkit.stays.flow import transitions

MODEL = StageModel.default()
#: cause-specific hazards per day: forward, back, closed
HAZARD = {"forward": 1 / 20, "rework": 1 / 120, "close": 1 / 60}
NEXT = {"forward": "analisa_masalah", "rework": "proses_awal", "close": "ditutup"}


def competing_stays(n: int, seed: int, censor_max: float | None) -> pd.DataFrame:
    """Stays in 'asesmen' ending by exponential competing exits, censored uniformly."""
    rng = np.random.default_rng(seed)
    times = np.column_stack([rng.exponential(1 / h, n) for h in HAZARD.values()])
    first = times.argmin(axis=1)
    t = times.min(axis=1)
    censor = rng.uniform(0, censor_max, n) if censor_max else np.full(n, np.inf)
    observed = t <= censor
    names = np.array(list(HAZARD))[first]
    nxt = pd.array([NEXT[x] if o else None for x, o in zip(names, observed)], dtype="string")
    return pd.DataFrame(
        {
            "case_id": pd.array([f"K{i}" for i in range(n)], dtype="string"),
            "stage": pd.Categorical(["asesmen"] * n, dtype=MODEL.dtype),
            "next_stage": pd.Categorical(nxt, dtype=MODEL.dtype),
            "days": np.minimum(t, censor),
            "observed": observed,
        }
    )


def true_incidence(exit_name: str, day: float) -> float:
    total = sum(HAZARD.values())
    return HAZARD[exit_name] / total * (1 - np.exp(-total * day))


def test_incidences_match_the_simulated_truth_with_censoring() -> None:
    stays = competing_stays(4000, seed=1, censor_max=80)
    assert 0.15 < (~stays["observed"]).mean() < 0.5  # a real share is censored
    table = stage_exits(stays, at=(7, 14, 30, 60), alpha=0.01)
    table = table[table["stage"] == "asesmen"]
    assert len(table) == 3 * 4
    for row in table.itertuples():
        truth = true_incidence(row.exit, row.day)
        assert row.ci_low <= truth <= row.ci_high, (row.exit, row.day, truth, row.cum_incidence)
        assert row.cum_incidence == pytest.approx(truth, abs=0.03)


def test_without_censoring_the_incidence_is_the_plain_share() -> None:
    stays = competing_stays(1500, seed=2, censor_max=None)
    table = stage_exits(stays, at=(3.3, 11.7, 40.2), resolution=None)
    code = exit_codes(stays)
    days = stays["days"].to_numpy()
    for row in table.itertuples():
        share = np.mean((code == EXITS.index(row.exit) + 1) & (days <= row.day))
        assert row.cum_incidence == pytest.approx(share, abs=1e-9)


def test_one_kaplan_meier_per_exit_overstates_what_aalen_johansen_gets_right() -> None:
    stays = competing_stays(3000, seed=3, censor_max=60)
    code = exit_codes(stays)
    day = 30.0
    naive = 0.0
    for i, _ in enumerate(EXITS, start=1):
        kmf = KaplanMeierFitter().fit(stays["days"], event_observed=code == i)
        naive += 1 - float(kmf.survival_function_at_times(day).iloc[0])
    table = stage_exits(stays, at=(day,))
    aj = table["cum_incidence"].sum()
    all_exits = KaplanMeierFitter().fit(stays["days"], event_observed=code > 0)
    left = 1 - float(all_exits.survival_function_at_times(day).iloc[0])
    assert aj == pytest.approx(left, abs=0.01)  # incidences add up to the share that left
    assert naive > aj + 0.02  # treating other exits as censoring over-states them
    assert sum(true_incidence(e, day) for e in EXITS) == pytest.approx(aj, abs=0.03)


def test_exits_of_stays_from_an_event_log_by_group() -> None:
    sim = simulate(800, seed=8, span_days=300)
    stays = time_in_stage(sim.events, as_of=sim.as_of)
    table = stage_exits(stays, by="office", at=(30, 90))
    assert list(table.columns) == ["office", *EXIT_COLUMNS]
    assert set(table["exit"]) <= set(EXITS)
    assert table["cum_incidence"].between(0, 1).all()
    total = table.groupby(["office", "stage", "day"], observed=True)["cum_incidence"].sum()
    assert (total <= 1 + 1e-9).all()
    # n_exits agree with the stays' next stages
    inter = stays[stays["stage"] == "intervensi"]
    closed = int((inter["next_stage"] == "ditutup").sum())
    pick = (table["stage"] == "intervensi") & (table["exit"] == "close") & (table["day"] == 30)
    got = table[pick]
    assert int(got["n_exits"].sum()) == closed
    # the incidence only grows with the day
    wide = table.pivot_table(
        index=["office", "stage", "exit"], columns="day", values="cum_incidence", observed=True
    )
    assert (wide[90.0] >= wide[30.0] - 1e-12).all()


def test_the_global_random_state_is_left_alone() -> None:
    stays = competing_stays(300, seed=4, censor_max=40)
    stays["days"] = stays["days"].round()  # many tied times (lifelines would jitter them)
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    first = stage_exits(stays, at=(10,))
    assert (np.random.random(3) == expected).all()
    pd.testing.assert_frame_equal(first, stage_exits(stays, at=(10,)))  # reproducible


def test_small_cells_are_suppressed() -> None:
    stays = competing_stays(60, seed=5, censor_max=80)
    table = stage_exits(stays, at=(30,), min_count=11)
    back = table[table["exit"] == "rework"].iloc[0]
    assert 0 < int(stays.pipe(exit_codes).tolist().count(2)) < 11
    assert pd.isna(back["n_exits"]) and np.isnan(back["cum_incidence"])
    assert (table["suppressed"].fillna("") != "").any()


def test_fits_for_plotting_and_bad_input() -> None:
    stays = competing_stays(500, seed=6, censor_max=80)
    fits = exit_fits(stays, stage="asesmen")
    assert list(fits) == list(EXITS)
    assert all(f.cumulative_density_.iloc[:, 0].is_monotonic_increasing for f in fits.values())
    with pytest.raises(KeyError, match="not a helping stage"):
        exit_fits(stays, stage="ditutup")
    with pytest.raises(ValueError, match="at:"):
        stage_exits(stays, at=(-1,))
    with pytest.raises(KeyError, match="next_stage"):
        stage_exits(stays.drop(columns="next_stage"))
    with pytest.raises(KeyError, match="office"):
        stage_exits(stays, by="office")


def test_stays_of_zero_days_end_in_the_first_hour() -> None:
    # same-time events (date-only exports) make stays of 0 days: they must count, not vanish
    n = 50
    stays = pd.DataFrame(
        {
            "stage": pd.Categorical(["asesmen"] * n, dtype=MODEL.dtype),
            "next_stage": pd.Categorical(["analisa_masalah", "ditutup"] * 25, dtype=MODEL.dtype),
            "days": np.r_[np.zeros(20), np.full(30, 3.0)],
            "observed": True,
        }
    )
    table = stage_exits(stays, at=(1 / 24, 1, 5)).set_index(["exit", "day"])["cum_incidence"]
    for name in ("forward", "close"):
        assert table[(name, 1 / 24)] == pytest.approx(0.2)
        assert table[(name, 1.0)] == pytest.approx(0.2)
        assert table[(name, 5.0)] == pytest.approx(0.5)
    assert table[("rework", 5.0)] == 0.0


def test_exit_codes_are_the_kinds_of_transitions() -> None:
    # one vocabulary: an exit is named like the move that ends the stay in pk.transitions
    log = synthesize(400, seed=3, as_of="2025-06-30")  # casework with rework and closures
    stays = time_in_stage(log, as_of="2025-06-30")
    moves = transitions(log, as_of="2025-06-30")
    assert EXITS == ("forward", "rework", "close")
    assert set(EXITS) <= set(moves["kind"])
    table = stage_exits(stays, at=(30,))
    kinds = {"forward": ("forward", "skip"), "rework": ("rework",), "close": ("close",)}
    checked = 0
    for row in table.itertuples():
        left = moves[(moves["from_stage"] == row.stage) & moves["kind"].isin(kinds[row.exit])]
        assert row.n_exits == int(left["n"].sum()), (row.stage, row.exit)
        checked += row.n_exits > 0
    assert checked >= 6  # several stages end in several ways


def test_exit_labels_are_separate_fields_in_each_language() -> None:
    stays = competing_stays(300, seed=7, censor_max=80)
    table = stage_exits(stays, at=(30,))
    assert "exit_label" not in table.columns
    for row in table.itertuples():
        assert (row.exit_label_id, row.exit_label_en) == EXIT_LABELS[row.exit]
        assert " / " not in row.exit_label_id and " / " not in row.exit_label_en
    assert table["exit_label_id"].dtype == "string" and table["exit_label_en"].dtype == "string"
    assert EXIT_LABELS["close"] == ("kasus ditutup", "case closed")
    set_language("en")
    try:
        assert pick(*EXIT_LABELS["rework"]) == "moved back (rework)"
    finally:
        set_language("id")
