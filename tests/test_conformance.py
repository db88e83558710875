"""Forgotten steps at their checkpoints, contract-boundary checks, deviations from the practice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.store import CaseStore

START = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)


class Clock:
    """One minute per reading: every event has its own time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _open(store: CaseStore, ref: str, office: str = "Bandung") -> str:
    return store.open_case(
        ref, office=office, worker="ani", risk="tinggi", referral_source="RT", story="cerita"
    )


def _problems(store: CaseStore, case: str, n: int) -> list[str]:
    return [store.add_problem(case, f"masalah {i}", category="FM") for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    """Three hand-built cases with known departures (see the comments)."""
    s = CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=Clock())
    # A: follows the practice
    a = _open(s, "klien A")
    pa = _problems(s, a, 2)
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        s.tick(a, item)
    s.sign_contract(a, in_scope=pa[:1], out_of_scope=pa[1:], capacity_note="cukup")
    s.refer(a, pa[1], to="Puskesmas")
    s.enter_stage(a, "asesmen")
    s.enter_stage(a, "analisa_masalah")
    for item in ("prioritas_masalah", "analisa_ditulis"):
        s.tick(a, item)
    s.enter_stage(a, "intervensi")
    s.add_plan_step(a, "cari kayu", due="2024-04-01")
    s.enter_stage(a, "terminasi")
    s.tick(a, "kontrak_pengakhiran")
    s.close_case(a, termination_contract="ditandatangani", reason="selesai")
    # B: forgets everything
    b = _open(s, "klien B", office="Garut")
    pb = _problems(s, b, 1)
    s.enter_stage(b, "asesmen")  # left intake without a contract
    s.sign_contract(b, in_scope=pb, capacity_note="terlambat")
    s.add_problem(b, "masalah baru", category="FM")  # added after signing, never amended
    s.add_plan_step(b, "bangun pagar", due="2024-03-02")  # before any analysis
    s.enter_stage(b, "intervensi")  # skips the analysis stage
    # closing with a termination contract ticks "kontrak_pengakhiran": not forgettable here
    s.close_case(b, termination_contract="ditutup", reason="pindah")
    s.reopen(b, reason="kambuh")
    s.enter_stage(b, "intervensi")  # back in service without a new contract
    # C: scope changes; a problem left undecided; an out-of-scope problem never referred
    c = _open(s, "klien C")
    pc = _problems(s, c, 3)
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        s.tick(c, item)
    s.sign_contract(c, in_scope=pc[:1], out_of_scope=pc[1:2], capacity_note="cukup")
    s.enter_stage(c, "asesmen")
    s.enter_stage(c, "analisa_masalah")
    for item in ("prioritas_masalah", "analisa_ditulis"):
        s.tick(c, item)
    s.amend_contract(c, add=[pc[2]], client_agreed=True, reason="klien setuju")
    s.enter_stage(c, "intervensi")  # scope changed, perubahan_cakupan unticked
    s.enter_stage(c, "asesmen")  # moved back
    yield s
    s.close()


def test_forgotten_summary_counts_each_item_among_cases_that_reached_it(store: CaseStore) -> None:
    table = pk.forgotten_summary(store).set_index("item")
    got = {i: (r.n_reached, r.n_forgotten) for i, r in table.iterrows()}
    assert got == {
        "kapasitas_dinilai": (3, 1),  # left intake: A, B, C; forgotten by B
        "kontrak_layanan": (3, 1),
        "prioritas_masalah": (3, 1),  # entered intervention: A, B, C
        "analisa_ditulis": (3, 1),
        "perubahan_cakupan": (1, 1),  # applies to C only (the only scope change)
        "kontrak_pengakhiran": (2, 0),  # closed: A, B, both with a termination contract
    }
    assert table.loc["kontrak_pengakhiran", "share"] == pytest.approx(0.0)
    assert table.loc["analisa_ditulis", "share"] == pytest.approx(1 / 3)
    assert table.loc["kontrak_pengakhiran", "step"] == "termination_contract"
    assert table.loc["kontrak_pengakhiran", "label_en"] == "Termination contract signed"
    assert table.loc["perubahan_cakupan", "checkpoint"] == "scope_changed"
    assert "suppressed" not in table.columns  # min_count=None: no suppression by default


def test_forgotten_steps_names_the_event_where_an_item_was_missed(store: CaseStore) -> None:
    steps = pk.forgotten_steps(store)
    assert len(steps) == 3 * 6
    b = steps[(steps["office"] == "Garut") & steps["forgotten"]].set_index("item")
    assert set(b.index) == {
        "kapasitas_dinilai",
        "kontrak_layanan",
        "prioritas_masalah",
        "analisa_ditulis",
    }
    kinds = store.events(b["case_id"].iloc[0]).set_index("event_id")["kind"]
    assert kinds[b.loc["analisa_ditulis", "event_id"]] == "stage_entered"
    assert kinds[b.loc["kontrak_layanan", "event_id"]] == "stage_entered"
    # nothing of a case that did not reach a checkpoint counts
    assert not steps.loc[~steps["reached"], "forgotten"].any()


