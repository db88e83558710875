"""Case store: concurrent writers, a killed import, schema migration, append-only guard, locks."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.store import CaseStore

ROOT = Path(__file__).resolve().parents[1]

WRITER = """
import sys, time
from pathlib import Path
from pekso_toolkit.store import CaseStore

path, name, go = sys.argv[1:4]
while not Path(go).exists():
    time.sleep(0.001)
store = CaseStore(path, worker=name, lock_timeout=60)
for k in range(100):
    cid = store.open_case(f"ref-{name}-{k}", office="o", worker=name, risk="low",
                          referral_source="r", story="s")
    for i in range(9):
        store.add_problem(cid, f"{name}-{k:03d}-{i}")
print("OK", flush=True)
"""

IMPORTER = """
import sys
import numpy as np
import pandas as pd
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store import CaseStore

path, n = sys.argv[1], int(sys.argv[2])
model = StageModel.default()
ids = [s.id for s in model.helping_stages]
case = np.arange(n) // 5
frame = pd.DataFrame({
    "case_id": pd.array([f"C{i:07d}" for i in case], dtype="string"),
    "stage": pd.Categorical(np.asarray(ids, dtype=object)[np.arange(n) % 5], dtype=model.dtype),
    "timestamp": pd.to_datetime(1_600_000_000 + case * 1000 + (np.arange(n) % 5) * 100,
                                unit="s", utc=True),
    "office": "Medan",
})
log = EventLog.from_frame(frame, model=model)
store = CaseStore(path, worker="import")
seen = []

def trace(statement):
    if not seen and statement.startswith("INSERT INTO events"):
        seen.append(1)
        print("INSIDE", flush=True)

