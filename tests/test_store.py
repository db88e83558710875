"""Case store: recording, folding, analysis tables, import/export round trips, identity kept out."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.datasets import synthesize
from pekso_toolkit.events.eventlog import EventLog, load_events
from pekso_toolkit.store import CaseStore, RecordError
from pekso_toolkit.store.fold import fold
from pekso_toolkit.store.records import Event

START = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)


class Clock:
    """A clock that moves one minute per reading, so every event has its own time."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    s = CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=Clock())
    yield s
    s.close()


def open_case(store: CaseStore, ref: str = "NIK 3201-xyz Budi", **kw: object) -> str:
    args = dict(
        office="Bandung",
        worker="ani",
        risk="tinggi",
        referral_source="Ketua RT",
        story="Kambing hilang, bunga layu, anak putus sekolah.",
    )
    args.update(kw)
    return store.open_case(ref, **args)  # type: ignore[arg-type]


def stored_events(store: CaseStore, case_id: str) -> list[Event]:
    with store._read() as conn:
        return store._events_of(conn, case_id)


# ----------------------------------------------------------------------------------- recording
def test_open_case_enters_first_stage_with_readable_ids(store: CaseStore) -> None:
    first = open_case(store, at=datetime(2024, 2, 1, 9, 0))  # naive: Asia/Jakarta
    second = open_case(store, ref="other")
    assert (first, second) == ("K-000001", "K-000002")
    state = store.case(first)
    assert state.stage == "proses_awal"
    assert state.stage_entered_at == datetime(2024, 2, 1, 2, 0, tzinfo=UTC)
    assert state.opened_at == state.stage_entered_at
    assert (state.office, state.worker, state.risk) == ("Bandung", "ani", "high")
    assert not state.closed and state.source == "recorded"
    assert state.client_ref is None


def test_full_case_folds_to_expected_state(store: CaseStore) -> None:
    cid = open_case(store)
    p1 = store.add_problem(cid, "Kambing hilang", category="KTK", severity="sedang")
    p2 = store.add_problem(cid, "Bunga layu", category="FM")
    p3 = store.add_problem(cid, "Anak putus sekolah", category="AT", severity="high")
    assert (p1, p2, p3) == ("P1", "P2", "P3")
    c1 = store.sign_contract(cid, in_scope=[p1], out_of_scope=[p2], capacity_note="mampu P1")
    store.refer(cid, p2, to="Dinas Pertanian")
    assert store.amend_contract(cid, add=[p3], client_agreed=True, reason="klien minta") == 2
    assert store.amend_contract(cid, drop=[p1], client_agreed=True, reason="selesai") == 3
    for item in ("kapasitas_dinilai", "kontrak_layanan"):
        store.tick(cid, item)
    store.enter_stage(cid, "asesmen")
    store.enter_stage(cid, "analisa_masalah")
    store.tick(cid, "analisa_ditulis")
    store.enter_stage(cid, "intervensi")
    s1 = store.add_plan_step(cid, "Cari kayu", due="2024-04-01")
    s2 = store.add_plan_step(cid, "Bangun pagar", due=datetime(2024, 4, 15))
    store.complete_step(cid, s1)
    store.enter_stage(cid, "terminasi")
    store.close_case(cid, termination_contract="Kontrak pengakhiran no. 7", reason="tuntas")

    state = store.case(cid)
    assert state.closed and state.stage == "ditutup"
    contract = state.contracts[0]
    assert contract.contract_id == c1 and not contract.active
    assert [v.in_scope for v in contract.versions] == [("P1",), ("P1", "P3"), ("P3",)]
    assert [v.out_of_scope for v in contract.versions] == [("P2",), ("P2",), ("P2", "P1")]
    assert contract.versions[2].reason == "selesai" and contract.versions[2].client_agreed
    assert contract.termination == "Kontrak pengakhiran no. 7"
    scopes = {p.problem_id: (p.scope, p.referred_to, p.n_amendments) for p in state.problems}
    assert scopes == {
        "P1": ("out", None, 1),
        "P2": ("out", "Dinas Pertanian", 0),
        "P3": ("in", None, 1),
    }
    assert state.primary_category == "AT"  # the first in-scope problem with a category
    assert [s.step_id for s in state.plan_steps] == [s1, s2]
    assert state.step(s1).completed_at is not None and state.step(s2).completed_at is None
    assert state.ticked == {"kapasitas_dinilai", "kontrak_layanan", "analisa_ditulis"}
    assert [e.stage for e in state.stages] == [
        "proses_awal",
        "asesmen",
        "analisa_masalah",
        "intervensi",
        "terminasi",
        "ditutup",
    ]
    # analysis was recorded, a contract was signed; unticked often-forgotten items at closing
    assert [f.flag for f in state.flags] == ["closed_without_termination_items"]
    assert state.flags[0].items == ("prioritas_masalah", "perubahan_cakupan", "kontrak_pengakhiran")


