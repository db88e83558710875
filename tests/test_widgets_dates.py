"""Back-dating from the widgets: "Tanggal kejadian / Date it happened" becomes the store's ``at``.

A worker who records on Friday what happened on Tuesday picks Tuesday; the event is stored at
12:00 local time that day (or at the start of the stay, when that was later the same day). The
store's today (its own clock, its own time zone) is "now".
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.store import CaseStore, RecordError
from pekso_toolkit.widgets import ContractEditor, IntakeForm, StageChecklist
from pekso_toolkit.widgets._common import at_of_date, store_today

TZ = "Asia/Jakarta"
#: Saturday 2025-07-05, 10:00 WIB
NOW = datetime(2025, 7, 5, 3, 0, tzinfo=UTC)


class Clock:
    """A store clock the test can move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(tmp_path, clock: Clock) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=clock) as s:
        yield s


@pytest.fixture
def case_id(store: CaseStore) -> str:
    case = store.open_case(
        "KLIEN-1",
        office="Kab. Garut",
        worker="ani",
        risk="medium",
        referral_source="RT",
        story="s",
        at="2025-06-30T09:00",
    )
    store.add_problem(case, "anak tidak sekolah", at="2025-06-30T09:30")
    return case


def last_at(store: CaseStore, kind: str) -> pd.Timestamp:
    events = store.events()
    return events.loc[events["kind"] == kind, "at"].iloc[-1]


# ------------------------------------------------------------------------------------ helper
def test_store_today_is_the_stores_clock_in_its_time_zone(tmp_path) -> None:
    late = datetime(2025, 7, 4, 18, 30, tzinfo=UTC)  # 01:30 on the 5th in Jakarta
    with CaseStore(tmp_path / "a.sqlite", worker="ani", clock=lambda: late) as jakarta:
        assert store_today(jakarta) == date(2025, 7, 5)
    with CaseStore(tmp_path / "b.sqlite", worker="ani", clock=lambda: late, tz="UTC") as utc:
        assert store_today(utc) == date(2025, 7, 4)


def test_at_of_date_today_is_now_and_a_past_day_is_its_noon(store) -> None:
    assert at_of_date(store, date(2025, 7, 5)) is None  # the store stamps now
    moment = at_of_date(store, date(2025, 7, 1))
    assert moment is not None
    assert pd.Timestamp(moment) == local("2025-07-01 12:00")
    # the stay began later that day: the event cannot be earlier than that
    since = local("2025-07-01 15:20").to_pydatetime()
    assert pd.Timestamp(at_of_date(store, date(2025, 7, 1), since=since)) == local(
        "2025-07-01 15:20"
    )
    assert pd.Timestamp(at_of_date(store, date(2025, 7, 2), since=since)) == local(
        "2025-07-02 12:00"
    )


@pytest.mark.parametrize(
    ("picked", "words_id", "words_en"),
    [
        (date(2025, 7, 6), "masa depan", "future"),
        (date(2025, 6, 29), "lebih awal", "earlier"),
        (None, "kosong", "missing"),
    ],
)
def test_at_of_date_refuses_with_a_bilingual_message_on_at(
    store, picked, words_id, words_en
) -> None:
    since = local("2025-06-30 09:00").to_pydatetime()
    with pytest.raises(RecordError) as caught:
        at_of_date(store, picked, since=since, what=("waktu kasus dibuka", "the case's opening"))
    assert caught.value.field == "at"
    assert words_id in caught.value.message_id
    assert words_en in caught.value.message_en


