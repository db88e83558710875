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
