"""Case store integrity: implausible dates, voided openings, safe exports, imports into recorded
cases, read-only and damaged files, derived ticks, restart."""

from __future__ import annotations

import sqlite3
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pekso_toolkit.core.config import PLAUSIBLE_FROM
from pekso_toolkit.store import CaseStore, RecordError
from pekso_toolkit.store.schema import to_iso

NOW = datetime(2025, 7, 5, 3, 0, tzinfo=UTC)


def opened(store: CaseStore, at: object = "2025-06-01") -> str:
    return store.open_case(
        "ref", office="Garut", worker="ani", risk="low", referral_source="RT", story="s", at=at
    )


@pytest.fixture
def store(tmp_path) -> CaseStore:
    with CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=lambda: NOW) as s:
        yield s


# ------------------------------------------------------------------ 1. implausible dates
@pytest.mark.parametrize(
    "at", ["1500-01-01", date(202, 1, 4), datetime(1, 1, 1), "1989-12-31", "2025-07-07"]
)
def test_implausible_dates_are_refused_at_the_door(store, at) -> None:
    with pytest.raises(RecordError) as info:
        opened(store, at=at)
    err = info.value
    assert err.field == "at"
    assert str(PLAUSIBLE_FROM.year) in err.message_id and str(PLAUSIBLE_FROM.year) in err.message_en
    assert err.message_id != err.message_en
    assert store.case_ids() == []


def test_implausible_dates_are_refused_on_every_recording(store) -> None:
    case = opened(store)
    with pytest.raises(RecordError, match="1990"):
        store.add_problem(case, "p", at=datetime(1, 1, 1))
    with pytest.raises(RecordError, match="1990"):
        store.enter_stage(case, "asesmen", at="0202-01-04")


def test_imports_with_implausible_dates_are_refused_naming_the_row(store) -> None:
    import pandas as pd

    from pekso_toolkit.events.eventlog import EventLog, load_events

    frame = pd.DataFrame(
        {
            "case_id": ["A", "B"],
            "stage": ["proses_awal"] * 2,
            "timestamp": ["2024-01-01", "1900-01-01"],
        }
    )
    # load_events already rejects such rows; an EventLog built in memory reaches the store as is
    assert load_events(frame).report.n_rejected == 1
    log = EventLog(events=frame)
    with pytest.raises(RecordError, match=r"\[2\]") as info:
        store.import_events(log)
    assert info.value.row == 2
    assert store.case_ids() == []


def test_timestamps_are_fixed_width_so_text_order_is_time_order() -> None:
    samples = [datetime(202, 1, 4, tzinfo=UTC), datetime(1999, 1, 1, tzinfo=UTC), NOW]
    texts = [to_iso(s) for s in samples]
    assert {len(t) for t in texts} == {27}
    assert texts[0] == "0202-01-04T00:00:00.000000Z"
    assert sorted(texts) == texts


def insert_raw(path, case_id: str, kind: str, at: str, stage: str | None = None) -> None:
    conn = sqlite3.connect(str(path))
    with conn:
        conn.execute(
            "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload, stage) "
            "VALUES (?, ?, ?, '2025-07-05T03:00:00.000000Z', 'x', '{}', ?)",
            (case_id, kind, at, stage),
        )
    conn.close()


@pytest.mark.parametrize("bad", ["202-01-04T00:00:00.000000Z", "1500-01-01T00:00:00.000000Z"])
def test_a_store_holding_a_bad_time_still_opens_and_reports_the_row(tmp_path, bad) -> None:
    from pekso_toolkit.stays.durations import time_in_stage
    from pekso_toolkit.widgets import CaseBoard

    path = tmp_path / "cases.sqlite"
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        good = opened(s)
        broken = opened(s, at="2025-06-02")
    insert_raw(path, broken, "stage_entered", bad, stage="asesmen")
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        bad_rows = s.bad_events()
        assert list(bad_rows["case_id"]) == [broken]
        assert list(bad_rows["at_text"]) == [bad]
        with pytest.warns(UserWarning, match=broken):
            cases = s.cases()
        assert set(cases["case_id"]) == {good, broken}
        with pytest.warns(UserWarning, match=broken):
            events = s.events()
        assert len(events) == 3
        with pytest.warns(UserWarning, match=broken):
            log = s.stage_events()
        assert set(log.events["case_id"]) == {good, broken}
        with pytest.warns(UserWarning):
            assert len(s.flags()) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stays = time_in_stage(log, as_of="2025-07-01")
            board = CaseBoard(s, as_of="2025-07-01")
            shown = board.frame()
        assert set(shown["case_id"]) == {good, broken}
        assert len(stays) == 2