def test_follow_up_contract_follows_the_old_one(store: CaseStore) -> None:
    cid = open_case(store)
    p1 = store.add_problem(cid, "a")
    p2 = store.add_problem(cid, "b")
    store.sign_contract(cid, in_scope=[p1], capacity_note="ok")
    c2 = store.follow_up(
        cid,
        in_scope=[p2],
        capacity_note="masih mampu",
        reason="kebutuhan baru",
        termination_contract="pengakhiran C1",
    )
    state = store.case(cid)
    old, new = state.contracts
    assert (c2, new.follows, new.active) == ("C2", "C1", True)
    assert old.terminated_at is not None and old.termination == "pengakhiran C1"
    assert state.active_contract is new
    # closing then reopening: the new contract is ended by the termination contract
    store.close_case(cid, termination_contract="TC", reason="selesai")
    store.reopen(cid, reason="kambuh")
    c3 = store.follow_up(cid, in_scope=[p1], capacity_note="ok", reason="lagi")
    assert store.case(cid).contracts[-1].follows == "C2" and c3 == "C3"


def test_untick_and_correct_keep_the_history(store: CaseStore) -> None:
    cid = open_case(store)
    tick = store.tick(cid, "tingkat_risiko")
    store.untick(cid, "tingkat_risiko")
    assert "tingkat_risiko" not in store.case(cid).ticked
    store.tick(cid, "tingkat_risiko")
    assert "tingkat_risiko" in store.case(cid).ticked
    moved = store.enter_stage(cid, "asesmen")
    fix = store.correct(cid, moved, reason="salah klik")
    state = store.case(cid)
    assert state.stage == "proses_awal" and moved in state.voided
    history = store.history(cid)
    assert len(history) == 6  # nothing disappeared
    row = history.set_index("event_id").loc[moved]
    assert row["voided_by"] == fix
    assert "salah klik" in history.set_index("event_id").loc[fix, "description"]
    assert history["event_id"].tolist() == sorted(history["event_id"])
    assert tick in history["event_id"].tolist()
    # the voided stage entry is not a stay
    assert store.stage_events().events["stage"].astype(str).tolist() == ["proses_awal"]


def test_corrections_that_would_break_the_record_are_refused(store: CaseStore) -> None:
    cid = open_case(store)
    p1 = store.add_problem(cid, "a")
    p2 = store.add_problem(cid, "b")
    store.sign_contract(cid, in_scope=[p1], capacity_note="ok")
    amend = store.amend_contract(cid, add=[p2], client_agreed=True, reason="r")
    assert amend == 2
    events = {e.kind: e.event_id for e in stored_events(store, cid)}
    with pytest.raises(RecordError, match="P1 is used by event"):
        store.correct(cid, events["problem_added"] - 1, reason="x")
    with pytest.raises(RecordError, match="opening"):
        store.correct(cid, events["case_opened"], reason="x")
    with pytest.raises(RecordError, match="does not belong"):
        store.correct(cid, 10_000, reason="x")
    step_entry = store.enter_stage(cid, "asesmen")
    store.enter_stage(cid, "analisa_masalah")
    with pytest.raises(RecordError, match="latest stage change"):
        store.correct(cid, step_entry, reason="x")
    fix = store.correct(cid, events["contract_amended"], reason="klien batal")
    with pytest.raises(RecordError, match="already voided"):
        store.correct(cid, events["contract_amended"], reason="x")
    with pytest.raises(RecordError, match="correction cannot"):
        store.correct(cid, fix, reason="x")
    assert store.case(cid).contract.in_scope == ("P1",)


