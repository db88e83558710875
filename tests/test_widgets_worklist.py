"""WorklistView and supervisor_view: the worklist and the board, internal only."""

from __future__ import annotations

from datetime import UTC, datetime

import ipywidgets as w
import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import CaseBoard, StageChecklist, WorklistView, supervisor_view
from pekso_toolkit.widgets._common import shown_html

NOW = datetime(2024, 2, 29, 17, 0, tzinfo=UTC)  # 2024-03-01 00:00 WIB
XSS = "<img src=x onerror=alert(1)>"


def _open(store: CaseStore, ref: str, at: str, worker: str = "ani") -> str:
    return store.open_case(
        ref, office="Bandung", worker=worker, risk="tinggi", referral_source="RT", story="x", at=at
    )


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "w.sqlite", worker="ani", clock=lambda: NOW) as s:
        a = _open(s, "klien A", "2024-02-01")  # in intake 29 days: past target, forgotten steps
        b = _open(s, "klien B", "2024-02-20", worker=XSS)
        s.enter_stage(b, "asesmen", at="2024-02-21")
        s.add_plan_step(b, "bangun pagar", due="2024-02-25", at="2024-02-21")  # overdue
        c = _open(s, "klien C", "2024-01-01")
        s.close_case(c, termination_contract="selesai", reason="r", at="2024-01-10")
        assert [a, b, c] == ["K-000001", "K-000002", "K-000003"]
        yield s


def test_worklist_view_shows_the_worklist_most_urgent_first(store) -> None:
    view = WorklistView(store)
    expected = pk.worklist(store)
    shown = view.frame()
    assert list(shown["case_id"]) == list(expected["case_id"])
    assert list(shown["task"]) == list(expected["task"])
    assert shown.attrs["internal"] is True
    assert [b.description for b in view.buttons] == list(expected["case_id"])
    assert "K-000003" not in {b.description for b in view.buttons}  # closed: nothing to do
    assert "2024-03-01" in view.header.value and "Internal" in view.header.value
    html = shown_html(view)
    assert "<img" not in html and "&lt;img" in html  # the worker's name is text
    assert "Langkah rencana: bangun pagar" in html


def test_worklist_view_filters_by_task_and_opens_a_case(store) -> None:
    view = WorklistView(store)
    view.task.value = "overdue_plan_step"
    assert [b.description for b in view.buttons] == ["K-000002"]
    assert list(view.shown()["task"]) == ["overdue_plan_step"]
    view.buttons[0].click()
    (checklist,) = view.detail.children
    assert isinstance(checklist, StageChecklist) and checklist.case_id == "K-000002"
    assert view.selected == "K-000002"


def test_worklist_view_follows_the_store(store) -> None:
    view = WorklistView(store, as_of="2024-03-01")
    before = len(view.frame())
    store.complete_step("K-000002", "S1")
    pk.widgets.notify(store, "K-000002")  # what a widget does after its write
    assert len(view.shown()) == before - 1
    assert "overdue_plan_step" not in set(view.shown()["task"])


def test_worklist_view_limits_the_rows(store) -> None:
    view = WorklistView(store, max_rows=1)
    assert len(view.buttons) == 1
    assert f"+{len(view.frame()) - 1}" in view.rows.children[-1].value


def test_supervisor_view_shows_per_case_views_only_when_internal(store) -> None:
    public = supervisor_view(store, as_of="2024-03-01")
    assert isinstance(public, w.HTML)
    assert "K-0000" not in public.value and "INTERNAL" in public.value
    desk = supervisor_view(store, as_of="2024-03-01", internal=True)
    board, work = desk.children
    assert isinstance(board, CaseBoard) and isinstance(work, WorklistView)
    assert sorted(board.buttons) == ["K-000001", "K-000002"]
    assert board.as_of == pd.Timestamp("2024-02-29T17:00:00Z")  # 2024-03-01 in Jakarta
    assert desk.get_title(0) == "Papan kasus" and desk.get_title(1) == "Daftar kerja"
