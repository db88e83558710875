"""Opening a case store: read-only files, exports and folders; damaged files refused untouched.

Tests run as root in CI, where ``chmod`` does not stop writes: the store decides writability
from the permission bits (and ``os.access`` with effective ids), so these tests hold for root
and for ordinary users alike.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.store import CaseStore

NOW = datetime(2025, 7, 5, 3, 0, tzinfo=UTC)
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
READ_ONLY_DIR = READ_ONLY | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def fill(path: Path, n: int = 3) -> list[str]:
    """A store with ``n`` cases, each with a problem and a stage change; closed again."""
    ids = []
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        for i in range(n):
            case = s.open_case(
                f"ref-{i}",
                office="Garut",
                worker="ani",
                risk="low",
                referral_source="RT",
                story="cerita " * 40,
                at="2025-06-01",
            )
            s.add_problem(case, "masalah " * 30, category="AT")
            s.sign_contract(case, in_scope=["P1"], capacity_note="mampu")
            s.enter_stage(case, "asesmen", at="2025-06-03")
            ids.append(case)
    return ids


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time (ns) of every file of a folder."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths whose permissions a test changes; made writable again afterwards."""
    changed: list[Path] = []
    yield changed
    for p in changed:
        p.chmod(0o755 if p.is_dir() else 0o644)


def assert_reads(store: CaseStore, ids: list[str]) -> None:
    assert list(store.cases()["case_id"]) == ids
    assert set(store.events()["case_id"]) == set(ids)
    assert len(store.events()) == 4 * len(ids)
    assert set(store.stage_events().events["case_id"]) == set(ids)
    assert list(store.flags()["case_id"]) == ids
    assert store.case(ids[0]).stage == "asesmen"


def assert_refuses_recording(store: CaseStore, case_id: str) -> StoreError:
    with pytest.raises(StoreError) as info:
        store.add_problem(case_id, "baru")
    err = info.value
    assert "read-only" in err.message_en and "store opened read-only" in err.message_en
    assert "hanya-baca" in err.message_id
    assert "damaged" not in str(err) and "rusak" not in str(err)
    assert str(store.path) in err.message_en
    with pytest.raises(StoreError, match="read-only"):
        store.open_case(
            "x", office="Garut", worker="ani", risk="low", referral_source="RT", story="s"
        )
    return err


# ------------------------------------------------------------------------------- read-only
def test_read_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    ids = fill(path)
    before = snapshot(tmp_path)
    with CaseStore(path, worker="ani", clock=lambda: NOW, read_only=True) as s:
        assert s.read_only
        assert_reads(s, ids)
        err = assert_refuses_recording(s, ids[0])
        assert "read_only=True" in err.message_en
    assert snapshot(tmp_path)[path.name] == before[path.name]


def test_a_read_only_file_opens_read_only_by_itself(tmp_path: Path, restore_modes) -> None:
    path = tmp_path / "cases.sqlite"
    ids = fill(path)
    path.chmod(READ_ONLY)
    restore_modes.append(path)
    before = snapshot(tmp_path)
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        assert s.read_only
        assert_reads(s, ids)
        err = assert_refuses_recording(s, ids[0])
        assert "not writable" in err.message_en
    assert snapshot(tmp_path)[path.name] == before[path.name]
    path.chmod(0o644)
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:  # writable again: records
        assert not s.read_only
        assert s.add_problem(ids[0], "baru") == "P2"


def test_a_read_only_export_opens_and_reads(tmp_path: Path, restore_modes) -> None:
    path = tmp_path / "cases.sqlite"
    ids = fill(path)
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        out = s.export(tmp_path / "out" / "export.sqlite")
    out.chmod(READ_ONLY)
    restore_modes.append(out)
    before = snapshot(out.parent)
    with CaseStore(out, worker="peneliti", clock=lambda: NOW) as copy:
        assert copy.read_only and copy.role == "export"
        assert_reads(copy, ids)
        with pytest.raises(StoreError, match="read-only"):
            copy.add_problem(ids[0], "baru")
    assert snapshot(out.parent) == before  # not even a journal left beside it


def test_a_store_in_a_read_only_folder_opens_and_reads(tmp_path: Path, restore_modes) -> None:
    folder = tmp_path / "arsip"
    folder.mkdir()
    path = folder / "cases.sqlite"
    ids = fill(path)
    folder.chmod(READ_ONLY_DIR)
    restore_modes.append(folder)
    before = snapshot(folder)
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        assert s.read_only
        assert_reads(s, ids)
        err = assert_refuses_recording(s, ids[0])
        assert "folder" in err.message_en
    assert snapshot(folder) == before  # no -wal / -shm created in the folder


def test_read_only_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        CaseStore(tmp_path / "missing.sqlite", read_only=True)
    assert (
        "missing.sqlite" in info.value.message_en and info.value.message_id != info.value.message_en
    )
    assert not (tmp_path / "missing.sqlite").exists()


# ------------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize("where", ["page2", "middle"])
def test_a_damaged_store_is_refused_untouched(tmp_path: Path, where: str) -> None:
    path = tmp_path / "cases.sqlite"
    fill(path, n=30)
    data = bytearray(path.read_bytes())
    offset = 4096 if where == "page2" else (len(data) // 2) // 4096 * 4096
    data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    with pytest.raises(StoreError) as info:
        CaseStore(path, worker="ani", clock=lambda: NOW)
    err = info.value
    assert str(path) in err.message_id and str(path) in err.message_en
    assert "damaged" in err.message_en and "rusak" in err.message_id
    assert "backup" in err.message_en and "export" in err.message_en
    assert "cadangan" in err.message_id
    assert snapshot(tmp_path)[path.name] == before[path.name]
    with pytest.raises(StoreError, match="damaged"):
        CaseStore(path, read_only=True)
    assert snapshot(tmp_path)[path.name] == before[path.name]


def test_a_sound_store_passes_the_check_at_open(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    ids = fill(path, n=30)
    with CaseStore(path, worker="ani", clock=lambda: NOW) as s:
        assert len(s.cases()) == len(ids)


def test_permission_bits_decide_even_for_root(tmp_path: Path, restore_modes) -> None:
    """Document the rule: no write bit for anyone means read-only, whoever opens the file."""
    path = tmp_path / "cases.sqlite"
    fill(path, n=1)
    path.chmod(READ_ONLY)
    restore_modes.append(path)
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with CaseStore(path) as s:
        assert s.read_only


def test_an_old_layout_is_not_migrated_when_read_only(tmp_path: Path) -> None:
    from test_store_reliability import make_v1

    path = tmp_path / "old.sqlite"
    make_v1(path)
    before = snapshot(tmp_path)
    with pytest.raises(StoreError) as info:
        CaseStore(path, read_only=True)
    err = info.value
    assert "schema version 1" in err.message_en and "versi 1" in err.message_id
    assert "damaged" not in str(err)
    assert snapshot(tmp_path)[path.name] == before[path.name]
    assert not (tmp_path / "old.sqlite.v1.bak").exists()
    with CaseStore(path) as s:  # writable: migrated as before
        assert not s.read_only and len(s.case_ids()) == 2
