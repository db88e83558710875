"""IntakeForm driven as a user would (set values, click), checked against the store's events."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import IntakeForm
from pekso_toolkit.widgets._common import shown_html, today_local

OFFICES = ["Kota Bandung", "Kab. Garut"]
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani") as s:
        yield s


def fill(form: IntakeForm, **override: object) -> None:
    values = {
        "client_ref": "KLIEN-17",
        "office": "Kab. Garut",
        "worker": "ani",
        "risk": "high",
        "referral_source": "Ketua RT 04",
        "story": "Ibu S. datang dengan tiga anak; suami meninggal, anak sulung berhenti sekolah.",
        "opened": date(2025, 1, 2),
    }
    values.update(override)
    for name, value in values.items():
        getattr(form, name).value = value


def n_events(store: CaseStore) -> int:
    return len(store.events())


def test_open_case_writes_exactly_one_opening_event(store: CaseStore) -> None:
    form = IntakeForm(store, offices=OFFICES)
    fill(form)
    form.open_button.click()
    assert form.case_id == "K-000001"
    events = store.events()
    assert list(events["kind"]) == ["case_opened"]
    payload = json.loads(events.loc[0, "payload"])
    assert payload == {
        "office": "Kab. Garut",
        "worker": "ani",
        "risk": "high",
        "referral_source": "Ketua RT 04",
        "story": "Ibu S. datang dengan tiga anak; suami meninggal, anak sulung berhenti sekolah.",
    }
    # the date of first contact is midnight in Jakarta (UTC+7)
    assert events.loc[0, "at"] == pd.Timestamp("2025-01-01T17:00:00Z")
    assert store.case("K-000001", with_client=True).client_ref == "KLIEN-17"
    assert "K-000001" in form.feedback.general.value
    assert form.problem_box.layout.display is None  # problems can now be added
    assert form.open_button.disabled


def test_empty_required_fields_are_shown_and_nothing_is_written(store: CaseStore) -> None:
    form = IntakeForm(store, offices=OFFICES)
    form.worker.value = ""
    form.open_button.click()
    shown = form.feedback.messages()
    for field in ("client_ref", "office", "worker", "risk", "referral_source", "story"):
        assert "Wajib diisi" in shown[field] and "Required" in shown[field], field
    assert form.case_id is None
    assert n_events(store) == 0


def test_whitespace_only_story_is_rejected(store: CaseStore) -> None:
    form = IntakeForm(store)
    fill(form, story="   \n ")
    form.open_button.click()
    assert set(form.feedback.messages()) == {"story"}
    assert n_events(store) == 0


def test_future_date_is_rejected_next_to_the_date(store: CaseStore) -> None:
    form = IntakeForm(store, offices=OFFICES)
    tomorrow = today_local() + timedelta(days=1)
    fill(form, opened=tomorrow)
    form.open_button.click()
    assert set(form.feedback.messages()) == {"opened"}
    assert "masa depan" in form.feedback["opened"].value
    assert "future" in form.feedback["opened"].value
    assert n_events(store) == 0
    form.opened.value = today_local()
    form.open_button.click()
    assert n_events(store) == 1


def test_date_after_the_stores_clock_is_shown_next_to_the_date(tmp_path) -> None:
    # the store has the last word on "the future": its own clock
    clock = pd.Timestamp("2024-12-31T00:00:00Z").to_pydatetime()
    with CaseStore(tmp_path / "c.sqlite", worker="ani", clock=lambda: clock) as store:
        form = IntakeForm(store)
        fill(form, opened=date(2025, 1, 2))
        form.open_button.click()
        assert set(form.feedback.messages()) == {"opened"}
        assert n_events(store) == 0


def test_unknown_office_is_rejected_when_offices_are_given(store: CaseStore) -> None:
    form = IntakeForm(store, offices=OFFICES)
    fill(form, office="Kota Antah Berantah")
    form.open_button.click()
    assert set(form.feedback.messages()) == {"office"}
    assert "Kota Antah Berantah" in form.feedback["office"].value
    assert n_events(store) == 0
    form.office.value = "Kota Bandung"
    form.open_button.click()
    assert store.case(form.case_id).office == "Kota Bandung"


def test_any_office_is_accepted_without_a_list(store: CaseStore) -> None:
    form = IntakeForm(store)
    fill(form, office="Kota Antah Berantah")
    form.open_button.click()
    assert store.case(form.case_id).office == "Kota Antah Berantah"


def test_problems_with_suggestion_accepted_changed_or_left_out(store: CaseStore) -> None:
    taxonomy = Taxonomy.ppks()
    form = IntakeForm(store, taxonomy=taxonomy)
    fill(form)
    form.open_button.click()

    text = "anak ditelantarkan orang tua, tidak sekolah"
    form.problem_text.value = text
    expected = taxonomy.suggest(text, k=3).codes
    assert expected, "the taxonomy should suggest something for this text"
    assert form.suggested == expected
    assert form.category.value is None  # nothing is chosen for the worker
    form.suggestions.children[0].click()  # accept the best suggestion
    assert form.category.value == expected[0]
    form.severity.value = "medium"
    form.add_button.click()

    form.problem_text.value = "anak dipukul ayahnya"
    form.category.value = "KTK"  # the worker's own choice
    form.add_button.click()

    form.problem_text.value = "rumah bocor"  # left uncategorised
    form.add_button.click()

    problems = store.problems(text=True)
    assert list(problems["problem_id"]) == ["P1", "P2", "P3"]
    assert list(problems["text"]) == [text, "anak dipukul ayahnya", "rumah bocor"]
    assert problems["category"].tolist()[:2] == [expected[0], "KTK"]
    assert pd.isna(problems["category"].iloc[2])
    assert problems["severity"].iloc[0] == "medium"
    assert form.problem_text.value == "" and form.category.value is None
    assert form.category.index == 0  # the "uncategorised" label is shown, not a blank
    assert list(store.events()["kind"]) == ["case_opened"] + ["problem_added"] * 3


def test_text_without_evidence_gets_no_suggestion(store: CaseStore) -> None:
    form = IntakeForm(store)
    form.problem_text.value = "zzz qqq"
    assert form.suggested == []
    assert "Tidak ada saran" in form.suggestion_note.value


def test_empty_problem_is_rejected(store: CaseStore) -> None:
    form = IntakeForm(store)
    fill(form)
    form.open_button.click()
    form.problem_text.value = "  "
    form.add_button.click()
    assert set(form.feedback.messages()) == {"problem_text"}
    assert n_events(store) == 1


def test_user_text_is_escaped(store: CaseStore) -> None:
    form = IntakeForm(store)
    fill(form, client_ref=XSS, office=XSS, worker="ani <marquee>", story=XSS)
    form.open_button.click()
    form.problem_text.value = XSS
    form.add_button.click()
    html = shown_html(form)
    assert "<img" not in html and "<marquee" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in form.header.value  # client ref, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in form.problem_list.value
    assert store.case(form.case_id, with_client=True).client_ref == XSS


def test_new_case_resets_the_form(store: CaseStore) -> None:
    form = IntakeForm(store)
    fill(form)
    form.open_button.click()
    form.new_button.click()
    assert form.case_id is None and form.client_ref.value == ""
    assert not form.open_button.disabled
    fill(form, client_ref="KLIEN-18")
    form.open_button.click()
    assert form.case_id == "K-000002"


def test_continuing_a_case_shows_what_the_store_holds(store: CaseStore) -> None:
    case_id = store.open_case(
        "X", office="A", worker="ani", risk="low", referral_source="RT", story="s"
    )
    store.add_problem(case_id, "masalah pertama")
    form = IntakeForm(store, case_id=case_id)
    assert "masalah pertama" in form.problem_list.value
    other = IntakeForm(store, case_id=case_id)  # two views of one case stay consistent
    form.problem_text.value = "masalah kedua"
    form.add_button.click()
    assert "masalah kedua" in other.problem_list.value


def test_on_opened_callback_receives_the_case(store: CaseStore) -> None:
    form = IntakeForm(store)
    opened: list[str] = []
    form.on_opened(opened.append)
    fill(form)
    form.open_button.click()
    assert opened == [form.case_id]


def test_english_labels_and_messages(store: CaseStore) -> None:
    set_language("en")
    form = IntakeForm(store)
    assert form.open_button.description == "Open case"
    assert form.client_ref.description == "Client reference"
    form.open_button.click()
    message = form.feedback["story"].value
    assert message.index("Required") < message.index("Wajib diisi")
    assert n_events(store) == 0


def test_a_second_click_on_open_while_it_runs_opens_one_case(store: CaseStore, monkeypatch) -> None:
    form = IntakeForm(store, offices=OFFICES)
    fill(form)
    real = store.open_case
    seen: list[object] = []

    def again(*args, **kwargs):
        if not seen:  # once (without the guard, each click would re-enter here)
            seen.append(form.open_button.disabled)
            seen.append(form.submit())  # a second click, arriving meanwhile
            form.open_button.click()  # and a third
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "open_case", again)
    form.open_button.click()
    assert seen == [True, None]
    assert list(store.events()["kind"]) == ["case_opened"]  # one case
    assert form.case_id == "K-000001"
    assert form.open_button.disabled  # stays disabled: the case is open (the form asked so)
    form.new_button.click()
    assert not form.open_button.disabled  # a new form can open the next case


def test_open_button_is_enabled_again_after_an_error(store: CaseStore, monkeypatch) -> None:
    form = IntakeForm(store, offices=OFFICES)
    fill(form)

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(store, "open_case", broken)
    with pytest.raises(RuntimeError):
        form.submit()
    assert not form.open_button.disabled
    monkeypatch.undo()
    form.open_button.click()
    assert form.case_id == "K-000001"
