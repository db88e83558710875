"""The supervisor's internal worklist: past target, forgotten steps, overdue plan steps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.store import CaseStore

NOW = datetime(2024, 2, 29, 17, 0, tzinfo=UTC)  # 2024-03-01 00:00 WIB


def _open(store: CaseStore, ref: str, at: str) -> str:
    return store.open_case(
        ref, office="Bandung", worker="ani", risk="tinggi", referral_source="RT", story="x", at=at
    )


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    s = CaseStore(tmp_path / "w.sqlite", worker="ani", clock=lambda: NOW)
    # A: in intake since 2024-02-01 (target 7 days), everything else in order
    a = _open(s, "klien A", "2024-02-01")
    p = s.add_problem(a, "masalah", category="FM", at="2024-02-01")
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        s.tick(a, item, at="2024-02-01")
    s.sign_contract(a, in_scope=[p], capacity_note="cukup", at="2024-02-01")
    # B: forgot the capacity judgement and the analysis, a plan step overdue
    b = _open(s, "klien B", "2024-02-20")
    p = s.add_problem(b, "masalah", category="FM", at="2024-02-20")
    s.sign_contract(b, in_scope=[p], capacity_note="cukup", at="2024-02-20")
    s.enter_stage(b, "asesmen", at="2024-02-21")
    s.enter_stage(b, "analisa_masalah", at="2024-02-22")
    s.enter_stage(b, "intervensi", at="2024-02-23")
    s.add_plan_step(b, "bangun pagar", due="2024-02-25", at="2024-02-23")
    s.tick(b, "analisa_ditulis", at="2024-02-24")  # made up for later: not on the list
    # C: closed, with forgotten steps: a closed case is not on the list
    c = _open(s, "klien C", "2024-01-01")
    s.enter_stage(c, "asesmen", at="2024-01-05")
    s.close_case(c, termination_contract="selesai", reason="pindah", at="2024-01-10")
    return s


def test_worklist_lists_what_each_open_case_needs(store: CaseStore) -> None:
    wl = pk.worklist(store)
    assert wl.attrs["internal"] is True
    assert wl.attrs["as_of"] == pd.Timestamp(NOW)
    got = sorted(zip(wl["case_id"], wl["task"], wl["what"], strict=True))
    assert got == [
        ("K-000001", "past_target", "proses_awal"),
        ("K-000002", "contract_check", "plan_before_analysis"),
        ("K-000002", "forgotten_step", "kapasitas_dinilai"),
        # "kontrak_layanan" is not forgotten: signing the contract ticked it
        ("K-000002", "forgotten_step", "prioritas_masalah"),
        ("K-000002", "overdue_plan_step", "S1"),
    ]
    assert list(wl["days_late"]) == sorted(wl["days_late"], reverse=True)
    assert (wl["days_late"] > 0).all()
    assert "K-000001" in wl.loc[0, "open_with"]
    plan = wl[wl["task"] == "overdue_plan_step"].iloc[0]
    assert plan["days_late"] == pytest.approx(5.0)  # due 2024-02-25 WIB, now 2024-03-01 WIB
    assert set(wl["stage"]) == {"proses_awal", "intervensi"}


def test_worklist_reads_stays_from_time_in_stage(store: CaseStore) -> None:
    wl = pk.worklist(store, as_of="2024-02-20")
    stays = pk.time_in_stage(store.stage_events(), as_of="2024-02-20")
    a = stays[(stays["case_id"] == "K-000001") & ~stays["observed"]].iloc[0]
    row = wl[wl["task"] == "past_target"].set_index("case_id").loc["K-000001"]
    assert row["days_late"] == pytest.approx(a["days"] - 7)
    # as_of before B's events: B's later forgetting is not known yet
    assert "K-000002" not in set(wl["case_id"])


def test_worklist_and_board_agree_on_stays_of_reopened_cases_and_units(tmp_path: Path) -> None:
    """The worklist's stage and lateness are the board's: both read the open stays of
    time_in_stage, in the unit of the model's targets (working days here)."""
    import dataclasses

    from pekso_toolkit.core.stages import StageModel
    from pekso_toolkit.widgets import CaseBoard

    model = dataclasses.replace(StageModel.default(), target_unit="working")
    s = CaseStore(tmp_path / "r.sqlite", worker="ani", model=model, clock=lambda: NOW)
    waiting = _open(s, "klien R", "2024-01-02")
    s.close_case(waiting, termination_contract="selesai", reason="r", at="2024-01-05")
    s.reopen(waiting, reason="kambuh", at="2024-01-08")  # no stage since: no open stay
    again = _open(s, "klien S", "2023-12-01")
    s.close_case(again, termination_contract="selesai", reason="r", at="2023-12-05")
    s.reopen(again, reason="kambuh", at="2023-12-06")
    s.enter_stage(again, "asesmen", at="2024-01-02")  # asesmen again, since 2024-01-02
    wl = pk.worklist(s, as_of="2024-02-01")
    frame = CaseBoard(s, as_of="2024-02-01").frame().set_index("case_id")
    stays = pk.time_in_stage(s.stage_events(), as_of="2024-02-01", days="working")
    open_stay = stays[~stays["observed"]].set_index("case_id").loc[again]

    assert set(wl.loc[wl["case_id"] == waiting, "stage"]) == {"dibuka_kembali"}
    assert frame.loc[waiting, "stage"] == "dibuka_kembali"
    assert waiting not in set(wl.loc[wl["task"] == "past_target", "case_id"])
    late = wl[wl["task"] == "past_target"].set_index("case_id").loc[again]
    assert late["since"] == open_stay["entered_at"] == frame.loc[again, "entered_at"]
    target = model.targets["asesmen"]
    assert late["days_late"] == pytest.approx(open_stay["days"] - target)
    assert late["days_late"] == pytest.approx(frame.loc[again, "days_in_stage"] - target)
    assert open_stay["days"] < 31 - 8  # working days: weekends do not count