def test_forgotten_summary_as_of_and_groups_and_suppression(store: CaseStore) -> None:
    early = pk.forgotten_summary(pk.forgotten_steps(store, as_of=START)).set_index("item")
    assert early["n_reached"].sum() == 0
    by = pk.forgotten_summary(store, by="office", min_count=2)
    garut = by[by["office"] == "Garut"].set_index("item")
    assert pd.isna(garut.loc["analisa_ditulis", "n_forgotten"])  # 1 < 2
    assert pd.isna(garut.loc["analisa_ditulis", "share"])
    assert "n_forgotten" in garut.loc["analisa_ditulis", "suppressed"]


def test_forgotten_summary_refuses_the_flags_table(store: CaseStore) -> None:
    with pytest.raises(ValueError, match="forgotten_steps"):
        pk.forgotten_summary(store.flags())


def test_contract_checks_find_the_boundary_problems(store: CaseStore) -> None:
    found = pk.contract_checks(store)
    got = sorted(zip(found["office"], found["kind"], found["detail"], strict=True))
    assert got == [
        ("Bandung", "out_of_scope_not_referred", "P2"),
        ("Bandung", "undecided_at_signing", "P3 (C1)"),
        ("Garut", "added_without_amendment", "P2"),
        ("Garut", "plan_before_analysis", "S1"),
    ]
    signing = found[found["kind"] == "undecided_at_signing"].iloc[0]
    assert signing["event_kind"] == "contract_signed"


def test_contract_checks_an_amendment_or_referral_settles_the_problem(tmp_path: Path) -> None:
    with CaseStore(tmp_path / "s.sqlite", worker="ani", clock=Clock()) as s:
        c = _open(s, "klien")
        p = _problems(s, c, 1)
        s.sign_contract(c, in_scope=p, capacity_note="cukup")
        later = s.add_problem(c, "masalah baru", category="FM")
        assert list(pk.contract_checks(s)["kind"]) == ["added_without_amendment"]
        s.amend_contract(c, drop=[], add=[later], client_agreed=True, reason="setuju")
        assert pk.contract_checks(s).empty
        s.amend_contract(c, drop=[later], client_agreed=True, reason="di luar kapasitas")
        assert list(pk.contract_checks(s)["kind"]) == ["out_of_scope_not_referred"]
        s.refer(c, later, to="Dinas Kesehatan")
        assert pk.contract_checks(s).empty


def test_deviations_from_a_store(store: CaseStore) -> None:
    dev = pk.deviations(store)
    got = sorted(zip(dev["office"], dev["kind"], dev["detail"].fillna(""), strict=True))
    assert got == [
        ("Bandung", "moved_back", ""),
        ("Garut", "contract_without_boundaries", ""),
        ("Garut", "follow_up_without_new_contract", ""),
        ("Garut", "plan_before_analysis", "S1"),
        ("Garut", "stage_skipped", "analisa_masalah"),
    ]
    back = dev[dev["kind"] == "moved_back"].iloc[0]
    assert (back["from_stage"], back["stage"]) == ("intervensi", "asesmen")
    # B closed with a termination contract, which ticked its item: no departure there
    assert not (dev["kind"] == "closed_without_termination_contract").any()
    assert str(dev["at"].dtype) == "datetime64[ns, UTC]"
    # the A case follows the practice: it appears nowhere
    assert set(dev["case_id"]) == {"K-000002", "K-000003"}


