"""process_map, case_durations and their plots: by hand, against simulated truth, on a real log."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import FancyArrowPatch
from simlog import HAND, make_events, simulate, simulate_effect
from test_durations import STAGE_MAP

import pekso_toolkit as pk
from pekso_toolkit.stays.process import PROCESS_MAP_COLUMNS, case_table

AS_OF = "2024-03-10"


def _move(table: pd.DataFrame, a: str, b: str) -> pd.Series:
    hit = table[(table["from_stage"] == a) & (table["to_stage"] == b)]
    assert len(hit) == 1, table
    return hit.iloc[0]


def test_hand_log_moves_counts_and_times() -> None:
    table = pk.process_map(make_events(HAND), as_of=AS_OF)
    assert tuple(table.columns) == PROCESS_MAP_COLUMNS
    got = {
        (str(r.from_stage), str(r.to_stage)): (r.kind, r.n_cases, r.n_moves)
        for r in table.itertuples()
    }
    assert got == {
        ("proses_awal", "asesmen"): ("forward", 2, 3),  # A once, B twice
        ("asesmen", "proses_awal"): ("rework", 1, 1),
        ("intervensi", "ditutup"): ("close", 1, 1),
        ("terminasi", "ditutup"): ("close", 1, 1),
        ("ditutup", "dibuka_kembali"): ("reopen", 2, 2),
        ("dibuka_kembali", "intervensi"): ("resume", 1, 1),
    }
    # intake before assessment: A 3 days (from the first intake event), B 1 and 1 day
    fwd = _move(table, "proses_awal", "asesmen")
    assert fwd["median_days"] == pytest.approx(1.0) and fwd["p90_days"] == pytest.approx(3.0)
    # A's assessment (closed after as_of) and B's second one are open: they do not hide the
    # back move, whose time is the 3 days B spent in assessment
    back = _move(table, "asesmen", "proses_awal")
    assert back["median_days"] == pytest.approx(3.0) and back["share_of_exits"] == 1.0
    assert table.attrs["n_open"]["asesmen"] == 2
    # C closed 10 days after entering intervention; closed 19 days, reopened; D closed 63 days
    assert _move(table, "intervensi", "ditutup")["median_days"] == pytest.approx(10.0)
    reopen = _move(table, "ditutup", "dibuka_kembali")
    assert reopen["median_days"] == pytest.approx(19.0) and reopen["p90_days"] == pytest.approx(
        63.0
    )


def test_same_moves_as_transitions() -> None:
    sim = simulate_effect(3000, seed=3, rework=0.2)
    table = pk.process_map(sim.events, as_of=sim.as_of)
    ref = pk.transitions(sim.events, as_of=sim.as_of)
    merged = table.merge(ref, on=["from_stage", "to_stage"], suffixes=("", "_ref"))
    assert len(merged) == len(table) == len(ref)
    assert (merged["n_moves"] == merged["n"]).all()
    assert (merged["n_cases"] == merged["n_cases_ref"]).all()
    assert (merged["kind"] == merged["kind_ref"]).all()


def test_times_without_open_stays_are_the_plain_quantiles() -> None:
    sim = simulate(500, seed=4, span_days=300)
    last = sim.truth["left_at"].max() + pd.Timedelta(days=1)
    table = pk.process_map(sim.events, as_of=last)
    stays = pk.time_in_stage(sim.events, as_of=last)
    assert stays["observed"].all()
    for stage in ("asesmen", "intervensi"):
        days = np.sort(stays.loc[stays["stage"] == stage, "days"].to_numpy())
        row = table[table["from_stage"] == stage].iloc[0]
        # the first time by which half (90 %) of the moves have happened
        assert row["median_days"] == pytest.approx(days[int(np.ceil(0.5 * len(days))) - 1])
        assert row["p90_days"] == pytest.approx(days[int(np.ceil(0.9 * len(days))) - 1])


def test_times_are_censoring_aware() -> None:
    """A short window leaves many long intervention stays open: the map's median stays near the
    true 40 days while the median of finished moves alone falls well short."""
    sim = simulate(20000, seed=5, span_days=120)
    table = pk.process_map(sim.events, as_of=sim.as_of)
    row = _move(table, "intervensi", "terminasi")
    stays = pk.time_in_stage(sim.events, as_of=sim.as_of)
    done = stays[(stays["stage"] == "intervensi") & stays["observed"]]["days"]
    assert done.median() < 34  # the naive figure is biased
    assert abs(row["median_days"] - 40.0) < 2.5, row


def test_min_count_masks_rare_moves() -> None:
    sim = simulate_effect(400, seed=6, rework=0.02)
    table = pk.process_map(sim.events, as_of=sim.as_of, min_count=11)
    back = _move(table, "asesmen", "proses_awal")
    assert pd.isna(back["n_moves"]) and np.isnan(back["median_days"])
    assert "n_moves" in back["suppressed"]
    assert table.attrs["n_open"]  # attrs survive


# ---------------------------------------------------------------------------------- cases
def test_case_durations_by_hand() -> None:
    per_case = case_table(make_events(HAND), as_of="2024-03-12")
    got = per_case.set_index(per_case["case_id"].astype(str))
    # A: 2024-03-01 09:00 to its closure 2024-03-11 21:00
    assert got.loc["A", "observed"] and got.loc["A", "days"] == pytest.approx(10.5)
    assert not got.loc["C", "observed"] and got.loc["C", "reopened"]
    assert not got.loc["D", "observed"] and str(got.loc["D", "last_stage"]) == "dibuka_kembali"
    summary = pk.case_durations(make_events(HAND), as_of="2024-03-12")
    assert summary[["n_cases", "n_open", "n_reopened"]].iloc[0].tolist() == [4, 3, 2]
    assert summary["mean_days_completed"].iloc[0] == pytest.approx(10.5)


def test_case_durations_recover_the_true_median_under_censoring() -> None:
    sim = simulate(20000, seed=8, span_days=250)
    total = sim.truth.groupby("case_id")["days"].sum()
    table = pk.case_durations(sim.events, as_of=sim.as_of)
    row = table.iloc[0]
    assert row["n_open"] > 0.2 * row["n_cases"]
    assert row["median_ci_low"] <= row["median_days"] <= row["median_ci_high"]
    assert abs(row["median_days"] / total.median() - 1) < 0.03
    assert row["mean_days_completed"] < 0.95 * total.mean()  # finished cases only: biased low
    by = pk.case_durations(sim.events, as_of=sim.as_of, by="office", min_count=11)
    assert list(by["office"].astype(str)) == list(sim.events["office"].cat.categories)
    assert by["n_cases"].sum() == row["n_cases"]


# ---------------------------------------------------------------------------------- plots
SEVEN = pk.StageModel.from_dict(
    {
        "name": "tujuh",
        "stages": [
            {"id": "rujukan"},
            {"id": "penerimaan"},
            {"id": "asesmen_awal"},
            {"id": "asesmen_lanjut"},
            {"id": "rencana"},
            {"id": "intervensi"},
            {"id": "terminasi"},
            {"id": "ditutup", "kind": "closed"},
            {"id": "dibuka_kembali", "kind": "reopened"},
        ],
    }
)


def _seven_stage_events(seed: int = 0) -> pd.DataFrame:
    """Cases through seven stages with skips, rework, closures from any stage and reopenings."""
    rng = np.random.default_rng(seed)
    helping = [s.id for s in SEVEN.helping_stages]
    rows = []
    for case in range(400):
        t = pd.Timestamp("2024-01-01", tz="Asia/Jakarta") + pd.Timedelta(days=int(case % 90))
        pos = 0
        rows.append((f"K{case}", helping[0], t))
        while True:
            t += pd.Timedelta(hours=float(rng.exponential(24 * 5)))
            u = rng.random()
            if pos == len(helping) - 1 or u < 0.06:
                rows.append((f"K{case}", "ditutup", t))
                if rng.random() < 0.15:
                    t += pd.Timedelta(days=20)
                    rows.append((f"K{case}", "dibuka_kembali", t))
                    pos = int(rng.integers(1, 4))
                    t += pd.Timedelta(days=1)
                    rows.append((f"K{case}", helping[pos], t))
                    continue
                break
            if u < 0.16 and pos > 0:
                pos -= 1
            elif u < 0.26 and pos < len(helping) - 2:
                pos += 2
            else:
                pos += 1
            rows.append((f"K{case}", helping[pos], t))
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    return frame.assign(timestamp=frame["timestamp"].dt.tz_convert("UTC"))


def _overlaps(texts: list) -> list[tuple[str, str]]:
    fig = texts[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def test_process_map_plot_of_seven_stages_is_readable() -> None:
    events = _seven_stage_events()
    table = pk.process_map(events, model=SEVEN)
    assert set(table["kind"]) == {"forward", "skip", "rework", "close", "reopen", "resume"}
    ax = pk.plot_process_map(events, model=SEVEN, min_cases=15)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == int((table["n_cases"] >= 15).sum())
    texts = [t for t in ax.texts if t.get_text()]
    stage_labels = [t.get_text().replace("_\n", "_").replace("\n", " ") for t in texts]
    for sid in SEVEN.ids:
        assert SEVEN.label(sid) in stage_labels
    # every label lies inside the axes and no two labels overlap
    assert _overlaps(texts) == []
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for t in texts:
        x, y = t.get_position()
        assert x0 < x < x1 and y0 < y < y1


def test_process_map_plot_takes_a_map_a_palette_and_shows_masked_moves() -> None:
    sim = simulate_effect(400, seed=6, rework=0.02)
    table = pk.process_map(sim.events, as_of=sim.as_of, min_count=11)
    ax = pk.plot_process_map(table, palette={"rework": "#ff0000"})
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(table)
    red = [a for a in arrows if np.allclose(a.get_edgecolor(), to_rgba("#ff0000", 0.85))]
    assert len(red) == 1 and red[0].get_linestyle() == ":"  # masked: dotted outline, no label
    assert to_rgba(red[0].get_facecolor())[3] == 0
    labels = " ".join(t.get_text() for t in ax.texts)
    assert "kasus" in labels and "hr" in labels
    pk.set_language("en")
    ax = pk.plot_process_map(table)
    assert "cases" in " ".join(t.get_text() for t in ax.texts)


def test_dotted_chart_draws_every_event_sorted_by_start() -> None:
    sim = simulate_effect(300, seed=9)
    events = sim.events
    ax = pk.plot_dotted_chart(events, sort="start")
    collections = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(np.asarray(c.get_offsets()).shape[0] for c in collections) == len(events)
    assert len(collections) == events["stage"].nunique()
    # the row of each case's first event follows the order of first events
    firsts = []
    for c in collections:
        xy = np.asarray(c.get_offsets())
        firsts.append(pd.DataFrame({"y": xy[:, 1], "x": xy[:, 0]}))
    dots = pd.concat(firsts).groupby("y")["x"].min().sort_index()
    assert dots.is_monotonic_increasing
    thin = pk.plot_dotted_chart(events, max_cases=50, time="relative", ax=plt.subplots()[1])
    assert "50" in thin.get_title()
    with pytest.raises(ValueError, match="sort"):
        pk.plot_dotted_chart(events, sort="random")


# ---------------------------------------------------------------------------------- real log
def test_receipt_log_process_map(shared_data: Path) -> None:
    log = pk.load_events(shared_data / "receipt.xes.gz", stage_map=STAGE_MAP)
    table = pk.process_map(log)
    stays = pk.time_in_stage(log, as_of=log.events["timestamp"].max())
    assert table["n_moves"].sum() == stays["observed"].sum()  # no closures in this log
    assert table.loc[table["kind"] == "rework", "n_moves"].sum() > 0
    assert (table["median_days"] <= table["p90_days"]).all()
    ax = pk.plot_process_map(log, min_cases=5)
    assert ax.texts
    durations = pk.case_durations(log, as_of=log.events["timestamp"].max())
    assert durations["n_cases"].iloc[0] == 1434


def test_process_map_plot_counts_in_words_one_and_many() -> None:
    rows = [(c, "proses_awal", "2024-01-01") for c in "ABC"]
    rows += [(c, "asesmen", "2024-01-05") for c in "ABC"]
    rows += [("A", "analisa_masalah", "2024-01-09")]  # one case: "1 case", one move hidden
    events = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    table = pk.process_map(events, as_of=AS_OF)
    assert sorted(table["n_cases"]) == [1, 3]

    pk.set_language("en")
    ax = pk.plot_process_map(table, min_cases=2)
    assert "\n(1 move with < 2 cases not drawn)" in ax.get_title()
    ax = pk.plot_process_map(table, min_cases=4, ax=plt.subplots()[1])
    assert "\n(2 moves with < 4 cases not drawn)" in ax.get_title()
    texts = pk.plot_process_map(table, ax=plt.subplots()[1]).texts
    lines = [line for t in texts for line in t.get_text().split("\n")]
    assert "1 case" in lines and "3 cases" in lines, lines
    assert "1 cases" not in lines

    pk.set_language("id")  # Bahasa Indonesia does not inflect: "1 perpindahan", "1 kasus"
    ax = pk.plot_process_map(table, min_cases=2, ax=plt.subplots()[1])
    assert "\n(1 perpindahan dengan < 2 kasus tidak digambar)" in ax.get_title()
    plt.close("all")


def test_case_durations_before_every_event_has_no_cases() -> None:
    log = pk.datasets.load_sample_events()
    cases = case_table(log, as_of="2000-01-01")
    assert len(cases) == 0
    assert list(cases.columns) == [
        "case_id",
        "started_at",
        "closed_at",
        "days",
        "observed",
        "reopened",
        "last_stage",
    ]
    table = pk.case_durations(log, as_of="2000-01-01")
    assert table["n_cases"].tolist() == [0]
    assert table["median_days"].isna().all()
    assert len(pk.case_durations(log, as_of="2000-01-01", by="office")) == 0
