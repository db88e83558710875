"""Shared widget helpers: escaping, bilingual messages placed by field, change notification."""

from __future__ import annotations

import gc

import pytest

from pekso_toolkit.core.errors import PracticeRuleError
from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.store import CaseStore, RecordError
from pekso_toolkit.widgets import _common as c


def test_esc_escapes_markup_and_quotes() -> None:
    assert c.esc("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert c.esc("a'b\"c&") == "a&#x27;b&quot;c&amp;"
    assert c.esc(None) == ""


def test_split_message_of_store_input_error() -> None:
    exc = RecordError("office: tidak boleh kosong", "office: must not be empty", field="office")
    assert c.split_message(exc) == (
        "office",
        "office: tidak boleh kosong",
        "office: must not be empty",
    )


def test_split_message_of_practice_rule_and_other_errors() -> None:
    exc = PracticeRuleError("pesan", "message", rule="contract_without_scope")
    assert c.split_message(exc) == (None, "pesan", "message")
    assert c.split_message(ValueError("plain")) == (None, "plain", "plain")


def test_message_html_puts_current_language_first_and_escapes() -> None:
    text = c.message_html("<b>pesan</b>", "<b>message</b>")
    assert text.index("&lt;b&gt;pesan") < text.index("&lt;b&gt;message")
    assert "<b>" not in text
    set_language("en")
    text = c.message_html("pesan", "message")
    assert text.index("message") < text.index("pesan")


def test_feedback_routes_errors_to_their_field() -> None:
    fb = c.Feedback(("office", "reason", "client_agreed"), aliases={"at": "office"})
    assert fb.show(RecordError("reason: kosong", "reason: empty", field="reason")) == "reason"
    assert "kosong" in fb["reason"].value and "empty" in fb["reason"].value
    fb.clear()
    assert fb.show(RecordError("at: besok", "at: tomorrow", field="at")) == "office"
    fb.clear()
    rule = PracticeRuleError("setuju?", "agreed?", rule="amendment_without_agreement")
    assert fb.show(rule) == "client_agreed"
    fb.clear()
    assert fb.show(ValueError("something else")) is None
    assert "something else" in fb.general.value
    assert fb.messages() == {"": fb.general.value}


def test_notify_reaches_subscribers_of_the_same_file(tmp_path) -> None:
    path = tmp_path / "cases.sqlite"
    seen: list[str | None] = []
    with CaseStore(path, worker="ani") as a, CaseStore(path, worker="budi") as b:
        c.subscribe(a, seen.append)
        c.notify(b, "K-000001")  # another store object on the same file
        c.notify(CaseStore(":memory:"), "K-000002")  # another store: not heard
    assert seen == ["K-000001"]


def test_subscribers_that_are_gone_are_dropped() -> None:
    store = CaseStore(":memory:")
    calls: list[str | None] = []

    class View:
        def refresh(self, case_id: str | None) -> None:
            calls.append(case_id)

    view = View()
    c.subscribe(store, view.refresh)
    c.notify(store, "x")
    del view
    gc.collect()
    c.notify(store, "y")
    assert calls == ["x"]
    assert c._key(store) not in c._subscribers


@pytest.mark.parametrize("lang, label", [("id", "tinggi"), ("en", "high")])
def test_level_options_follow_language(lang: str, label: str) -> None:
    set_language(lang)
    options = c.level_options(blank="-")
    assert options[0] == ("-", None)
    assert (label, "high") in options


def test_widget_events_on_another_thread_use_a_connection_of_their_own(tmp_path) -> None:
    # JupyterLab may deliver widget events on a kernel subshell (another thread)
    import threading

    from pekso_toolkit.widgets import StageChecklist

    with CaseStore(tmp_path / "cases.sqlite", worker="ani") as store:
        case_id = store.open_case(
            "X", office="A", worker="ani", risk="low", referral_source="RT", story="s"
        )
        view = StageChecklist(store, case_id)
        errors: list[BaseException] = []

        def click() -> None:
            try:
                view.checkboxes["persetujuan_klien"].value = True
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=click)
        worker.start()
        worker.join()
        assert errors == []
        assert view.feedback.messages() == {}
        assert store.case(case_id).ticked == {"persetujuan_klien"}
        assert set(store.events()["recorded_by"]) == {"ani"}
        assert view.progress.value == 1


def test_one_at_a_time_runs_one_action_of_a_widget_and_restores_its_button() -> None:
    import ipywidgets as w

    class Form(w.VBox):
        def __init__(self) -> None:
            super().__init__()
            self.save_button = w.Button()
            self.send_button = w.Button()
            self.calls: list[object] = []
            self.save_button.on_click(lambda _: self.save())

        @c.one_at_a_time("save_button", busy="busy")
        def save(self) -> str:
            self.calls.append(("save", self.save_button.disabled))
            self.calls.append(self.save())  # re-entrant: a second click
            self.calls.append(self.send())  # another action of the same widget meanwhile
            c.set_disabled(self.save_button, True)  # e.g. nothing left to save
            assert self.save_button.disabled is True  # still disabled while running
            return "saved"

        @c.one_at_a_time("send_button", busy="busy")
        def send(self) -> str:
            return "sent"

    form = Form()
    assert form.save() == "saved"
    assert form.calls == [("save", True), "busy", "busy"]
    assert form.save_button.disabled is True  # what the action asked for
    c.set_disabled(form.save_button, False)  # outside an action: at once
    assert form.save_button.disabled is False
    assert form.send() == "sent" and form.send_button.disabled is False
    other = Form()  # another widget is not blocked by this one
    form.calls.clear()
    assert other.send() == "sent"
