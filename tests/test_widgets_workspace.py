"""CaseWorkspace: the store's location, a case picker, and carrying on after a restart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pekso_toolkit.store import CaseStore
from pekso_toolkit.widgets import CaseWorkspace, IntakeForm

OFFICES = ["Kota Bandung", "Kab. Garut"]


def _open_with(form: IntakeForm, ref: str) -> None:
    values = {
        "client_ref": ref,
        "office": "Kab. Garut",
        "worker": "ani",
        "risk": "high",
        "referral_source": "Ketua RT 04",
        "story": "Ibu S. datang dengan tiga anak.",
        "opened": date(2025, 1, 2),
    }
    for name, value in values.items():
        getattr(form, name).value = value
    form.open_button.click()


def test_a_new_case_is_chosen_and_shown_with_its_checklist_and_contract(tmp_path: Path) -> None:
    with CaseStore(tmp_path / "kasus.sqlite", worker="ani") as store:
        page = CaseWorkspace(store, offices=OFFICES)
        assert page.case_picker.value == "" and page.checklist is None
        assert str((tmp_path / "kasus.sqlite").resolve()) in page.location.value
        assert "(0 kasus)" in page.location.value
        assert page.intake is not None
        _open_with(page.intake, "KLIEN-1")
        assert page.case_picker.value == "K-000001"
        assert page.checklist is not None and page.contract is not None
        assert "(1 kasus)" in page.location.value
        # a case opened by another widget on the same store appears in the picker
        other = IntakeForm(store, offices=OFFICES)
        _open_with(other, "KLIEN-2")
        assert [v for _, v in page.case_picker.options] == ["", "K-000002", "K-000001"]
        assert page.case_picker.value == "K-000001"  # the shown case stays shown


def test_after_a_restart_the_worker_picks_the_case_and_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "kasus.sqlite"
    with CaseStore(path, worker="ani") as store:
        page = CaseWorkspace(store, offices=OFFICES)
        assert page.intake is not None
        _open_with(page.intake, "KLIEN-1")
        assert page.checklist is not None
        page.checklist.tick("rujukan_dicatat")
    # a new kernel: a new store object on the same file, a new page
    with CaseStore(path, worker="ani") as store:
        page = CaseWorkspace(store, offices=OFFICES)
        assert [v for _, v in page.case_picker.options] == ["", "K-000001"]
        page.case_picker.value = "K-000001"
        assert page.checklist is not None
        assert "rujukan_dicatat" in store.case("K-000001").ticked
        page.checklist.tick("tingkat_risiko")
        assert {"rujukan_dicatat", "tingkat_risiko"} <= store.case("K-000001").ticked
        # or straight to a case
        assert CaseWorkspace(store, case_id="K-000001").checklist is not None
