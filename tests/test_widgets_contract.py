"""ContractEditor: scope, amendments with agreement and reason, referral, closing, follow-up."""

from __future__ import annotations

import json

import pytest

from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import ContractEditor, StageChecklist
from pekso_toolkit.widgets._common import shown_html

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani") as s:
        yield s


@pytest.fixture
def case_id(store: CaseStore) -> str:
    case = store.open_case(
        "KLIEN-1", office="Kab. Garut", worker="ani", risk="high", referral_source="RT", story="s"
    )
    store.add_problem(case, "anak tidak sekolah", category="AT")
    store.add_problem(case, "ayah kehilangan pekerjaan", category="FM")
    store.add_problem(case, "rumah rusak")
    return case


def last(store: CaseStore) -> tuple[str, dict]:
    events = store.events()
    return str(events["kind"].iloc[-1]), json.loads(events["payload"].iloc[-1])


def signed(store: CaseStore, case_id: str) -> ContractEditor:
    editor = ContractEditor(store, case_id)
    editor.scope["P1"].value = "in"
    editor.scope["P2"].value = "out"
    editor.capacity_note.value = "Peksos mampu mendampingi pendidikan anak."
    editor.sign_button.click()
    return editor


def test_sign_writes_the_scope_and_capacity(store, case_id) -> None:
    editor = signed(store, case_id)
    kind, payload = last(store)
    assert kind == "contract_signed"
    assert payload == {
        "contract_id": "C1",
        "in_scope": ["P1"],
        "out_of_scope": ["P2"],
        "capacity_note": "Peksos mampu mendampingi pendidikan anak.",
    }
    assert editor.sign_box.layout.display == "none"
    assert editor.amend_box.layout.display is None
    assert "C1" in editor.header.value and "v1" in editor.header.value


def test_contract_without_scope_is_refused_next_to_the_scope(store, case_id) -> None:
    editor = ContractEditor(store, case_id)
    editor.capacity_note.value = "mampu"
    before = len(store.events())
    editor.sign_button.click()
    assert set(editor.fb_sign.messages()) == {"in_scope"}
    message = editor.fb_sign["in_scope"].value
    assert "cakupan" in message and "in scope" in message
    assert len(store.events()) == before


def test_contract_without_capacity_is_refused_next_to_the_note(store, case_id) -> None:
    editor = ContractEditor(store, case_id)
    editor.scope["P1"].value = "in"
    before = len(store.events())
    editor.sign_button.click()
    assert set(editor.fb_sign.messages()) == {"capacity_note"}
    assert len(store.events()) == before


def test_amendment_needs_agreement_and_reason(store, case_id) -> None:
    editor = signed(store, case_id)
    before = len(store.events())
    editor.amend_add.value = ("P2",)
    editor.amend_button.click()
    shown = editor.fb_amend.messages()
    assert set(shown) == {"client_agreed", "reason"}
    assert "persetujuan klien" in shown["client_agreed"]
    assert "agreement" in shown["client_agreed"]
    editor.client_agreed.value = True
    editor.amend_button.click()
    assert set(editor.fb_amend.messages()) == {"reason"}
    assert len(store.events()) == before

    editor.amend_reason.value = "Klien minta pendampingan mencari kerja untuk ayah."
    editor.amend_button.click()
    kind, payload = last(store)
    assert kind == "contract_amended"
    assert payload["add"] == ["P2"] and payload["drop"] == [] and payload["client_agreed"] is True
    assert store.case(case_id).contract.in_scope == ("P1", "P2")
    assert not editor.client_agreed.value and editor.amend_reason.value == ""
    # the whole version history is visible
    assert editor.history.value.count("pekso-version") == 2
    assert "Klien minta pendampingan" in editor.history.value


def test_amendment_that_empties_the_scope_is_refused(store, case_id) -> None:
    editor = signed(store, case_id)
    before = len(store.events())
    editor.amend_drop.value = ("P1",)
    editor.client_agreed.value = True
    editor.amend_reason.value = "klien mundur"
    editor.amend_button.click()
    assert len(store.events()) == before
    assert "kosong" in shown_html(editor) or "empty" in shown_html(editor)


def test_refer_an_out_of_scope_problem(store, case_id) -> None:
    editor = signed(store, case_id)
    assert [v for _, v in editor.refer_problem.options] == ["P2", "P3"]
    editor.refer_problem.value = "P2"
    editor.refer_to.value = "Dinas Tenaga Kerja"
    editor.refer_button.click()
    kind, payload = last(store)
    assert kind == "problem_referred"
    assert payload == {"problem_id": "P2", "to": "Dinas Tenaga Kerja"}
    assert "Dinas Tenaga Kerja" in editor.problem_table.value


def test_refer_needs_a_receiver(store, case_id) -> None:
    editor = signed(store, case_id)
    before = len(store.events())
    editor.refer_button.click()
    assert set(editor.fb_refer.messages()) == {"to"}
    assert len(store.events()) == before