def test_deviations_from_an_event_log_in_any_row_order() -> None:
    rows = [
        ("A", "proses_awal", "2024-01-01"),
        ("A", "asesmen", "2024-01-02"),
        ("A", "intervensi", "2024-01-03"),  # skips analisa_masalah
        ("A", "asesmen", "2024-01-04"),  # moves back
        ("B", "asesmen", "2024-01-01"),  # first stage of a case: not judged
        ("B", "analisa_masalah", "2024-01-02"),
        ("B", "ditutup", "2024-01-03"),  # closing from any stage: fine
        ("B", "dibuka_kembali", "2024-01-04"),
        ("B", "terminasi", "2024-01-05"),  # first stage after reopening: not judged
        ("C", "proses_awal", "2024-01-01"),
        ("C", "terminasi", "2024-01-01"),  # same instant: stage order, skips three stages
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame["office"] = frame["case_id"].map({"A": "X", "B": "Y", "C": "X"})
    log = pk.load_events(frame)
    dev = pk.deviations(log)
    assert list(zip(dev["case_id"], dev["kind"], dev["detail"], strict=True)) == [
        ("A", "stage_skipped", "analisa_masalah"),
        ("A", "moved_back", ""),
        ("C", "stage_skipped", "asesmen;analisa_masalah;intervensi"),
    ]
    assert dev["event_id"].isna().all() and (dev["event_kind"] == "stage").all()
    assert list(dev["office"]) == ["X", "X", "X"]
    shuffled = log.events.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(pk.deviations(shuffled), dev)
    assert len(pk.deviations(log, as_of="2024-01-03 12:00")) == 2


def test_deviation_summary_by_office_and_month() -> None:
    rows = []
    for i in range(27):
        rows += [(f"K{i}", "proses_awal", "2024-01-01"), (f"K{i}", "intervensi", "2024-01-05")]
    rows += [("Z", "proses_awal", "2024-02-01"), ("Z", "analisa_masalah", "2024-02-03")]
    rows += [("Z", "asesmen", "2024-02-04")]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame["office"] = ["Y" if r[0] == "Z" else "X" if int(r[0][1:]) < 15 else "W" for r in rows]
    dev = pk.deviations(pk.load_events(frame))
    table = pk.deviation_summary(dev, by="month")
    got = {(r.month, r.kind): (r.n_cases, r.n_deviations) for r in table.itertuples()}
    assert got == {
        ("2024-01", "stage_skipped"): (27, 27),
        ("2024-02", "stage_skipped"): (1, 1),
        ("2024-02", "moved_back"): (1, 1),
    }
    published = pk.deviation_summary(dev, by="office", min_count=11).set_index(["office", "kind"])
    assert published.loc[("X", "stage_skipped"), "n_cases"] == 15
    assert pd.isna(published.loc[("Y", "stage_skipped"), "n_cases"])  # 1 case
    assert pd.isna(published.loc[("W", "stage_skipped"), "n_cases"])  # its complement
    with pytest.raises(ValueError, match="category"):
        pk.deviation_summary(dev, by="category")


def test_deviation_summary_by_kind() -> None:
    rows = [("A", "proses_awal", "2024-01-01"), ("A", "intervensi", "2024-01-05")]
    rows += [("B", "proses_awal", "2024-01-01"), ("B", "intervensi", "2024-01-02")]
    rows += [("B", "asesmen", "2024-01-03"), ("C", "proses_awal", "2024-02-01")]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame["office"] = ["X", "X", "X", "Y", "Y", "Y"]
    dev = pk.deviations(pk.load_events(frame))
    table = pk.deviation_summary(dev, by="kind")
    assert list(table.columns) == ["kind", "label_id", "label_en", "n_cases", "n_deviations"]
    assert table["kind"].tolist() == ["stage_skipped", "moved_back"]
    assert table["n_cases"].tolist() == [2, 1] and table["n_deviations"].tolist() == [2, 1]
    assert table["label_en"].notna().all() and (table["label_id"] != table["label_en"]).all()
    both = pk.deviation_summary(dev, by=["office", "kind"])
    assert list(both.columns[:4]) == ["office", "kind", "label_id", "label_en"]
    got = {(r.office, r.kind): r.n_cases for r in both.itertuples()}
    assert got == {("X", "stage_skipped"): 1, ("Y", "stage_skipped"): 1, ("Y", "moved_back"): 1}
    kind_first = pk.deviation_summary(dev, by=["kind", "office"])
    assert list(kind_first.columns[:4]) == ["kind", "office", "label_id", "label_en"]
    assert kind_first["n_cases"].sum() == 3


def test_imported_cases_give_stage_deviations_only(tmp_path: Path) -> None:
    rows = [
        ("A", "proses_awal", "2024-01-01"),
        ("A", "intervensi", "2024-01-03"),
        ("A", "ditutup", "2024-01-04"),
    ]
    log = pk.load_events(pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"]))
    with CaseStore(tmp_path / "i.sqlite", worker="ani") as s:
        s.import_events(log)
        assert pk.forgotten_steps(s).empty  # no checklist for imported cases
        assert pk.contract_checks(s).empty
        dev = pk.deviations(s)
        assert list(dev["kind"]) == ["stage_skipped"]
        assert dev["detail"].iloc[0] == "asesmen;analisa_masalah"


def test_empty_store_gives_empty_tables(tmp_path: Path) -> None:
    with CaseStore(tmp_path / "e.sqlite", worker="ani") as s:
        assert list(pk.forgotten_summary(s).columns)[:3] == ["step", "step_label", "item"]
        assert pk.forgotten_summary(s).empty
        assert pk.deviations(s).empty and pk.contract_checks(s).empty
        assert pk.worklist(s).empty


def test_forgotten_steps_agree_with_the_folded_cases(tmp_path: Path) -> None:
    s = pk.datasets.synthesize_store(tmp_path / "syn.sqlite", 60, seed=3, as_of="2025-06-30")
    steps = pk.forgotten_steps(s).set_index(["case_id", "item"])
    flags = s.flags().set_index("case_id")
    for case_id in s.case_ids():
        state = s.case(case_id)
        term = steps.loc[(case_id, "kontrak_pengakhiran")]
        assert term["reached"] == bool(state.closures)
        missed = any("kontrak_pengakhiran" in c.unticked_forgotten for c in state.closures)
        assert term["forgotten"] == missed
        scope = steps.loc[(case_id, "perubahan_cakupan")]
        if state.n_amendments == 0:  # the scope never changed: does not apply
            assert not scope["reached"] and not scope["forgotten"]
        contract = steps.loc[(case_id, "kontrak_layanan")]
        left = any(e.stage not in ("proses_awal", "dibuka_kembali") for e in state.stages)
        assert contract["reached"] == left
        if flags.loc[case_id, "no_contract_scope"]:
            assert contract["reached"]
    s.close()