# ------------------------------------------------------------------ 2. voiding a mistaken opening
def test_void_case_is_append_only_and_every_table_honours_it(store) -> None:
    keep = opened(store)
    wrong = opened(store, at="2025-06-03")
    store.add_problem(wrong, "p")
    n_rows = len(store.events())
    eid = store.void_case(wrong, reason="dibuka dua kali / opened twice")
    events = store.events()
    assert len(events) == n_rows + 1  # nothing updated or deleted
    assert events.loc[events["event_id"] == eid, "kind"].item() == "case_voided"
    opening = events[(events["case_id"] == wrong) & (events["kind"] == "case_opened")]
    assert len(opening) == 1
    assert events.loc[events["event_id"] == eid, "voids"].item() == opening["event_id"].item()
    assert store.case_ids() == [keep]
    assert list(store.cases()["case_id"]) == [keep]
    assert set(store.stage_events().events["case_id"]) == {keep}
    assert list(store.flags()["case_id"]) == [keep]
    assert wrong not in set(store.problems()["case_id"])
    history = store.history(wrong)
    assert list(history["kind"]) == ["case_opened", "problem_added", "case_voided"]
    assert history["voided_by"].iloc[0] == eid
    with pytest.raises(RecordError, match="void"):
        store.add_problem(wrong, "later")
    with pytest.raises(RecordError, match="void"):
        store.case(wrong)
    with pytest.raises(RecordError):
        store.void_case(wrong, reason="again")


def test_fold_of_a_voided_case_says_so() -> None:
    from pekso_toolkit.store.fold import fold

    s = CaseStore(":memory:", worker="ani", clock=lambda: NOW)
    case = opened(s)
    s.void_case(case, reason="salah")
    with s._read() as conn:
        rows = conn.execute("SELECT * FROM main.events WHERE case_id = ?", (case,)).fetchall()
    from pekso_toolkit.store.records import Event

    state = fold([Event.from_row(r[:9]) for r in rows], s.model)
    assert state.case_voided
    assert state.stage is None and state.stages == ()


def test_a_case_opened_at_a_bad_time_can_be_voided(tmp_path) -> None:
    path = tmp_path / "cases.sqlite"
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        good = opened(s)
    insert_raw(path, "K-000002", "case_opened", "0202-01-04T00:00:00.000000Z", "proses_awal")
    conn = sqlite3.connect(str(path))
    with conn:
        conn.execute(
            "INSERT INTO cases (case_id, created_at, source) "
            "VALUES ('K-000002', '2025-07-05T03:00:00.000000Z', 'recorded')"
        )
    conn.close()
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        with pytest.warns(UserWarning, match="K-000002"):
            s.cases()
        s.void_case("K-000002", reason="tahun salah ketik / year mistyped")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert list(s.cases()["case_id"]) == [good]
        assert s.bad_events()["case_voided"].all()


# ------------------------------------------------------------------ 3. safe exports
def _rows(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(str(path))
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in ("cases", "events", "clients")
        )
    finally:
        conn.close()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_export_onto_the_store_itself_or_its_journal_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    from pekso_toolkit.core.errors import StoreError

    path = tmp_path / "cases.sqlite"
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        opened(s)
        opened(s)
        before = (len(s.cases()), len(s.events()))
        target = f"{s.path}{suffix}"
        with pytest.raises(StoreError) as info:
            s.export(target, overwrite=True)
        err = info.value
        assert str(path) in err.message_id and str(path) in err.message_en
        assert err.message_id != err.message_en
        assert (len(s.cases()), len(s.events())) == before
    assert _rows(path)[0] == 2 and _rows(path)[2] == 2