def test_close_needs_a_termination_contract_then_reopen(store, case_id) -> None:
    editor = signed(store, case_id)
    checklist = StageChecklist(store, case_id)
    before = len(store.events())
    editor.close_reason.value = "tujuan tercapai"
    editor.close_button.click()
    assert set(editor.fb_close.messages()) == {"termination_contract"}
    assert "kontrak pengakhiran" in editor.fb_close["termination_contract"].value
    assert len(store.events()) == before

    editor.termination_contract.value = "Layanan selesai; anak kembali sekolah."
    editor.close_button.click()
    kind, payload = last(store)
    assert kind == "case_closed"
    assert payload == {
        "termination_contract": "Layanan selesai; anak kembali sekolah.",
        "reason": "tujuan tercapai",
    }
    assert editor.close_box.layout.display == "none"
    assert editor.reopen_box.layout.display is None
    assert all(box.disabled for box in checklist.checkboxes.values())  # the other view follows

    editor.reopen_reason.value = "anak putus sekolah lagi"
    editor.reopen_button.click()
    assert last(store)[0] == "case_reopened"
    assert not store.case(case_id).closed
    assert not any(box.disabled for box in checklist.checkboxes.values())


def test_follow_up_contract_links_to_the_old_one(store, case_id) -> None:
    editor = signed(store, case_id)
    editor.follow_in.value = ("P3",)
    editor.follow_capacity.value = "tim perumahan tersedia"
    editor.follow_reason.value = "layanan baru: perbaikan rumah"
    editor.follow_button.click()
    kind, payload = last(store)
    assert kind == "contract_followed_up"
    assert payload["follows"] == "C1" and payload["in_scope"] == ["P3"]
    state = store.case(case_id)
    assert [c.contract_id for c in state.contracts] == ["C1", "C2"]
    assert state.contracts[0].terminated_at is not None
    assert "C2" in editor.history.value and "C1" in editor.history.value


def test_follow_up_without_reason_is_refused(store, case_id) -> None:
    editor = signed(store, case_id)
    editor.follow_in.value = ("P3",)
    editor.follow_capacity.value = "ok"
    before = len(store.events())
    editor.follow_button.click()
    assert set(editor.fb_follow.messages()) == {"reason"}
    assert len(store.events()) == before


def test_problems_added_elsewhere_appear(store, case_id) -> None:
    editor = ContractEditor(store, case_id)
    store.add_problem(case_id, "masalah baru")
    editor.refresh()
    assert "P4" in editor.scope


def test_user_text_is_escaped(store) -> None:
    case_id = store.open_case(
        XSS, office=XSS, worker="ani", risk="low", referral_source="RT", story=XSS
    )
    store.add_problem(case_id, XSS, category=XSS)
    editor = ContractEditor(store, case_id)
    editor.scope["P1"].value = "in"
    editor.capacity_note.value = XSS
    editor.sign_button.click()
    html = shown_html(editor)
    assert "<img" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 3  # problem, category, capacity


def test_english_labels(store, case_id) -> None:
    set_language("en")
    editor = ContractEditor(store, case_id)
    assert editor.sign_button.description == "Sign the contract"
    editor.scope["P1"].value = "in"
    editor.sign_button.click()
    message = editor.fb_sign.messages()["capacity_note"]
    assert message.index("capacity judgement") < message.index("penilaian kapasitas")


@pytest.mark.parametrize(
    ("method", "button", "store_call", "kind"),
    [
        ("sign", "sign_button", "sign_contract", "contract_signed"),
        ("close_case", "close_button", "close_case", "case_closed"),
    ],
)
def test_a_second_click_while_the_action_runs_is_a_no_op(
    store, case_id, monkeypatch, method, button, store_call, kind
) -> None:
    if kind == "case_closed":
        editor = signed(store, case_id)
        editor.termination_contract.value = "Layanan selesai."
        editor.close_reason.value = "tujuan tercapai"
    else:
        editor = ContractEditor(store, case_id)
        editor.scope["P1"].value = "in"
        editor.capacity_note.value = "mampu"
    widget = getattr(editor, button)
    real = getattr(store, store_call)
    seen: list[object] = []

    def again(*args, **kwargs):
        if not seen:  # once (without the guard, each click would re-enter here)
            seen.append(widget.disabled)
            seen.append(getattr(editor, method)())  # a second click, arriving meanwhile
            widget.click()  # and a third
        return real(*args, **kwargs)

    monkeypatch.setattr(store, store_call, again)
    widget.click()
    assert seen == [True, False]  # disabled while running; the second click wrote nothing
    assert list(store.events()["kind"]).count(kind) == 1
    assert widget.disabled is False
    assert all(
        "pekso-error" not in v
        for fb in (editor.fb_sign, editor.fb_close)
        for v in fb.messages().values()
    )
