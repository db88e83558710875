"""Every entry point sorts: an EventLog built from shuffled rows, raw frames, missing stages."""

from __future__ import annotations

import pandas as pd
import pytest
from simlog import make_events

from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.flow import transitions, wip
from pekso_toolkit.stays.supervision import skipped_analysis

MODEL = StageModel.default()

ROWS = [
    ("A", "proses_awal", "2024-03-01"),
    ("A", "asesmen", "2024-03-04"),
    ("A", "analisa_masalah", "2024-03-06"),
    ("A", "intervensi", "2024-03-08"),
    ("A", "ditutup", "2024-03-09"),
    ("B", "proses_awal", "2024-03-02"),
    ("B", "asesmen", "2024-03-03"),
]


def shuffled() -> pd.DataFrame:
    return make_events(ROWS).iloc[[3, 6, 0, 4, 2, 5, 1]].reset_index(drop=True)


def test_eventlog_built_from_shuffled_rows_is_sorted() -> None:
    log = EventLog(events=shuffled())
    ev = log.events
    assert ev["case_id"].tolist() == ["A"] * 5 + ["B"] * 2
    assert ev["timestamp"].is_monotonic_increasing is False  # B starts earlier than A ends
    assert ev[ev.case_id == "A"]["timestamp"].is_monotonic_increasing
    assert list(ev.index) == list(range(7))
    stays = time_in_stage(log, as_of="2024-03-10")
    assert (stays["days"] >= 0).all()
    assert stays.equals(time_in_stage(make_events(ROWS), as_of="2024-03-10"))
    moves = transitions(log)
    assert "rework" not in set(moves["kind"])
    assert int(moves.loc[moves.kind == "close", "n"].sum()) == 1


def test_raw_frames_in_any_order_give_the_same_answers() -> None:
    ordered, mixed = make_events(ROWS), shuffled()
    pd.testing.assert_frame_equal(transitions(mixed), transitions(ordered))
    pd.testing.assert_frame_equal(
        wip(mixed, as_of="2024-03-10", freq="D"), wip(ordered, as_of="2024-03-10", freq="D")
    )
    pd.testing.assert_frame_equal(
        time_in_stage(mixed, as_of="2024-03-10"), time_in_stage(ordered, as_of="2024-03-10")
    )


def test_skipped_analysis_on_shuffled_rows_agrees_with_the_eventlog() -> None:
    mixed = shuffled()
    from_log = skipped_analysis(EventLog(events=mixed), as_of="2024-03-10")
    from_frame = skipped_analysis(mixed, as_of="2024-03-10")
    assert from_log["skipped_analysis"].tolist() == [False]
    pd.testing.assert_frame_equal(from_frame, from_log)


def test_from_frame_with_a_missing_stage_keeps_each_case_together() -> None:
    events = make_events(ROWS)
    events.loc[1, "stage"] = None  # A's assessment has no stage
    with pytest.raises(EventLogError, match="stage"):
        EventLog.from_frame(events.iloc[::-1])
    # without the missing row, the rest is one contiguous case each
    log = EventLog.from_frame(events.drop(index=1).iloc[::-1])
    cases = log.events["case_id"].tolist()
    assert cases == ["A"] * 4 + ["B"] * 2


def test_a_closure_and_reopening_at_the_same_instant_keep_their_order() -> None:
    rows = [
        ("R", "proses_awal", "2024-03-01"),
        ("R", "asesmen", "2024-03-05"),
        ("R", "ditutup", "2024-03-05"),
        ("R", "dibuka_kembali", "2024-03-05"),
    ]
    for order in ([3, 2, 1, 0], [2, 3, 0, 1], [1, 3, 0, 2]):
        frame = make_events(rows).iloc[order].reset_index(drop=True)
        log = EventLog(events=frame)
        stages = [str(s) for s in log.events["stage"]]
        assert stages == ["proses_awal", "ditutup", "dibuka_kembali", "asesmen"]
        stays = time_in_stage(log, as_of="2024-03-10")
        assert stays["stage"].astype(str).tolist() == ["proses_awal", "asesmen"]
        assert stays["observed"].tolist() == [True, False]