def test_export_onto_another_case_store_is_refused_and_it_is_kept(tmp_path: Path) -> None:
    from pekso_toolkit.core.errors import StoreError

    other = tmp_path / "other.sqlite"
    with CaseStore(other, worker="ani", clock=lambda: NOW) as o:
        opened(o)
    with CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=lambda: NOW) as s:
        opened(s)
        with pytest.raises(StoreError, match="other.sqlite"):
            s.export(other, overwrite=True)
        # an earlier export may be replaced
        out = s.export(tmp_path / "export.sqlite")
        assert s.export(out, overwrite=True) == out
    assert _rows(other)[0] == 1 and _rows(other)[2] == 1


# ------------------------------------------------------------------ 4. one place for times
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-31", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
        ("2025-01-31T09:30", datetime(2025, 1, 31, 2, 30, tzinfo=UTC)),
        ("2025-01-31T09:30+08:00", datetime(2025, 1, 31, 1, 30, tzinfo=UTC)),
        (datetime(2025, 1, 31, 9, 30), datetime(2025, 1, 31, 2, 30, tzinfo=UTC)),
        (datetime(2025, 1, 31, 9, 30, tzinfo=UTC), datetime(2025, 1, 31, 9, 30, tzinfo=UTC)),
        (date(2025, 1, 31), datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
        (datetime(2025, 1, 31, 9, 30, 0, 123456), datetime(2025, 1, 31, 2, 30, 0, 123456, UTC)),
    ],
)
def test_store_times_are_read_as_before(value: object, expected: datetime) -> None:
    from pekso_toolkit.store.schema import parse_when

    got = parse_when(value, field="at", tz="Asia/Jakarta")
    assert got == expected and got.utcoffset() is not None and got.utcoffset().seconds == 0
    assert isinstance(got, datetime)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("kemarin sore", "not a recognised time"),
        ("", "the time is missing"),
        (42, "must be a time"),
        (datetime(1, 1, 1), "1990"),
        (date(202, 1, 4), "1990"),
    ],
)
def test_store_time_errors_are_unchanged(value: object, match: str) -> None:
    from pekso_toolkit.store.schema import parse_when

    with pytest.raises(RecordError, match=match) as info:
        parse_when(value, field="at", tz="Asia/Jakarta")
    assert info.value.field == "at"


