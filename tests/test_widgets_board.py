"""CaseBoard: open cases by stage as of a date, days in stage, overdue, filters, click."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import load_events
from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import CaseBoard, StageChecklist

NOW = datetime(2025, 7, 5, 3, 0, tzinfo=UTC)
AS_OF = "2025-06-30"  # midnight in Jakarta
MODEL = StageModel.default()


def open_case(store: CaseStore, office: str, worker: str, at: str) -> str:
    return store.open_case(
        "ref", office=office, worker=worker, risk="low", referral_source="RT", story="s", at=at
    )


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=lambda: NOW) as s:
        a = open_case(s, "Kab. Garut", "ani", "2025-06-01")  # 29 days in intake: overdue
        b = open_case(s, "Kota Bandung", "budi", "2025-06-27")  # 3 days: fine
        c = open_case(s, "Kab. Garut", "budi", "2025-05-01")
        s.enter_stage(c, "asesmen", at="2025-06-20")  # 10 days of 14
        d = open_case(s, "Kota Bandung", "ani", "2025-05-01")
        s.close_case(d, termination_contract="selesai", reason="r", at="2025-06-10")  # closed
        e = open_case(s, "Kota Bandung", "ani", "2025-06-01")
        s.close_case(e, termination_contract="selesai", reason="r", at="2025-07-01")  # after as_of
        f = open_case(s, "Kab. Garut", "ani", "2025-07-02")  # opened after as_of
        assert [a, b, c, d, e, f] == [f"K-00000{i}" for i in range(1, 7)]
        yield s


def test_frame_holds_each_open_case_in_its_stage_as_of(store) -> None:
    board = CaseBoard(store, as_of=AS_OF)
    frame = board.frame().set_index("case_id")
    assert sorted(frame.index) == ["K-000001", "K-000002", "K-000003", "K-000005"]
    assert frame.loc["K-000001", "stage"] == "proses_awal"
    assert frame.loc["K-000003", "stage"] == "asesmen"
    assert frame.loc["K-000005", "stage"] == "proses_awal"  # closed only after as_of
    expected = {"K-000001": 29.0, "K-000002": 3.0, "K-000003": 10.0, "K-000005": 29.0}
    for case, days in expected.items():
        assert frame.loc[case, "days_in_stage"] == pytest.approx(days), case
    assert frame.loc["K-000001", "target_days"] == MODEL.targets["proses_awal"]
    assert list(frame["overdue"]) == [
        d > MODEL.targets[s] for d, s in zip(frame["days_in_stage"], frame["stage"])
    ]
    assert frame.loc["K-000001", "overdue"] and not frame.loc["K-000002", "overdue"]
    assert "client" not in " ".join(frame.columns)


def test_columns_show_cases_with_overdue_highlighted(store) -> None:
    board = CaseBoard(store, as_of=AS_OF)
    assert len(board.columns.children) == len(MODEL.helping_stages)
    first_column = board.columns.children[0].children
    assert [b for b in first_column[1:]] == [
        board.buttons["K-000001"],
        board.buttons["K-000005"],
        board.buttons["K-000002"],
    ]  # longest waiting first
    assert board.buttons["K-000001"].button_style == "danger"
    assert "pekso-overdue" in board.buttons["K-000001"]._dom_classes
    assert board.buttons["K-000002"].button_style == ""
    assert board.buttons["K-000003"] in board.columns.children[1].children
    assert "29" in board.buttons["K-000001"].description
    assert "3 kasus" in first_column[0].value


def test_filters_by_office_and_worker(store) -> None:
    board = CaseBoard(store, as_of=AS_OF)
    assert [v for _, v in board.office.options] == [None, "Kab. Garut", "Kota Bandung"]
    board.office.value = "Kab. Garut"
    assert sorted(board.buttons) == ["K-000001", "K-000003"]
    board.worker.value = "budi"
    assert sorted(board.buttons) == ["K-000003"]
    board.office.index = 0  # "all"
    assert board.office.value is None
    assert sorted(board.buttons) == ["K-000002", "K-000003"]
    assert list(board.shown()["case_id"]) == ["K-000002", "K-000003"]


def test_clicking_a_case_opens_its_checklist_below(store) -> None:
    board = CaseBoard(store, as_of=AS_OF)
    board.buttons["K-000003"].click()
    assert board.selected == "K-000003"
    (checklist,) = board.detail.children
    assert isinstance(checklist, StageChecklist) and checklist.case_id == "K-000003"
    assert checklist.stage.value == "asesmen"
    checklist.tick("informasi_dikumpulkan")
    assert "informasi_dikumpulkan" in store.case("K-000003").ticked
    board.buttons["K-000001"].click()
    assert board.detail.children[0].case_id == "K-000001"


def test_board_follows_changes_made_in_other_widgets(store) -> None:
    board = CaseBoard(store, as_of="2025-07-06")  # after the store's clock
    assert board.buttons["K-000002"] in board.columns.children[0].children
    view = StageChecklist(store, "K-000002")
    view.next_button.click()
    view.confirm_button.click()  # the move is recorded at the store's clock, 2025-07-05
    assert board.buttons["K-000002"] in board.columns.children[1].children
    # a board as of an earlier date still shows the case where it was then
    earlier = CaseBoard(store, as_of="2025-07-04").frame().set_index("case_id")
    assert earlier.loc["K-000002", "stage"] == "proses_awal"


def test_imported_repeats_of_a_stage_count_from_the_first(tmp_path) -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["X1", "X1", "X1", "X2"],
            "stage": ["proses_awal", "asesmen", "asesmen", "intervensi"],
            "timestamp": ["2025-06-01", "2025-06-05", "2025-06-10", "2025-06-29"],
            "office": ["Kab. Garut"] * 4,
            "worker": ["w1", "w1", "w2", "w3"],
        }
    )
    with CaseStore(tmp_path / "i.sqlite", worker="ani", clock=lambda: NOW) as store:
        store.import_events(load_events(frame))
        board = CaseBoard(store, as_of=AS_OF)
        rows = board.frame().set_index("case_id")
        assert rows.loc["X1", "stage"] == "asesmen"
        assert rows.loc["X1", "days_in_stage"] == pytest.approx(25.0)
        assert rows.loc["X1", "worker"] == "w2"  # the latest worker
        assert bool(rows.loc["X1", "overdue"]) is True
        assert rows.loc["X2", "days_in_stage"] == pytest.approx(1.0)


def test_too_many_cases_are_counted_not_shown(store) -> None:
    board = CaseBoard(store, as_of=AS_OF, max_per_stage=1)
    first_column = board.columns.children[0].children
    assert len([x for x in first_column if x in board.buttons.values()]) == 1
    assert "+2" in first_column[-1].value


def test_empty_store(tmp_path) -> None:
    with CaseStore(tmp_path / "e.sqlite", worker="ani") as store:
        board = CaseBoard(store, as_of=AS_OF)
        assert len(board.frame()) == 0 and board.buttons == {}


def test_office_names_are_shown_as_text(tmp_path) -> None:
    with CaseStore(tmp_path / "x.sqlite", worker="ani", clock=lambda: NOW) as store:
        open_case(store, "<img src=x onerror=alert(1)>", "ani", "2025-06-01")
        board = CaseBoard(store, as_of=AS_OF)
        assert "<img" not in board.header.value
        assert ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>") in [
            tuple(o) for o in board.office.options
        ]  # Dropdown labels are plain text, not HTML


def test_working_day_targets_count_working_days(tmp_path) -> None:
    import dataclasses

    from pekso_toolkit.stays.durations import working_days

    model = dataclasses.replace(MODEL, target_unit="working")
    with CaseStore(tmp_path / "w.sqlite", worker="ani", model=model, clock=lambda: NOW) as store:
        case_id = open_case(store, "A", "ani", "2025-06-02")  # a Monday
        row = CaseBoard(store, as_of=AS_OF).frame().set_index("case_id").loc[case_id]
        expected = float(working_days(pd.Timestamp("2025-06-02", tz="Asia/Jakarta"), AS_OF)[0])
        assert row["days_in_stage"] == pytest.approx(expected)
        assert row["days_in_stage"] < 28  # weekends (and holidays) do not count


def test_days_in_stage_are_the_open_stays_of_time_in_stage(tmp_path) -> None:
    """The board reads stays from time_in_stage: a reopened case waiting for its next stage has
    no open stay (it shows in its state, without days), a reopened case that re-entered a stage
    counts from that entry, and every other case matches its open stay."""
    from pekso_toolkit import time_in_stage

    with CaseStore(tmp_path / "r.sqlite", worker="ani", clock=lambda: NOW) as store:
        waiting = open_case(store, "Kab. Garut", "ani", "2025-05-01")
        store.enter_stage(waiting, "asesmen", at="2025-05-10")
        store.close_case(waiting, termination_contract="selesai", reason="r", at="2025-06-01")
        store.reopen(waiting, reason="kambuh", at="2025-06-10")  # 20 days before AS_OF
        again = open_case(store, "Kab. Garut", "budi", "2025-04-01")
        store.enter_stage(again, "asesmen", at="2025-04-10")
        store.close_case(again, termination_contract="selesai", reason="r", at="2025-05-01")
        store.reopen(again, reason="kambuh", at="2025-05-05")
        store.enter_stage(again, "asesmen", at="2025-06-15")  # second asesmen stay: 15 days
        moved = open_case(store, "Kota Bandung", "ani", "2025-06-01")
        store.enter_stage(moved, "asesmen", at="2025-06-20")
        closed = open_case(store, "Kota Bandung", "ani", "2025-05-01")
        store.close_case(closed, termination_contract="selesai", reason="r", at="2025-06-10")

        board = CaseBoard(store, as_of=AS_OF)
        frame = board.frame().set_index("case_id")
        stays = time_in_stage(store.stage_events(), as_of=AS_OF)
        open_stays = stays[~stays["observed"]].set_index("case_id")

        assert sorted(frame.index) == sorted([waiting, again, moved])  # the closed one is gone
        for case in (again, moved):
            assert frame.loc[case, "stage"] == str(open_stays.loc[case, "stage"]), case
            assert frame.loc[case, "entered_at"] == open_stays.loc[case, "entered_at"], case
            assert frame.loc[case, "days_in_stage"] == pytest.approx(
                open_stays.loc[case, "days"]
            ), case
        assert frame.loc[again, "days_in_stage"] == pytest.approx(15.0)
        assert waiting not in open_stays.index  # time_in_stage: no stay while reopened
        assert frame.loc[waiting, "stage"] == "dibuka_kembali"  # the case's last state
        assert pd.isna(frame.loc[waiting, "days_in_stage"])
        assert pd.isna(frame.loc[waiting, "entered_at"])
        assert not bool(frame.loc[waiting, "overdue"])
        # the reopened case is still on the board, in its own column, without a day count
        assert board.buttons[waiting] in board.columns.children[-1].children
        assert board.buttons[waiting].description == f"{waiting} · —"
        assert board.buttons[waiting].button_style == ""


def test_counts_in_words_agree_with_the_number(tmp_path) -> None:
    from pekso_toolkit.core.i18n import set_language

    with CaseStore(tmp_path / "one.sqlite", worker="ani", clock=lambda: NOW) as store:
        open_case(store, "A", "ani", "2025-06-27")
        set_language("en")
        try:
            board = CaseBoard(store, as_of=AS_OF)
            assert "1 case;" in board.header.value and "1 cases" not in board.header.value
            assert "1 case ·" in board.columns.children[0].children[0].value
            assert "0 cases" in board.columns.children[1].children[0].value
        finally:
            set_language("id")
        assert "1 kasus" in CaseBoard(store, as_of=AS_OF).header.value
