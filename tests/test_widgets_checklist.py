"""StageChecklist: ticks go to the store at once, forgotten items are marked, moving warns."""

from __future__ import annotations

import json

import pytest

from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import ContractEditor, StageChecklist
from pekso_toolkit.widgets._common import shown_html

MODEL = StageModel.default()


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani") as s:
        yield s


@pytest.fixture
def case_id(store: CaseStore) -> str:
    return store.open_case(
        "KLIEN-1", office="Kab. Garut", worker="ani", risk="medium", referral_source="RT", story="s"
    )


def kinds(store: CaseStore) -> list[str]:
    return list(store.events()["kind"])


def test_shows_the_current_stage_with_forgotten_items_marked(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    first = MODEL.helping_stages[0]
    assert view.stage.value == first.id
    assert view.shown_items == [i.id for i in first.checklist]
    assert list(view.items.children) == [view.checkboxes[i.id] for i in first.checklist]
    for item in first.checklist:
        box = view.checkboxes[item.id]
        marked = box.description.startswith("★ ")
        assert marked == (item.forgotten is not None), item.id
        assert ("pekso-forgotten" in box._dom_classes) == marked
    assert view.progress.value == 0 and view.progress.max == len(first.checklist)
    assert "Proses Awal" in view.header.value


def test_ticking_and_unticking_write_to_the_store_at_once(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.checkboxes["persetujuan_klien"].value = True
    assert kinds(store)[-1] == "item_ticked"
    assert json.loads(store.events()["payload"].iloc[-1]) == {"item": "persetujuan_klien"}
    assert store.case(case_id).ticked == {"persetujuan_klien"}
    assert view.progress.value == 1
    view.checkboxes["persetujuan_klien"].value = False
    assert kinds(store)[-1] == "item_unticked"
    assert store.case(case_id).ticked == frozenset()
    assert view.progress.value == 0
    assert kinds(store) == ["case_opened", "item_ticked", "item_unticked"]


def test_two_views_of_one_case_stay_consistent(store, case_id) -> None:
    a = StageChecklist(store, case_id)
    b = StageChecklist(store, case_id)
    a.tick("kapasitas_dinilai")
    assert b.checkboxes["kapasitas_dinilai"].value is True
    b.untick("kapasitas_dinilai")
    assert a.checkboxes["kapasitas_dinilai"].value is False
    # a view made later shows the same thing (the store is the only state)
    a.tick("tingkat_risiko")
    assert StageChecklist(store, case_id).checkboxes["tingkat_risiko"].value is True
    assert kinds(store).count("item_ticked") == 2


def test_other_stages_can_be_viewed_and_ticked(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.stage.value = "analisa_masalah"
    assert view.shown_items == [i.id for i in MODEL.stage("analisa_masalah").checklist]
    view.tick("analisa_ditulis")
    assert "analisa_ditulis" in store.case(case_id).ticked
    assert store.case(case_id).stage == "proses_awal"  # viewing does not move the case


def test_moving_with_forgotten_items_unticked_warns_first(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    before = len(store.events())
    assert view.move_next() is False
    assert len(store.events()) == before  # a warning writes nothing
    assert "Kontrak layanan ditandatangani" in view.warning.value
    assert "Service contract signed" in view.warning.value
    assert view.confirm_button.layout.display is None
    view.confirm_button.click()
    assert kinds(store)[-1] == "stage_entered"
    assert store.case(case_id).stage == "asesmen"
    assert view.stage.value == "asesmen"  # the view follows the case
    assert view.warning.value == ""
    flags = store.flags().set_index("case_id")
    assert bool(flags.loc[case_id, "no_contract_scope"]) is True
    assert "tanpa kontrak" in view.header.value


def test_cancel_leaves_the_case_where_it_is(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.next_button.click()
    view.cancel_button.click()
    assert view.confirm_move() is False
    assert store.case(case_id).stage == "proses_awal"
    assert kinds(store) == ["case_opened"]


def test_moving_with_everything_ticked_needs_no_confirmation(store, case_id) -> None:
    store.add_problem(case_id, "anak tidak sekolah")
    ContractEditor(store, case_id)  # not needed, but a second widget must not interfere
    store.sign_contract(case_id, in_scope=["P1"], capacity_note="mampu")
    view = StageChecklist(store, case_id)
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        view.tick(item)
    view.next_button.click()
    assert view.warning.value == ""
    assert store.case(case_id).stage == "asesmen"
    flags = store.flags().set_index("case_id")
    assert int(flags.loc[case_id, "n_flags"]) == 0


def test_skipping_the_analysis_is_warned_and_flagged(store, case_id) -> None:
    store.add_problem(case_id, "p")
    store.sign_contract(case_id, in_scope=["P1"], capacity_note="mampu")
    store.tick(case_id, "kapasitas_dinilai")
    store.tick(case_id, "kontrak_layanan")
    store.enter_stage(case_id, "asesmen")
    store.enter_stage(case_id, "analisa_masalah")
    view = StageChecklist(store, case_id)
    assert view.move_next() is False
    assert "Hasil analisa dan alasannya ditulis" in view.warning.value
    assert view.confirm_move() is True
    assert store.case(case_id).stage == "intervensi"
    assert bool(store.flags().set_index("case_id").loc[case_id, "skipped_analysis"]) is True


def test_last_stage_has_no_next_stage(store, case_id) -> None:
    for stage in ("asesmen", "analisa_masalah", "intervensi", "terminasi"):
        store.enter_stage(case_id, stage)
    view = StageChecklist(store, case_id)
    assert view.next_button.disabled
    before = len(store.events())
    assert view.move_next() is False
    assert "kontrak pengakhiran" in view.feedback["stage"].value
    assert len(store.events()) == before


def test_ticking_a_closed_case_is_refused_and_the_box_goes_back(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    store.close_case(case_id, termination_contract="selesai", reason="tujuan tercapai")
    view.refresh()
    assert all(box.disabled for box in view.checkboxes.values())
    before = len(store.events())
    view.checkboxes["persetujuan_klien"].value = True  # e.g. a stale page
    assert view.checkboxes["persetujuan_klien"].value is False
    assert len(store.events()) == before
    shown = view.feedback.messages()
    assert any("ditutup" in v and "closed" in v for v in shown.values())


def test_english_labels(store, case_id) -> None:
    set_language("en")
    view = StageChecklist(store, case_id)
    assert view.checkboxes["kontrak_layanan"].description.startswith("★ Service contract")
    assert view.next_button.description == "Move to: Assessment"


def test_html_is_escaped(store) -> None:
    case_id = store.open_case(
        "<img src=x onerror=alert(1)>",
        office="<script>x</script>",
        worker="ani",
        risk="low",
        referral_source="RT",
        story="<img src=x>",
    )
    view = StageChecklist(store, case_id)
    html = shown_html(view)
    assert "<img" not in html and "<script>x" not in html


def test_current_stay_starts_where_time_in_stage_starts_it(tmp_path) -> None:
    """Imported repeats of a stage are one stay: the header's "since" is the stay's start."""
    import pandas as pd

    from pekso_toolkit import time_in_stage
    from pekso_toolkit.events.eventlog import load_events

    frame = pd.DataFrame(
        {
            "case_id": ["X1", "X1", "X1"],
            "stage": ["proses_awal", "asesmen", "asesmen"],
            "timestamp": ["2025-06-01", "2025-06-05", "2025-06-10"],
            "office": ["Kab. Garut"] * 3,
            "worker": ["w1"] * 3,
        }
    )
    with CaseStore(tmp_path / "i.sqlite", worker="ani") as store:
        store.import_events(load_events(frame))
        view = StageChecklist(store, "X1")
        stays = time_in_stage(store.stage_events(), as_of="2025-07-01")
        entered = stays[~stays["observed"]].iloc[0]["entered_at"]
        since = entered.tz_convert("Asia/Jakarta").strftime("%Y-%m-%d")
        assert since == "2025-06-05"
        assert f"sejak {since}" in view.header.value


def _all_ticked(store: CaseStore, case_id: str) -> StageChecklist:
    store.add_problem(case_id, "anak tidak sekolah")
    store.sign_contract(case_id, in_scope=["P1"], capacity_note="mampu")
    view = StageChecklist(store, case_id)
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        view.tick(item)
    return view


def test_a_second_click_while_the_move_runs_is_a_no_op(store, case_id, monkeypatch) -> None:
    """A click arriving while the first one's store call runs moves nothing more: the button is
    disabled meanwhile and the re-entrant call returns at once."""
    view = _all_ticked(store, case_id)
    inside: list[tuple[bool, bool]] = []
    real = store.enter_stage

    def enter_stage(*args, **kwargs):
        if not inside:  # once (without the guard, each click would re-enter here)
            inside.append((view.next_button.disabled, None))
            inside.append((view.next_button.disabled, view.move_next()))  # the second click
            view.next_button.click()  # and a third, through the button
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "enter_stage", enter_stage)
    view.next_button.click()
    # disabled while running; the second click did nothing
    assert inside == [(True, None), (True, False)]
    assert store.case(case_id).stage == "asesmen"  # one stage, not two or three
    assert kinds(store).count("stage_entered") == 1
    assert view.next_button.disabled is False  # enabled again: the next move is possible
    assert "Analisa" in view.next_button.description


def test_the_button_is_enabled_again_after_an_error(store, case_id, monkeypatch) -> None:
    from pekso_toolkit.store import RecordError

    view = _all_ticked(store, case_id)

    def refused(*args, **kwargs):
        raise RecordError("stage: ditolak", "stage: refused", field="stage")

    monkeypatch.setattr(store, "enter_stage", refused)
    assert view.move_next() is False
    assert "refused" in view.feedback["stage"].value
    assert view.next_button.disabled is False

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(store, "enter_stage", broken)
    with pytest.raises(RuntimeError):
        view.move_next()  # (a click would show the traceback: ipywidgets catches it)
    assert view.next_button.disabled is False  # a bug does not leave the button dead
    monkeypatch.undo()
    view.next_button.click()
    assert store.case(case_id).stage == "asesmen"


def test_clicking_next_twice_with_the_warning_moves_one_stage(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.next_button.click()
    view.next_button.click()  # the warning again; still nothing written
    assert kinds(store) == ["case_opened"]
    view.confirm_button.click()
    view.confirm_button.click()  # the pending move is done: nothing more
    assert store.case(case_id).stage == "asesmen"
    assert kinds(store).count("stage_entered") == 1


def test_last_stage_button_stays_disabled_after_the_move(store, case_id) -> None:
    for stage in ("asesmen", "analisa_masalah", "intervensi"):
        store.enter_stage(case_id, stage)
    view = StageChecklist(store, case_id)
    for item in MODEL.forgotten_items:
        view.tick(item[1].id)
    view.next_button.click()
    assert store.case(case_id).stage == "terminasi"
    assert view.next_button.disabled is True  # no next stage: the move's refresh decides


def test_a_click_from_another_thread_while_the_move_runs_is_a_no_op(
    store, case_id, monkeypatch
) -> None:
    import threading

    view = _all_ticked(store, case_id)
    real = store.enter_stage
    results: list[bool | None] = []

    def enter_stage(*args, **kwargs):
        if not results:  # once: the other thread's own move (if any) goes to the store
            results.append(None)
            other = threading.Thread(target=lambda: results.append(view.move_next()))
            other.start()
            other.join(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "enter_stage", enter_stage)
    assert view.move_next() is True
    assert results == [None, False]
    assert store.case(case_id).stage == "asesmen"