def test_at_in_the_future_or_before_opening_is_refused(store: CaseStore) -> None:
    cid = open_case(store)
    n = len(store.events())
    with pytest.raises(RecordError, match="in the future"):
        store.tick(cid, "tingkat_risiko", at=datetime(2100, 1, 1, tzinfo=UTC))
    with pytest.raises(RecordError, match="earlier than"):
        store.tick(cid, "tingkat_risiko", at="2020-01-01")
    with pytest.raises(RecordError, match="not a recognised time"):
        store.tick(cid, "tingkat_risiko", at="kemarin sore")
    assert len(store.events()) == n


# ----------------------------------------------------------------------------------- folding
def test_fold_is_deterministic_and_state_is_frozen(store: CaseStore) -> None:
    cid = open_case(store)
    store.add_problem(cid, "a", category="AT")
    store.sign_contract(cid, in_scope=["P1"], capacity_note="ok")
    store.tick(cid, "kontrak_layanan")
    store.enter_stage(cid, "asesmen")
    events = stored_events(store, cid)
    state = store.case(cid)
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    assert fold(shuffled, store.model) == state
    assert fold(events, store.model) == fold(events, store.model)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.stage = "ditutup"  # type: ignore[misc]
    with pytest.raises(ValueError, match="one case"):
        fold([*events, dataclasses.replace(events[0], case_id="other")], store.model)


# ----------------------------------------------------------------------------------- tables
def build_random_store(store: CaseStore, n_cases: int, seed: int) -> None:
    """Many cases driven through random but valid histories (skips, rework, corrections)."""
    rng = random.Random(seed)
    model = store.model
    helping = [s.id for s in model.helping_stages]
    items = [i.id for s in model.helping_stages for i in s.checklist]
    for k in range(n_cases):
        cid = open_case(store, ref=f"ref-{k}", office=rng.choice(["A", "B"]), worker=f"w{k % 3}")
        n_problems = rng.randint(0, 3)
        for j in range(n_problems):
            store.add_problem(cid, f"masalah {j}", category=rng.choice([None, "AT", "KTK", "FM"]))
        if n_problems and rng.random() < 0.8:
            store.sign_contract(cid, in_scope=["P1"], capacity_note="ok")
            if n_problems > 1 and rng.random() < 0.5:
                store.amend_contract(cid, add=["P2"], client_agreed=True, reason="r")
        for _ in range(rng.randint(0, 12)):
            state = store.case(cid)
            roll = rng.random()
            if state.closed:
                if roll < 0.5:
                    store.reopen(cid, reason="lagi")
                continue
            if roll < 0.4:
                item = rng.choice(items)
                if item in state.ticked:
                    store.untick(cid, item)
                else:
                    store.tick(cid, item)
            elif roll < 0.8:
                choices = [s for s in helping if s != state.stage]
                store.enter_stage(cid, rng.choice(choices))
            elif roll < 0.88:
                store.close_case(cid, termination_contract="TC", reason="selesai")
            else:
                live = [e for e in stored_events(store, cid) if e.event_id not in state.voided]
                last = live[-1]
                if last.kind in ("item_ticked", "stage_entered"):
                    store.correct(cid, last.event_id, reason="salah")