# --------------------------------------------------------------------------------- checklist
def test_checklist_date_field_defaults_to_the_stores_today(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    assert view.date.value == date(2025, 7, 5)
    assert view.date.max == date(2025, 7, 5)
    assert "Tanggal kejadian" in view.date.description
    set_language("en")
    assert "Date it happened" in StageChecklist(store, case_id).date.description


def test_a_tick_today_is_stamped_now(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.tick("persetujuan_klien")
    assert last_at(store, "item_ticked") == pd.Timestamp(NOW)


def test_a_back_dated_tick_and_move_store_the_chosen_day(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.date.value = date(2025, 7, 1)  # Tuesday
    view.tick("persetujuan_klien")
    assert last_at(store, "item_ticked") == local("2025-07-01 12:00")
    view.date.value = date(2025, 7, 2)
    assert view.move_next() is False  # forgotten items: the warning first
    view.date.value = date(2025, 7, 3)  # changed before "move anyway": that date counts
    assert view.confirm_move() is True
    assert store.case(case_id).stage == "asesmen"
    assert last_at(store, "stage_entered") == local("2025-07-03 12:00")
    assert view.date.value == date(2025, 7, 3)  # kept for the next entry of that day
    view.tick("informasi_dikumpulkan")
    assert last_at(store, "item_ticked") == local("2025-07-03 12:00")


def test_a_move_without_warning_uses_the_date(store, case_id) -> None:
    store.sign_contract(case_id, in_scope=["P1"], capacity_note="mampu", at="2025-06-30T10:00")
    view = StageChecklist(store, case_id)
    view.date.value = date(2025, 7, 2)
    view.tick("kapasitas_dinilai")
    view.next_button.click()
    assert store.case(case_id).stage == "asesmen"
    assert last_at(store, "stage_entered") == local("2025-07-02 12:00")


def test_a_date_before_the_current_stay_is_refused_next_to_the_date(store, case_id) -> None:
    store.enter_stage(case_id, "asesmen", at="2025-07-03T15:00")
    view = StageChecklist(store, case_id)
    before = len(store.events())
    view.date.value = date(2025, 7, 2)
    view.tick("informasi_dikumpulkan")
    assert view.checkboxes["informasi_dikumpulkan"].value is False  # the box goes back
    assert set(view.feedback.messages()) == {"date"}
    shown = view.feedback["date"].value
    assert "lebih awal" in shown and "earlier" in shown and "2025-07-03" in shown
    assert view.move_next() is False
    assert view.warning.value == ""  # the date is the problem, not the forgotten items
    assert set(view.feedback.messages()) == {"date"}
    assert len(store.events()) == before  # nothing written
    # the stay's own day is fine: the event is placed at the stay's start, not before it
    view.date.value = date(2025, 7, 3)
    view.tick("informasi_dikumpulkan")
    assert view.feedback.messages() == {}
    assert last_at(store, "item_ticked") == local("2025-07-03 15:00")


def test_an_untick_is_not_dated_before_its_tick(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    view.date.value = date(2025, 7, 3)
    view.tick("persetujuan_klien")
    view.date.value = date(2025, 7, 2)
    view.untick("persetujuan_klien")
    assert view.checkboxes["persetujuan_klien"].value is True  # the box goes back
    assert "dicentang" in view.feedback["date"].value
    assert store.case(case_id).ticked == {"persetujuan_klien"}
    view.date.value = date(2025, 7, 3)
    view.untick("persetujuan_klien")
    assert last_at(store, "item_unticked") == local("2025-07-03 12:00")
    assert store.case(case_id).ticked == frozenset()


def test_a_future_date_is_refused_next_to_the_date(store, case_id, clock) -> None:
    view = StageChecklist(store, case_id)
    clock.now = datetime(2025, 7, 3, 3, 0, tzinfo=UTC)  # the store's today is now the 3rd
    view.tick("persetujuan_klien")  # the field still shows the 5th
    assert view.checkboxes["persetujuan_klien"].value is False
    shown = view.feedback["date"].value
    assert "masa depan" in shown and "future" in shown
    assert view.move_next() is False
    assert view.confirm_button.layout.display == "none"
    assert list(store.events()["kind"]) == ["case_opened", "problem_added"]


def test_a_left_alone_field_follows_the_day(store, case_id, clock) -> None:
    view = StageChecklist(store, case_id)
    clock.now = datetime(2025, 7, 7, 2, 0, tzinfo=UTC)  # Monday: the page stayed open
    view.tick("persetujuan_klien")
    assert last_at(store, "item_ticked") == pd.Timestamp(clock.now)  # not back-dated
    assert view.date.value == date(2025, 7, 7) and view.date.max == date(2025, 7, 7)


def test_a_move_on_the_day_of_the_stage_entry_comes_after_the_entry(store, case_id) -> None:
    view = StageChecklist(store, case_id)
    store.enter_stage(case_id, "asesmen", at="2025-07-04T15:00")  # entered after noon
    view.refresh()
    view.date.value = date(2025, 7, 4)
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        view.tick(item)
    assert last_at(store, "item_ticked") == local("2025-07-04 15:00")
    assert view.move_next() is True  # nothing forgotten: no warning
    assert store.case(case_id).stage == "analisa_masalah"
    assert last_at(store, "stage_entered") == local("2025-07-04 15:00")


def test_a_refused_date_at_confirm_keeps_the_pending_move(store, case_id) -> None:
    store.enter_stage(case_id, "asesmen", at="2025-07-03T09:00")
    view = StageChecklist(store, case_id)
    assert view.move_next() is False  # forgotten items: the warning
    view.date.value = date(2025, 7, 2)  # before the stage's entry
    assert view.confirm_move() is False
    assert "lebih awal" in view.feedback["date"].value
    assert view.confirm_button.layout.display is None  # still pending: fix the date, confirm
    assert store.case(case_id).stage == "asesmen"
    view.date.value = date(2025, 7, 4)
    assert view.confirm_move() is True
    assert last_at(store, "stage_entered") == local("2025-07-04 12:00")


def test_a_back_dated_move_the_store_refuses_shows_its_reason_before_any_warning(
    tmp_path, case_id, store
) -> None:
    """The store's dry run (``CaseStore.check``) speaks first: here a read-only store."""
    with CaseStore(store.path, worker="ani", clock=lambda: NOW, read_only=True) as readonly:
        view = StageChecklist(readonly, case_id)
        view.date.value = date(2025, 7, 2)
        assert view.move_next() is False
        assert view.warning.value == ""  # no "move anyway" for a move that cannot be written
        shown = view.feedback.messages()
        assert any("read-only" in v or "hanya-baca" in v for v in shown.values()), shown
    assert store.case(case_id).stage == "proses_awal"


# ---------------------------------------------------------------------------------- contract
def test_contract_sign_and_close_are_back_dated(store, case_id) -> None:
    editor = ContractEditor(store, case_id)
    assert editor.sign_date.value == date(2025, 7, 5)
    assert editor.close_date.value == date(2025, 7, 5)
    editor.scope["P1"].value = "in"
    editor.capacity_note.value = "mampu"
    editor.sign_date.value = date(2025, 7, 1)
    assert editor.sign() is True
    assert last_at(store, "contract_signed") == local("2025-07-01 12:00")
    assert last_at(store, "item_ticked") == local("2025-07-01 12:00")  # the derived tick
    store.enter_stage(case_id, "asesmen", at="2025-07-02T09:00")
    editor.termination_contract.value = "selesai"
    editor.close_reason.value = "tujuan tercapai"
    editor.close_date.value = date(2025, 7, 1)  # before the current stage's entry
    assert editor.close_case() is False
    assert set(editor.fb_close.messages()) == {"at"}
    shown = editor.fb_close["at"].value
    assert "lebih awal" in shown and "earlier" in shown
    assert not store.case(case_id).closed
    editor.close_date.value = date(2025, 7, 4)
    assert editor.close_case() is True
    assert last_at(store, "case_closed") == local("2025-07-04 12:00")


def test_contract_sign_before_the_opening_is_refused(store, case_id) -> None:
    editor = ContractEditor(store, case_id)
    editor.scope["P1"].value = "in"
    editor.capacity_note.value = "mampu"
    editor.sign_date.value = date(2025, 6, 29)
    assert editor.sign() is False
    assert set(editor.fb_sign.messages()) == {"at"}
    assert "contract_signed" not in set(store.events()["kind"])


# ------------------------------------------------------------------------------------ intake
def test_intake_problem_is_back_dated_and_opened_follows_the_store(store, case_id) -> None:
    form = IntakeForm(store, case_id=case_id)
    assert form.problem_date.value == date(2025, 7, 5)
    assert form.opened.value == date(2025, 7, 5)  # the store's today, not the computer's
    form.problem_text.value = "nenek sakit"
    form.problem_date.value = date(2025, 7, 1)
    assert form.add_problem() == "P2"
    assert last_at(store, "problem_added") == local("2025-07-01 12:00")
    form.problem_text.value = "rumah rusak"
    form.problem_date.value = date(2025, 6, 29)  # before the opening
    assert form.add_problem() is None
    assert set(form.feedback.messages()) == {"problem_date"}
    assert "lebih awal" in form.feedback["problem_date"].value
    assert len(store.problems()) == 2


def test_intake_problem_on_the_opening_day_is_after_the_opening(tmp_path) -> None:
    clock = Clock(NOW)
    with CaseStore(tmp_path / "o.sqlite", worker="ani", clock=clock) as store:
        form = IntakeForm(store)
        for name, value in {
            "client_ref": "K",
            "office": "Kab. Garut",
            "worker": "ani",
            "risk": "high",
            "referral_source": "RT",
            "story": "s",
        }.items():
            getattr(form, name).value = value
        form.opened.value = date(2025, 7, 5)
        assert form.submit() is not None  # opened now (10:00 on the store's today)
        form.problem_text.value = "anak tidak sekolah"
        assert form.add_problem() == "P1"
        assert last_at(store, "problem_added") == pd.Timestamp(NOW)