store._conn.set_trace_callback(trace)
store.import_events(log)
print("DONE", flush=True)
"""


def run(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"  # created by whichever process comes first
    go = tmp_path / "go"
    procs = [run(WRITER, str(path), name, str(go)) for name in ("ani", "budi")]
    time.sleep(0.5)
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert out.strip() == "OK" and "locked" not in err
    store = CaseStore(path)
    events = store.events()
    assert len(events) == 2 * 1000
    assert events["event_id"].is_unique
    for name in ("ani", "budi"):
        mine = events[events["recorded_by"] == name]
        assert len(mine) == 1000
        texts = [json.loads(p).get("text") for p in mine["payload"]]
        expected = {f"{name}-{k:03d}-{i}" for k in range(100) for i in range(9)}
        assert {t for t in texts if t} == expected
    assert len(store.case_ids()) == 200
    problems = store.problems()
    assert not problems.duplicated(["case_id", "problem_id"]).any()
    assert (problems.groupby("case_id").size() == 9).all()
    assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_import_killed_mid_transaction_leaves_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "import.sqlite"
    n = 400_000
    CaseStore(path).close()
    proc = run(IMPORTER, str(path), str(n))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "INSIDE", proc.stderr.read() if proc.stderr else ""
    time.sleep(0.3)
    wal = Path(f"{path}-wal")
    spilled = wal.stat().st_size if wal.exists() else 0
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = CaseStore(path, worker="check")
    conn = store._conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n_events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    n_cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    if "DONE" in rest:  # pragma: no cover - only on a machine faster than the kill
        assert (n_events, n_cases) == (n, n // 5)
    else:
        assert spilled > 1_000_000  # uncommitted pages of the import were already on disk
        assert (n_events, n_cases) == (0, 0)
    # the store is usable afterwards
    cid = store.open_case("r", office="o", worker="w", risk="low", referral_source="r", story="s")
    assert store.case(cid).stage == "proses_awal"


# ------------------------------------------------------------------------------- schema
V1_DDL = [
    "CREATE TABLE cases (case_id TEXT PRIMARY KEY, client_ref TEXT, created_at TEXT NOT NULL)",
    """CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL REFERENCES cases(case_id),
        kind TEXT NOT NULL, at TEXT NOT NULL, recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL, payload TEXT NOT NULL CHECK (json_valid(payload)))""",
    "CREATE INDEX events_case ON events(case_id, event_id)",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN "
    "SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN "
    "SELECT RAISE(ABORT, 'events are append-only'); END",
    "PRAGMA user_version = 1",
]
V1_EVENTS = [
    (
        "K-000001",
        "case_opened",
        "2024-01-02T01:00:00.000000Z",
        {
            "office": "Bandung",
            "worker": "ani",
            "risk": "high",
            "referral_source": "RT",
            "story": "cerita",
            "stage": "proses_awal",
        },
    ),
    (
        "K-000001",
        "problem_added",
        "2024-01-02T02:00:00.000000Z",
        {"problem_id": "P1", "text": "kambing", "category": "AT", "severity": None},
    ),
    (
        "K-000001",
        "contract_signed",
        "2024-01-03T02:00:00.000000Z",
        {"contract_id": "C1", "in_scope": ["P1"], "out_of_scope": [], "capacity_note": "ok"},
    ),
    ("K-000001", "item_ticked", "2024-01-03T03:00:00.000000Z", {"item": "kontrak_layanan"}),
    ("K-000001", "stage_entered", "2024-01-04T01:00:00.000000Z", {"stage": "asesmen"}),
    (
        "K-000002",
        "case_opened",
        "2024-01-05T01:00:00.000000Z",
        {
            "office": "Medan",
            "worker": "budi",
            "risk": "low",
            "referral_source": "RS",
            "story": "cerita 2",
            "stage": "proses_awal",
        },
    ),
    (
        "K-000002",
        "case_closed",
        "2024-01-06T01:00:00.000000Z",
        {"stage": "ditutup", "termination_contract": "TC", "reason": "pindah"},
    ),
]


def make_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    for stmt in V1_DDL:
        conn.execute(stmt)
    conn.executemany(
        "INSERT INTO cases VALUES (?, ?, ?)",
        [
            ("K-000001", "NIK-111 Ani", "2024-01-02T01:00:00.000000Z"),
            ("K-000002", "NIK-222 Budi", "2024-01-05T01:00:00.000000Z"),
        ],
    )
    conn.executemany(
        "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload) "
        "VALUES (?, ?, ?, ?, 'ani', ?)",
        [(c, k, at, at, json.dumps(p)) for c, k, at, p in V1_EVENTS],
    )
    conn.commit()
    conn.close()


def test_v1_store_is_migrated_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    make_v1(path)
    before = sqlite3.connect(path)
    old_rows = before.execute(
        "SELECT event_id, case_id, kind, at, recorded_at, recorded_by, payload FROM events"
    ).fetchall()
    before.close()

    store = CaseStore(path, worker="ani", clock=lambda: datetime(2024, 2, 1, tzinfo=UTC))
    conn = store._conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    new_rows = conn.execute(
        "SELECT event_id, case_id, kind, at, recorded_at, recorded_by, payload FROM events"
    ).fetchall()
    assert new_rows == old_rows
    stages = conn.execute("SELECT stage FROM events ORDER BY event_id").fetchall()
    assert [s[0] for s in stages] == [
        "proses_awal",
        None,
        None,
        None,
        "asesmen",
        "proses_awal",
        "ditutup",
    ]
    assert conn.execute("SELECT case_id, client_ref FROM clients ORDER BY case_id").fetchall() == [
        ("K-000001", "NIK-111 Ani"),
        ("K-000002", "NIK-222 Budi"),
    ]
    case_columns = [r[1] for r in conn.execute("PRAGMA table_info(cases)")]
    assert "client_ref" not in case_columns and "source" in case_columns
    assert (path.parent / "old.sqlite.v1.bak").exists()
    backup = sqlite3.connect(path.parent / "old.sqlite.v1.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    assert backup.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(V1_EVENTS)
    backup.close()
    # the folded state is what the old rows say, and recording goes on
    first = store.case("K-000001", with_client=True)
    assert (first.stage, first.office, first.client_ref) == ("asesmen", "Bandung", "NIK-111 Ani")
    assert first.contract.in_scope == ("P1",) and first.ticked == {"kontrak_layanan"}
    assert store.case("K-000002").closed
    assert store.cases()["stage"].astype(str).tolist() == ["asesmen", "ditutup"]
    eid = store.tick("K-000001", "tingkat_risiko")
    assert eid == len(V1_EVENTS) + 1
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET kind = 'x' WHERE event_id = 1")
    store.close()
    # opening again does nothing more
    again = CaseStore(path)
    assert len(again.events()) == len(V1_EVENTS) + 1
    again.close()


def test_files_that_are_not_current_stores_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    CaseStore(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer pekso_toolkit"):
        CaseStore(newer)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE orders (id INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="not a case database"):
        CaseStore(other)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a pekso_toolkit case database"):
        CaseStore(garbage)


# ------------------------------------------------------------------------------- guards
def test_events_and_cases_cannot_be_updated_or_deleted(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = CaseStore(path, worker="ani")
    cid = store.open_case("r", office="o", worker="w", risk="low", referral_source="r", story="s")
    store.tick(cid, "tingkat_risiko")
    raw = sqlite3.connect(path)
    for sql in (
        "UPDATE events SET payload = '{}' WHERE event_id = 1",
        "DELETE FROM events WHERE event_id = 2",
        "DELETE FROM events",
        "UPDATE cases SET source = 'imported'",
        "DELETE FROM cases",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()
    assert len(store.events()) == 2
    assert store.case(cid).ticked == {"tingkat_risiko"}


def test_connection_settings(tmp_path: Path) -> None:
    store = CaseStore(tmp_path / "c.sqlite")
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload) "
            "VALUES ('K-404', 'x', 'a', 'b', 'c', '{}')"
        )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO cases (case_id, created_at) VALUES ('K-1', 'a')")
        conn.execute(
            "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload) "
            "VALUES ('K-1', 'x', 'a', 'b', 'c', 'not json')"
        )


def test_a_long_lock_gives_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = CaseStore(path, worker="ani", lock_timeout=0.5)
    cid = store.open_case("r", office="o", worker="w", risk="low", referral_source="r", story="s")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError) as info:
        store.tick(cid, "tingkat_risiko")
    assert "locked" in str(info.value) and "detik" in str(info.value)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert len(store.events()) == 1
    store.tick(cid, "tingkat_risiko")
    assert len(store.events()) == 2


def test_a_short_lock_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = CaseStore(path, worker="ani", lock_timeout=30)
    cid = store.open_case("r", office="o", worker="w", risk="low", referral_source="r", story="s")
    locked = threading.Event()

    def hold() -> None:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(2.5)  # longer than one busy_timeout round, so the retry loop is used
        blocker.execute("COMMIT")
        blocker.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait()
    store.tick(cid, "tingkat_risiko")
    thread.join()
    assert store.case(cid).ticked == {"tingkat_risiko"}
