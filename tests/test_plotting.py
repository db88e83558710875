"""Each plot returns its Axes and draws what it says (Agg backend; figures closed by conftest)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from simlog import simulate

from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.plotting import (
    plot_bottlenecks,
    plot_case_timeline,
    plot_stage_durations,
    plot_stage_exits,
    plot_survival,
    plot_wip,
)
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.flow import wip
from pekso_toolkit.stays.summary import stage_summary

STAGES = [s.id for s in StageModel.default().helping_stages]
LABELS_ID = [s.label_id for s in StageModel.default().helping_stages]


@pytest.fixture(scope="module")
def stays() -> pd.DataFrame:
    sim = simulate(600, seed=21, span_days=160)
    return time_in_stage(sim.events, as_of=sim.as_of)


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_stage_durations_points_open_stays_and_medians(stays: pd.DataFrame) -> None:
    ax = plot_stage_durations(stays, max_points=200)
    assert isinstance(ax, Axes)
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2 * len(STAGES)
    n_points = sum(len(c.get_offsets()) for c in scatters)
    per_stage = stays.stage.value_counts().clip(upper=200)
    assert n_points == int(per_stage.sum())
    open_points = sum(len(c.get_offsets()) for c in scatters[1::2])
    assert open_points > 0
    assert [t.get_text() for t in ax.get_xticklabels()] == LABELS_ID
    assert legend_texts(ax) == [
        "Selesai",
        "Masih terbuka (tersensor)",
        "Median Kaplan–Meier (IK 95%)",
    ]
    assert "hari" in ax.get_ylabel()
    # the diamonds sit on the Kaplan–Meier medians
    medians = stage_summary(stays).median_days.to_numpy()
    drawn = [line.get_ydata()[0] for line in ax.lines if line.get_marker() == "D"]
    np.testing.assert_allclose(drawn, medians)


def test_labels_follow_the_language(stays: pd.DataFrame) -> None:
    set_language("en")
    ax = plot_stage_durations(stays, max_points=50)
    assert "Still open (censored)" in legend_texts(ax)
    assert ax.get_ylabel() == "Time in stage (days)"


def test_survival_curves_bands_and_numbers_at_risk(stays: pd.DataFrame) -> None:
    ax = plot_survival(stays)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == len(STAGES)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == len(STAGES)
    assert legend_texts(ax) == LABELS_ID
    # numbers at risk: lifelines' add_at_risk_counts, on an extra axes under the curves
    (table,) = [a for a in ax.figure.axes if a.get_gid() == "at_risk"]
    columns = [t.get_text().strip("\n").split("\n") for t in table.get_xticklabels()]
    assert len(columns) == len(table.get_xticks()) > 2
    assert columns[0][0] == "Berisiko"
    # at day 0 every stay is at risk: the first column is the number of stays in each stage
    first = [int(line.split()[-1]) for line in columns[0][1:]]
    assert first == stays.stage.value_counts().reindex(STAGES).tolist()
    assert [" ".join(line.split()[:-1]) for line in columns[0][1:]] == LABELS_ID
    # ... and the counts never grow
    later = np.array([[int(v) for v in col] for col in columns[1:]])
    assert (np.diff(np.vstack([first, later]), axis=0) <= 0).all()
    plain = plot_survival(stays, ci=False, at_risk=False, ax=plt.subplots()[1])
    assert not [c for c in plain.collections if isinstance(c, PolyCollection)]
    assert len(plain.figure.axes) == 1


def test_survival_by_group_within_a_stage(stays: pd.DataFrame) -> None:
    ax = plot_survival(stays, by="office", stage="intervensi", at_risk=False)
    assert len(ax.lines) == stays.office.nunique()
    assert ax.get_title() == "Rencana Intervensi dan Intervensi"


def test_stage_exits_one_curve_per_exit_and_all_exits() -> None:
    from pekso_toolkit.datasets import synthesize
    from pekso_toolkit.stays.exits import exit_codes, exit_fits

    # synthetic casework with rework and early closures
    stays = time_in_stage(synthesize(400, seed=3, as_of="2025-06-30"), as_of="2025-06-30")
    inter = stays[stays["stage"] == "intervensi"]
    present = sorted(set(exit_codes(inter)) - {0})
    assert len(present) >= 2, "the simulated log should end interventions in several ways"
    ax = plot_stage_exits(stays, stage="intervensi")
    assert isinstance(ax, Axes)
    assert len(ax.lines) == len(present) + 1  # one per exit, then all exits (dashed)
    assert legend_texts(ax)[-1] == "semua jalan keluar"
    assert "kasus ditutup" in legend_texts(ax)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == len(present)
    # the curves are the Aalen-Johansen estimates, and all exits together never pass one
    fits = exit_fits(stays, stage="intervensi")
    first = ax.lines[0].get_ydata()
    assert np.allclose(first, fits[next(iter(fits))].cumulative_density_.iloc[:, 0])
    assert np.nanmax(ax.lines[-1].get_ydata()) <= 1 + 1e-9
    mine = plt.subplots()[1]
    assert plot_stage_exits(stays, stage="asesmen", ax=mine, ci=False) is mine


def test_stage_exit_colours_are_keyed_by_the_exit_codes() -> None:
    from matplotlib.colors import to_hex

    from pekso_toolkit.datasets import synthesize
    from pekso_toolkit.stays.exits import EXIT_LABELS, exit_fits

    stays = time_in_stage(synthesize(400, seed=3, as_of="2025-06-30"), as_of="2025-06-30")
    fits = exit_fits(stays, stage="intervensi")
    assert len(fits) >= 2
    # the default colours: forward green, rework purple, close orange
    defaults = {"forward": "#1b9e77", "rework": "#7570b3", "close": "#d95f02"}
    ax = plot_stage_exits(stays, stage="intervensi", ci=False)
    shown = {t: to_hex(line.get_color()) for t, line in zip(legend_texts(ax), ax.lines)}
    assert shown == {EXIT_LABELS[k][0]: defaults[k] for k in fits} | {
        "semua jalan keluar": "#000000"
    }
    ax = plot_stage_exits(stays, stage="intervensi", ci=False, palette={"rework": "#ff0000"})
    colors = [to_hex(line.get_color()) for line in ax.lines[: len(fits)]]
    assert colors == ["#ff0000" if k == "rework" else defaults[k] for k in fits]


def test_wip_stacks_one_area_per_stage(stays: pd.DataFrame) -> None:
    frame = wip(stays, as_of=stays.attrs["as_of"], freq="W")
    ax = plot_wip(frame)
    assert isinstance(ax, Axes)
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(areas) == len(STAGES)
    assert sorted(legend_texts(ax)) == sorted(LABELS_ID)
    # the top of the stack at the last period is the total backlog then
    top = areas[-1].get_paths()[0].vertices[:, 1].max()
    last = frame[frame.period_end == frame.period_end.max()].n_cases.sum()
    assert top >= last


def test_case_timeline_bars_and_open_stays(stays: pd.DataFrame) -> None:
    cases = stays.case_id.unique()[-6:].tolist()
    ax = plot_case_timeline(stays, cases=cases)
    assert isinstance(ax, Axes)
    mine = stays[stays.case_id.isin(cases)]
    bars = [
        p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() in ("stay", "open_stay")
    ]
    assert len(bars) == len(mine)
    open_bars = [p for p in bars if p.get_gid() == "open_stay"]
    assert len(open_bars) == int((~mine.observed).sum()) > 0
    assert all(p.get_hatch() == "//" for p in open_bars)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(open_bars)
    # first case on top
    y_of = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert sorted(y_of, key=y_of.__getitem__, reverse=True) == cases
    with pytest.raises(KeyError):
        plot_case_timeline(stays, cases=["no-such-case"])


def test_bottleneck_heat_map_values_and_suppressed_cells(stays: pd.DataFrame) -> None:
    summary = stage_summary(stays, by="office", min_count=60)
    ax = plot_bottlenecks(summary, by="office", value="n_open")
    assert isinstance(ax, Axes)
    assert len([i for i in ax.images if isinstance(i, AxesImage)]) == 1
    hidden = int(summary.n_open.isna().sum())
    assert hidden > 0
    assert len([p for p in ax.patches if p.get_gid() == "suppressed"]) == hidden
    written = [t.get_text() for t in ax.texts]
    assert len(written) == len(summary) - hidden
    shown = summary.n_open.dropna().astype(int).astype(str).tolist()
    assert sorted(written) == sorted(shown)
    assert [t.get_text() for t in ax.get_yticklabels()] == LABELS_ID
    # from stays directly: medians, nothing suppressed without min_count
    ax = plot_bottlenecks(stays, by="office", ax=plt.subplots()[1])
    assert len(ax.texts) == len(STAGES) * stays.office.nunique()
    assert not [p for p in ax.patches if p.get_gid() == "suppressed"]