def test_tables_agree_with_the_fold_case_by_case(store: CaseStore) -> None:
    build_random_store(store, n_cases=40, seed=11)
    cases = store.cases().set_index("case_id")
    flags = store.flags().set_index("case_id")
    problems = store.problems()
    assert list(problems.columns) == [
        "case_id",
        "problem_id",
        "category",
        "severity",
        "scope",
        "referred_to",
        "n_amendments",
    ]
    seen_flags = 0
    for cid in store.case_ids():
        state = store.case(cid)
        row = cases.loc[cid]
        assert row["stage"] == state.stage
        assert row["stage_entered_at"] == state.stage_entered_at
        assert row["opened_at"] == state.opened_at
        assert (pd.isna(row["closed_at"]) and not state.closed) or row[
            "closed_at"
        ] == state.closed_at
        assert row["n_problems"] == len(state.problems)
        assert row["n_amendments"] == state.n_amendments
        assert row["n_contracts"] == len(state.contracts)
        assert row["n_reopened"] == len(state.reopenings)
        assert row["n_events"] == state.n_events
        expected_cat = state.primary_category
        assert (pd.isna(row["primary_category"]) and expected_cat is None) or (
            row["primary_category"] == expected_cat
        )
        f = flags.loc[cid]
        for name in ("no_contract_scope", "skipped_analysis", "closed_without_termination_items"):
            assert bool(f[name]) == state.has_flag(name), (cid, name)
            seen_flags += state.has_flag(name)
        closes = [x for x in state.flags if x.flag == "closed_without_termination_items"]
        expected_items = ";".join(closes[-1].items) if closes else None
        assert (pd.isna(f["unticked_at_close"]) and expected_items is None) or (
            f["unticked_at_close"] == expected_items
        )
        mine = problems[problems["case_id"] == cid]
        assert mine["problem_id"].tolist() == [p.problem_id for p in state.problems]
        assert mine["scope"].fillna("").tolist() == [p.scope or "" for p in state.problems]
    assert seen_flags > 10  # the random histories did exercise the flags


def test_flags_count_the_forgotten_steps(store: CaseStore) -> None:
    skipped = open_case(store)  # no contract, straight to intervention
    store.enter_stage(skipped, "asesmen")
    store.enter_stage(skipped, "intervensi")
    careful = open_case(store, ref="r2")
    store.add_problem(careful, "a")
    store.sign_contract(careful, in_scope=["P1"], capacity_note="ok")
    store.enter_stage(careful, "analisa_masalah")
    store.tick(careful, "prioritas_masalah")
    store.enter_stage(careful, "intervensi")
    for _, item in store.model.forgotten_items:
        if item.id not in store.case(careful).ticked:
            store.tick(careful, item.id)
    store.close_case(careful, termination_contract="TC", reason="ok")
    ticked_late = open_case(store, ref="r3")  # analysis stage entered but nothing ticked
    store.add_problem(ticked_late, "a")
    store.sign_contract(ticked_late, in_scope=["P1"], capacity_note="ok")
    store.enter_stage(ticked_late, "analisa_masalah")
    store.enter_stage(ticked_late, "intervensi")
    store.tick(ticked_late, "analisa_ditulis")  # too late: already in intervention
    store.close_case(ticked_late, termination_contract="TC", reason="ok")

    flags = store.flags().set_index("case_id")
    assert flags.loc[skipped, ["no_contract_scope", "skipped_analysis"]].tolist() == [True, True]
    assert not flags.loc[skipped, "closed_without_termination_items"]
    assert flags.loc[careful, "n_flags"] == 0
    assert flags.loc[ticked_late, "skipped_analysis"]
    assert flags.loc[ticked_late, "closed_without_termination_items"]
    # the signed contract ticked "kontrak_layanan" by itself: it is not reported as forgotten
    assert flags.loc[ticked_late, "unticked_at_close"] == (
        "kapasitas_dinilai;prioritas_masalah;perubahan_cakupan;kontrak_pengakhiran"
    )
    assert flags["n_flags"].tolist() == [2, 0, 2]


def test_checklist_and_history_frames(store: CaseStore) -> None:
    cid = open_case(store)
    store.tick(cid, "kontrak_layanan", by="budi")
    checklist = store.checklist(cid)
    n_items = sum(len(s.checklist) for s in store.model.stages)
    assert len(checklist) == n_items
    row = checklist.set_index("item").loc["kontrak_layanan"]
    assert bool(row["ticked"]) and row["ticked_by"] == "budi"
    assert row["forgotten"] == "contract_boundaries" and row["stage"] == "proses_awal"
    assert checklist["ticked"].sum() == 1
    assert store.checklist(cid, lang="en").set_index("item").loc["kontrak_layanan", "label"] == (
        "Service contract signed: problems in scope and out of scope"
    )
    history = store.history(cid, lang="en")
    assert history["recorded_by"].tolist() == ["ani", "budi"]
    assert history["description"].iloc[1].startswith("Ticked: Service contract signed")
    assert store.history(cid)["description"].iloc[1].startswith("Dicentang: Kontrak layanan")