def test_store_times_go_through_core_times(monkeypatch) -> None:
    """The store reads user times with pekso_toolkit.core.times.to_utc (one place for times):
    the Indonesian zone names are accepted like everywhere else."""
    from pekso_toolkit.store import schema

    calls: list[object] = []
    real = schema.to_utc

    def spy(value: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(value)
        return real(value, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(schema, "to_utc", spy)
    got = schema.parse_when("2025-01-31T10:00", field="at", tz="WITA")
    assert got == datetime(2025, 1, 31, 2, 0, tzinfo=UTC)
    assert calls == ["2025-01-31T10:00"]


# ------------------------------------------------------------------ 5. imports into recorded cases
def test_imports_into_recorded_cases_follow_the_practice_rules(store) -> None:
    import pandas as pd

    from pekso_toolkit.core.errors import PracticeRuleError
    from pekso_toolkit.events.eventlog import EventLog

    live = opened(store)  # K-000001, opened 2025-06-01 (Asia/Jakarta) at Garut
    store.add_problem(live, "p")
    store.sign_contract(live, in_scope=["P1"], capacity_note="mampu")
    store.enter_stage(live, "asesmen", at="2025-06-03")
    done = opened(store, at="2025-06-02")  # K-000002
    store.close_case(done, termination_contract="selesai", reason="selesai", at="2025-06-04")
    before = store.events()
    # rows in the log's order (by case, then time), as EventLog keeps them
    frame = pd.DataFrame(
        {
            "case_id": ["A-1", live, live, live, live, done],
            "stage": [
                "proses_awal",
                "proses_awal",
                "intervensi",
                "ditutup",
                "intervensi",
                "asesmen",
            ],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",  # a new imported case
                    "2025-05-20",  # before the opening
                    "2025-06-10",  # fine, but says another office
                    "2025-06-20",  # a closing needs a termination contract
                    "2025-06-21",  # already in intervensi (the closing was refused)
                    "2025-06-10",  # the case is closed
                ]
            ).tz_localize("UTC"),
            "office": ["Bandung"] * 6,
        }
    )
    log = EventLog(events=frame)
    assert list(log.events["case_id"]) == list(frame["case_id"])
    with pytest.warns(UserWarning, match="refused"):
        report = store.import_events(log, on_existing="append")
    assert report == 2  # two rows written
    rows = report.rows
    assert list(rows["row"]) == [1, 2, 3, 4, 5, 6]
    assert list(rows["case_id"]) == list(frame["case_id"])
    assert list(rows["status"]) == [
        "imported",
        "refused",
        "imported",
        "refused",
        "refused",
        "refused",
    ]
    assert list(rows["rule"].fillna("")) == [
        "",
        "before_opening",
        "",
        "closing_without_termination_contract",
        "same_stage",
        "case_closed",
    ]
    assert rows.loc[rows["status"] == "refused", "reason_en"].str.len().gt(0).all()
    assert rows.loc[rows["status"] == "refused", "reason_id"].str.len().gt(0).all()
    assert len(report.refused) == 4
    # one error per case, naming the case, the event and the rule
    errors = {e.case_id: e for e in report.errors}
    assert set(errors) == {live, done}
    assert isinstance(errors[live], RecordError)
    assert "before_opening" in errors[live].message_en and "row 2" in errors[live].message_en
    assert "proses_awal" in errors[live].message_en and live in errors[live].message_id
    assert "case_closed" in errors[done].message_en and "row 6" in errors[done].message_en
    assert errors[live].row == 2
    # nothing stored is lost or changed; the recorded office stays
    after = store.events()
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    assert len(after) == len(before) + 2
    cases = store.cases().set_index("case_id")
    assert cases.loc[live, "office"] == "Garut"
    assert cases.loc[live, "stage"] == "intervensi"
    assert cases.loc["A-1", "office"] == "Bandung"
    assert store.case(live).office == "Garut"
    ours = after[after["case_id"] == live]
    assert ours["at"].min() == store.case(live).opened_at
    assert store.case(done).closed
    # the import went through the recording rules: the same closing by hand is refused too
    with pytest.raises(PracticeRuleError):
        store.close_case(live, termination_contract="", reason="x")


def test_an_import_of_only_refused_rows_writes_nothing(store) -> None:
    import pandas as pd

    from pekso_toolkit.events.eventlog import EventLog

    live = opened(store)
    n = len(store.events())
    frame = pd.DataFrame(
        {
            "case_id": [live],
            "stage": ["asesmen"],
            "timestamp": pd.to_datetime(["2025-01-01"]).tz_localize("UTC"),
        }
    )
    with pytest.warns(UserWarning):
        report = store.import_events(EventLog(events=frame), on_existing="append")
    assert report == 0 and list(report.rows["status"]) == ["refused"]
    assert len(store.events()) == n


# ------------------------------------------------------------------ 6. dry run: check()
def _signed(store: CaseStore) -> str:
    case = opened(store)
    store.add_problem(case, "p1")
    store.add_problem(case, "p2")
    store.sign_contract(case, in_scope=["P1"], out_of_scope=["P2"], capacity_note="mampu")
    return case


