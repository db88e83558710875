"""BottleneckExplorer: the table is stage_summary's, small cells hidden, cached per grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pekso_toolkit.widgets.explorer as explorer_module
from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.datasets import synthesize
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.summary import stage_summary
from pekso_toolkit.widgets import BottleneckExplorer

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def stays() -> pd.DataFrame:
    log = synthesize(400, seed=11, as_of=AS_OF)
    return time_in_stage(log, as_of=AS_OF)


def table_rows(explorer: BottleneckExplorer) -> list[list[str]]:
    """Cells of the shown table as text (tags stripped)."""
    import re

    body = explorer.table.value.split("</tr>")[1:-1]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in body
    ]


def test_table_shows_stage_summary_of_the_chosen_grouping_and_stage(stays) -> None:
    explorer = BottleneckExplorer(stays, min_count=5, floor=5)
    explorer.grouping.value = "office"
    explorer.stage.value = "intervensi"
    expected = stage_summary(stays, by="office", min_count=5)
    expected = expected[expected["stage"] == "intervensi"].set_index("office")
    rows = table_rows(explorer)
    assert sorted(r[0] for r in rows) == sorted(expected.index)
    for office, stage, n_stays, _open, median, *_ in rows:
        assert stage == "Rencana Intervensi dan Intervensi"
        assert n_stays == f"{int(expected.loc[office, 'n_stays']):,}"
        assert median == f"{expected.loc[office, 'median_days']:.1f}"
    # sorted by the chosen figure, largest first
    medians = [float(r[4]) for r in rows]
    assert medians == sorted(medians, reverse=True)


def test_all_stages_of_every_group(stays) -> None:
    explorer = BottleneckExplorer(stays, min_count=5, floor=5)
    assert explorer.stage.index == 0 and explorer.stage.value is None  # "all stages" shown
    explorer.grouping.value = "worker"
    n_workers = stays["worker"].nunique()
    assert len(table_rows(explorer)) == n_workers * 5


def test_small_cells_are_suppressed(stays) -> None:
    explorer = BottleneckExplorer(stays, min_count=30)
    explorer.grouping.value = "worker"
    summary = explorer.summary()
    counts = stays.groupby(["worker", "stage"], observed=True).size()
    small = counts[(counts > 0) & (counts < 30)]
    assert len(small), "the sample should have small cells"
    for (worker, stage), _ in small.items():
        row = summary[(summary["worker"] == worker) & (summary["stage"] == stage)]
        assert row["n_stays"].isna().all()
    assert "▒" in explorer.table.value
    # a lower threshold shows more
    hidden_before = explorer.table.value.count("▒")
    explorer.min_count.value = 10
    assert explorer.table.value.count("▒") < hidden_before


def test_period_is_the_month_of_entry_in_jakarta(stays) -> None:
    recent = stays[stays["entered_at"] >= pd.Timestamp("2025-03-01", tz="UTC")]
    recent.attrs = dict(stays.attrs)
    explorer = BottleneckExplorer(recent, groupings=["period"])
    local = recent["entered_at"].dt.tz_convert("Asia/Jakarta")
    expected = local.dt.strftime("%Y-%m")
    assert (explorer.stays["period"].astype(str) == expected).all()
    assert set(explorer.summary()["period"]) == set(expected)


def test_summaries_are_computed_once_per_grouping(stays, monkeypatch) -> None:
    calls: list[object] = []
    real = explorer_module.stage_summary

    def counting(*args, **kwargs):
        calls.append(kwargs.get("by"))
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer_module, "stage_summary", counting)
    explorer = BottleneckExplorer(stays, warm_up=False)
    for grouping in ("_none", "office", "_none", "office"):
        explorer.grouping.value = grouping
        for stage in (None, "asesmen", None):
            explorer.stage.value = stage
    assert calls == ["office", None]
    first_png = explorer.plot.value
    explorer.value.value = "overdue_share"
    explorer.value.value = "median_days"
    assert explorer.plot.value == first_png  # the drawn plot is reused


def test_warm_up_computes_every_grouping_in_the_background(stays, monkeypatch) -> None:
    calls: list[object] = []
    real = explorer_module.stage_summary

    def counting(*args, **kwargs):
        calls.append(kwargs.get("by"))
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer_module, "stage_summary", counting)
    explorer = BottleneckExplorer(stays)
    assert explorer.warm_up is not None
    explorer.warm_up.join(timeout=60)
    groupings = [str(value) for _, value in explorer.grouping.options]
    assert len(groupings) > 1
    n_calls = len(calls)
    for grouping in groupings:  # every choice is now served from the cache
        explorer.grouping.value = grouping
    assert len(calls) == n_calls
    assert {None if g == "_none" else g for g in groupings} <= set(calls)


def test_plot_is_a_png_of_the_shown_view(stays) -> None:
    explorer = BottleneckExplorer(stays)
    assert explorer.plot.value[:8] == b"\x89PNG\r\n\x1a\n"
    before = explorer.plot.value
    explorer.stage.value = "asesmen"
    assert explorer.plot.value != before


def test_no_grouping(stays) -> None:
    explorer = BottleneckExplorer(stays)
    explorer.grouping.value = "_none"
    rows = table_rows(explorer)
    expected = stage_summary(stays)
    assert [int(r[2].replace(",", "")) for r in rows] == list(expected["n_stays"])


def test_group_names_are_escaped(stays) -> None:
    odd = stays.copy()
    odd["office"] = np.where(
        odd["office"] == odd["office"].iloc[0], "<img src=x onerror=alert(1)>", odd["office"]
    )
    explorer = BottleneckExplorer(odd)
    assert "<img" not in explorer.table.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in explorer.table.value


def test_as_of_must_match_the_stays(stays) -> None:
    with pytest.raises(ValueError, match="as_of"):
        BottleneckExplorer(stays, as_of="2024-01-01")
    assert BottleneckExplorer(stays, as_of=AS_OF).as_of == pd.Timestamp(stays.attrs["as_of"])


def test_missing_columns_are_explained() -> None:
    with pytest.raises(ValueError, match="time_in_stage"):
        BottleneckExplorer(pd.DataFrame({"stage": ["asesmen"]}))


def test_english_labels(stays) -> None:
    set_language("en")
    explorer = BottleneckExplorer(stays)
    assert explorer.grouping.description == "Group by"
    assert "Stage bottlenecks" in explorer.header.value
    assert "<th>Office</th>" in explorer.table.value


def test_precompute_fills_every_grouping(stays) -> None:
    explorer = BottleneckExplorer(stays, groupings=["office"])
    explorer.precompute()
    assert {key[0] for key in explorer._summaries} == {"office", "_none"}


def test_a_viewer_cannot_set_the_threshold_below_the_publication_default(stays) -> None:
    explorer = BottleneckExplorer(stays, warm_up=False)
    explorer.grouping.value = "worker"
    explorer.min_count.value = 1
    assert explorer.min_count.value == 11
    summary = explorer.summary()
    assert not ((summary["n_stays"] > 0) & (summary["n_stays"] < 11)).any()
    with pytest.raises(ValueError, match="floor"):
        BottleneckExplorer(stays, min_count=3, warm_up=False)
    # an internal analysis may lower the floor explicitly
    internal = BottleneckExplorer(stays, min_count=3, floor=1, warm_up=False)
    internal.min_count.value = 1
    assert internal.min_count.value == 1