def test_repr_html_escapes_user_text_and_hides_the_client(store: CaseStore) -> None:
    cid = open_case(store, ref="<b>Siti</b>", story="<script>alert(1)</script>")
    store.add_problem(cid, "<img src=x onerror=alert(1)>", category="<i>AT</i>")
    html_text = store.case(cid)._repr_html_()
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "<img" not in html_text and "<i>AT" not in html_text
    assert "Siti" not in html_text
    shown = store.case(cid, with_client=True)
    assert shown.client_ref == "<b>Siti</b>"
    assert "&lt;b&gt;Siti&lt;/b&gt;" in shown._repr_html_()
    assert "Siti" not in repr(shown)


# ----------------------------------------------------------------------------------- import
def test_import_then_stage_events_round_trip(tmp_path: Path) -> None:
    store = CaseStore(tmp_path / "c.sqlite", worker="ani", clock=Clock(datetime(2025, 7, 1)))
    log = synthesize(60, seed=5, as_of="2025-06-30")
    written = store.import_events(log)
    assert written == len(log.events)
    out = store.stage_events()
    assert isinstance(out, EventLog)
    cols = ["case_id", "stage", "timestamp", "office", "worker", "category"]
    expected = log.events[cols].astype(
        {"office": "string", "worker": "string", "category": "string"}
    )
    pd.testing.assert_frame_equal(out.events[cols], expected)
    assert out.events["stage"].dtype == store.model.dtype
    # cases() knows the imported cases; flags are unknown for them
    cases = store.cases().set_index("case_id")
    assert set(cases.index) == set(log.events["case_id"])
    assert (cases["source"] == "imported").all()
    last = log.events.groupby("case_id").tail(1).set_index("case_id")
    assert (cases["stage"].astype(str) == last["stage"].astype(str).reindex(cases.index)).all()
    assert store.flags()["no_contract_scope"].isna().all()
    # the extra column risk is kept in the payload
    payload = json.loads(store.events()["payload"].iloc[0])
    assert set(payload) == {"office", "worker", "category", "risk"}


def test_import_is_refused_for_existing_cases_unless_appending(store: CaseStore) -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["A-1", "A-1", "A-2"],
            "stage": ["proses_awal", "asesmen", "proses_awal"],
            "timestamp": ["2024-01-02 08:00", "2024-01-09 08:00", "2024-01-03"],
            "office": ["X", "X", None],
        }
    )
    log = load_events(frame)
    assert store.import_events(log) == 3
    with pytest.raises(RecordError, match="already in the store"):
        store.import_events(log)
    assert len(store.events()) == 3
    later = load_events(frame.iloc[[1]].assign(stage="intervensi", timestamp="2024-02-01"))
    assert store.import_events(later, on_existing="append") == 1
    assert store.case("A-1").stage == "intervensi"
    assert pd.isna(store.stage_events().events["office"].iloc[-1])  # A-2 had no office
    # the loader rejects such rows already; an EventLog built in memory reaches the store as is
    future = EventLog(events=frame.assign(case_id="B", timestamp="2030-01-01"))
    with pytest.raises(RecordError, match="in the future"):
        store.import_events(future)
    with pytest.raises(RecordError, match="EventLog"):
        store.import_events(frame)


def test_recorded_cases_in_stage_events(store: CaseStore) -> None:
    cid = open_case(store, office="Kupang", worker="wati")
    store.add_problem(cid, "a", category="FM")
    store.add_problem(cid, "b", category="AT")
    store.sign_contract(cid, in_scope=["P2"], capacity_note="ok")
    store.enter_stage(cid, "asesmen")
    store.close_case(cid, termination_contract="TC", reason="r")
    store.reopen(cid, reason="r")
    ev = store.stage_events().events
    assert ev["stage"].astype(str).tolist() == [
        "proses_awal",
        "asesmen",
        "ditutup",
        "dibuka_kembali",
    ]
    assert set(ev["office"]) == {"Kupang"} and set(ev["worker"]) == {"wati"}
    assert set(ev["category"]) == {"AT"}  # P2 is the in-scope problem
    assert ev["timestamp"].is_monotonic_increasing