def test_check_lists_every_gap_without_writing(store) -> None:
    from pekso_toolkit.store.rules import Problem

    case = _signed(store)
    fresh = opened(store)
    store.add_problem(fresh, "p")
    n_events, changes = len(store.events()), store._conn.total_changes
    found = store.check("amend_contract", case, add=["P2"], client_agreed=False, reason=" ")
    assert [p.rule for p in found] == ["amendment_without_agreement", "amendment_without_reason"]
    assert all(isinstance(p, Problem) for p in found)
    assert all(p.message_id and p.message_en and p.message_id != p.message_en for p in found)
    with pytest.raises(AttributeError):
        found[0].rule = "x"  # type: ignore[misc]
    assert store.check("amend_contract", case, add=["P2"], client_agreed=True, reason="ok") == []
    unsigned = store.check("sign_contract", fresh, in_scope=[], capacity_note="")
    assert [p.rule for p in unsigned] == ["contract_without_scope", "contract_without_capacity"]
    assert [p.field for p in unsigned] == ["in_scope", "capacity_note"]
    assert store.check("sign_contract", fresh, in_scope=["P1"], capacity_note="mampu") == []
    again = store.check("sign_contract", case, in_scope=["P1"], capacity_note="mampu")
    assert "already has contract" in again[0].message_en
    closing = store.check("close_case", case, termination_contract="", reason="x")
    assert [p.rule for p in closing] == ["closing_without_termination_contract"]
    assert closing[0].field == "termination_contract"
    assert store.check("move_stage", case, stage="asesmen") == []
    same = store.check("move_stage", case, stage="proses_awal")
    assert [p.field for p in same] == ["stage"] and same[0].rule is None
    empty = store.check("add_problem", case, text="")
    assert [p.field for p in empty] == ["text"]
    assert store.check("add_problem", case, text="baru", at="2025-06-10") == []
    early = store.check("add_problem", case, text="baru", at="2025-01-01")
    assert early[0].field == "at" and "earlier than" in early[0].message_en
    unknown = store.check("move_stage", "K-999999", stage="asesmen")
    assert unknown[0].field == "case_id"
    # nothing was written
    assert len(store.events()) == n_events and store._conn.total_changes == changes
    # the rules are the recording's: what check() refuses, recording refuses
    from pekso_toolkit.core.errors import PracticeRuleError

    with pytest.raises(PracticeRuleError) as info:
        store.amend_contract(case, add=["P2"], client_agreed=False, reason=" ")
    assert info.value.rule == found[0].rule and info.value.message_en == found[0].message_en


def test_check_of_a_closed_case_and_of_a_read_only_store(tmp_path) -> None:
    path = tmp_path / "cases.sqlite"
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        case = _signed(s)
        s.close_case(case, termination_contract="selesai", reason="selesai", at="2025-06-20")
        assert [p.rule for p in s.check("move_stage", case, stage="asesmen")] == ["case_closed"]
        assert s.check("reopen", case, reason="kambuh") == []
    with CaseStore(path, worker="ani", clock=lambda: NOW, read_only=True) as s:
        found = s.check("reopen", case, reason="kambuh")
        assert [p.rule for p in found] == ["read_only"]
        assert "read-only" in found[0].message_en


def test_check_refuses_unknown_actions_and_arguments(store) -> None:
    case = opened(store)
    with pytest.raises(RecordError, match="move_stage"):
        store.check("fly", case)
    with pytest.raises(RecordError, match="stage"):
        store.check("move_stage", case, stag="asesmen")


def test_contract_editor_asks_the_store_and_has_short_methods() -> None:
    import ast
    import inspect

    from pekso_toolkit.widgets import contract

    source = inspect.getsource(contract)
    # no copies of the store's rules in the widget: it asks the store with check()
    assert "amendment_without_agreement" not in source
    assert "store.rules" not in source
    assert ".check(" in source
    tree = ast.parse(source)
    editor = next(
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ContractEditor"
    )
    lengths = {
        f.name: (f.end_lineno or f.lineno) - f.lineno + 1
        for f in editor.body
        if isinstance(f, ast.FunctionDef)
    }
    assert lengths["__init__"] <= 50
    too_long = {name: n for name, n in lengths.items() if n > 50}
    assert not too_long


def test_an_import_report_accounts_for_every_row(store) -> None:
    from pekso_toolkit.events.eventlog import load_events

    frame = pd_frame()
    report = store.import_events(load_events(frame))
    assert report == len(frame) and report.n_rows == len(frame)
    assert report.errors == () and len(report.refused) == 0
    rows = report.rows
    assert list(rows["status"]) == ["imported"] * len(frame)
    assert rows["rule"].isna().all() and list(rows["row"]) == list(range(1, len(frame) + 1))
    assert str(rows["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert "imported=3" in repr(report)


def pd_frame():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.DataFrame(
        {
            "case_id": ["A-1", "A-1", "A-2"],
            "stage": ["proses_awal", "asesmen", "proses_awal"],
            "timestamp": ["2024-01-02 08:00", "2024-01-09 08:00", "2024-01-03"],
        }
    )