# ----------------------------------------------------------------------------------- identity
def all_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_client_reference_never_leaves_the_store(store: CaseStore, tmp_path: Path) -> None:
    refs = [f"NIK-32010{k}-SITI-AMINAH-{k}" for k in range(5)]
    for ref in refs:
        cid = open_case(store, ref=ref, story=f"cerita rahasia {ref[:3]}")
        store.add_problem(cid, "masalah", category="AT")
        store.enter_stage(cid, "asesmen")
    assert store.case("K-000003", with_client=True).client_ref == refs[2]
    frames = [
        store.cases(),
        store.events(),
        store.problems(text=True),
        store.flags(),
        store.stage_events().events,
        store.history("K-000001"),
    ]
    for frame in frames:
        text = frame.to_csv()
        assert not any(ref in text for ref in refs)
    for payload in store.events()["payload"]:
        assert "SITI" not in payload and "client" not in json.loads(payload)
    out = store.export(tmp_path / "export" / "analysis.sqlite")
    data = all_bytes(out)
    assert data and not any(ref.encode() in data for ref in refs)
    assert b"cerita rahasia" not in data  # free text left out by default
    with_text = store.export(tmp_path / "export" / "with_text.sqlite", include_text=True)
    data = all_bytes(with_text)
    assert b"cerita rahasia" in data and not any(ref.encode() in data for ref in refs)
    # the export answers the same analysis questions and refuses recording
    copy = CaseStore(out, worker="peneliti")
    assert copy.role == "export"
    pd.testing.assert_frame_equal(copy.cases(), store.cases())
    pd.testing.assert_frame_equal(copy.stage_events().events, store.stage_events().events)
    assert copy.problems(text=True)["text"].isna().all()
    with pytest.raises(StoreError, match="read-only"):
        copy.tick("K-000001", "kontrak_layanan")
    copy.close()
    with pytest.raises(StoreError, match="already exists"):
        store.export(out)
    store.export(out, overwrite=True)


def test_empty_store_tables_have_their_columns(store: CaseStore) -> None:
    assert store.cases().empty and "primary_category" in store.cases().columns
    assert store.problems().empty and store.flags().empty
    log = store.stage_events()
    assert len(log.events) == 0 and list(log.events.columns[:3]) == [
        "case_id",
        "stage",
        "timestamp",
    ]
    assert store.events().empty


def test_in_memory_store_with_a_model_of_its_own() -> None:
    model = StageModel.from_dict(
        {
            "stages": [
                {
                    "id": "masuk",
                    "checklist": [{"id": "kontrak", "forgotten": "contract_boundaries"}],
                },
                {"id": "kaji", "checklist": [{"id": "analisa", "forgotten": "analysis"}]},
                {"id": "bantu"},
                {"id": "tutup", "kind": "closed"},
            ]
        }
    )
    with CaseStore(":memory:", worker="x", model=model, clock=Clock()) as mem:
        cid = open_case(mem)
        assert mem.case(cid).stage == "masuk"
        mem.enter_stage(cid, "bantu")
        assert "1 cases" in repr(mem)
        state = mem.case(cid)
        assert [f.flag for f in state.flags] == ["no_contract_scope", "skipped_analysis"]
        flags = mem.flags()
        assert flags[["no_contract_scope", "skipped_analysis"]].iloc[0].tolist() == [True, True]
        with pytest.raises(RecordError, match="not a helping stage"):
            mem.enter_stage(cid, "asesmen")


def test_import_payloads_keep_every_column_type() -> None:
    from pekso_toolkit.store.frames import import_payloads

    frame = pd.DataFrame(
        {
            "case_id": ["a", "b", "c"],
            "stage": ["x", "y", "z"],
            "timestamp": pd.to_datetime(["2024-01-01"] * 3, utc=True),
            "flag": [True, False, True],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "ratio": [0.5, np.nan, np.inf],
            "when": pd.to_datetime(["2024-01-02 03:04:05", None, "2024-01-03 00:00:00"]),
            "note": ['kutip "dua" \\ 🙂', None, "baris\nbaru"],
            "level": pd.Categorical(["tinggi", "rendah", None]),
        }
    )
    parsed = [json.loads(p) for p in import_payloads(frame)]
    assert parsed[0] == {
        "flag": True,
        "count": 1,
        "ratio": 0.5,
        "when": "2024-01-02T03:04:05.000000Z",
        "note": 'kutip "dua" \\ 🙂',
        "level": "tinggi",
    }
    assert parsed[1] == {
        "flag": False,
        "count": None,
        "ratio": None,
        "when": None,
        "note": None,
        "level": "rendah",
    }
    assert parsed[2]["ratio"] is None and parsed[2]["note"] == "baris\nbaru"
    assert parsed[2]["level"] is None
    assert import_payloads(frame[["case_id", "stage", "timestamp"]]) == ["{}"] * 3


def test_every_event_kind_has_a_description_in_both_languages(store: CaseStore) -> None:
    cid = open_case(store)
    store.add_problem(cid, "a", category="AT")
    store.add_problem(cid, "b")
    store.sign_contract(cid, in_scope=["P1"], out_of_scope=["P2"], capacity_note="ok")
    store.refer(cid, "P2", to="Dinsos")
    store.amend_contract(cid, add=["P2"], client_agreed=True, reason="r")
    store.follow_up(cid, in_scope=["P1"], capacity_note="ok", reason="lanjut")
    tick = store.tick(cid, "tingkat_risiko")
    store.untick(cid, "tingkat_risiko")
    store.correct(cid, tick, reason="dobel")
    store.enter_stage(cid, "asesmen")
    step = store.add_plan_step(cid, "langkah", due="2024-05-01")
    store.complete_step(cid, step)
    store.close_case(cid, termination_contract="TC", reason="selesai")
    store.reopen(cid, reason="lagi")
    store.void_case(cid, reason="dibuka keliru")
    kinds = set(store.history(cid)["kind"])
    from pekso_toolkit.store.fold import KINDS

    assert kinds == set(KINDS) - {"stage_imported"}
    for lang in ("id", "en"):
        history = store.history(cid, lang=lang)
        assert (history["description"] != history["kind"]).all()
        assert history["description"].is_unique
    en = store.history(cid, lang="en")["description"].tolist()
    idn = store.history(cid, lang="id")["description"].tolist()
    assert all(a != b for a, b in zip(en, idn))


def test_case_view_shows_times_in_the_store_time_zone(tmp_path: Path) -> None:
    """A case opened at 17:00 UTC on 29 June was opened on 30 June in Jakarta (and Jayapura)."""
    opened = datetime(2025, 6, 29, 17, 0, tzinfo=UTC)
    for tz, shown in (
        ("Asia/Jakarta", "2025-06-30 00:00 WIB"),
        ("Asia/Jayapura", "2025-06-30 02:00 WIT"),
    ):
        store = CaseStore(tmp_path / f"{tz[5:]}.sqlite", worker="ani", clock=Clock(opened), tz=tz)
        cid = open_case(store, at=opened)
        page = store.case(cid)._repr_html_()
        assert shown in page and "UTC" not in page
        store.close()


def test_signing_the_contract_ticks_the_contract_item_once(store: CaseStore) -> None:
    """The worker never enters "kontrak layanan ditandatangani" twice (and no false flag)."""
    cid = open_case(store)
    store.add_problem(cid, "a", category="AT")
    store.sign_contract(cid, in_scope=["P1"], capacity_note="ok")
    state = store.case(cid)
    tick = next(t for t in state.ticks if t.item_id == "kontrak_layanan")
    signed = store.events(cid).query("kind == 'contract_signed'")
    assert tick.derived and tick.ticked_at == state.contracts[0].versions[0].at
    # ticking it by hand afterwards is harmless: the same tick, no second event
    n = len(store.events(cid))
    assert store.tick(cid, "kontrak_layanan") == tick.event_id
    assert len(store.events(cid)) == n
    history = store.history(cid, lang="en")
    assert (
        history["description"]
        .str.contains(f"Ticked: .*automatically, from event #{int(signed['event_id'].iloc[0])}")
        .any()
    )
    # an item ticked by hand before signing is not ticked again
    other = open_case(store, ref="klien lain")
    store.add_problem(other, "b", category="AT")
    store.tick(other, "kontrak_layanan")
    store.sign_contract(other, in_scope=["P1"], capacity_note="ok")
    events = store.events(other)
    assert (events["kind"] == "item_ticked").sum() == 1
