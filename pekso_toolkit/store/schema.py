"""The SQLite layout of the case store: schema versions, migrations, connections, retries, times.

Layout (schema version 2)
-------------------------
``meta(key, value)``
    What the file is (``role`` = ``store`` or ``export``) and when it was made or migrated.
``cases(case_id, created_at, source)``
    One row per case id; ``source`` is ``recorded`` (opened with the store) or ``imported``.
    Insert-only.
``clients(case_id, client_ref)``
    The client's reference (identity) kept apart from everything else. It is the only table that
    may be changed (e.g. to erase a client's identity); nothing that leaves the store for analysis
    reads it.
``events(event_id, case_id, kind, at, recorded_at, recorded_by, payload, stage, voids)``
    The append-only history: one row per recorded action. ``at`` is when it happened,
    ``recorded_at`` when it was written (both UTC ISO-8601 text with microseconds and a ``Z``),
    ``payload`` is JSON, ``stage`` is the stage a stage-changing event enters (NULL otherwise) and
    ``voids`` is the event a correction cancels. Triggers refuse UPDATE and DELETE.

Version 1 kept ``client_ref`` in the ``cases`` table and the stage inside the payload; the
migration to version 2 moves the reference into ``clients``, drops it from ``cases``, adds
``stage`` (filled from the payloads), ``voids`` and ``meta``. A copy of the old file is kept
beside it (``<name>.v1.bak``) before migrating.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import PLAUSIBLE_AHEAD_DAYS, PLAUSIBLE_FROM
from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.core.times import TimeValueError, to_utc

__all__ = [
    "GOOD_AT",
    "SCHEMA_VERSION",
    "RecordError",
    "check_plausible",
    "connect",
    "from_iso",
    "parse_when",
    "plausible_window",
    "read_only_error",
    "read_only_reason",
    "to_iso",
    "writable",
]

SCHEMA_VERSION = 2
#: Kinds of events that put a case into a stage (their ``stage`` column is set).
STAGE_KINDS = ("case_opened", "stage_entered", "case_closed", "case_reopened", "stage_imported")

T = TypeVar("T")


class RecordError(StoreError, ValueError):
    """The arguments of a recording or reading call are invalid (unknown case, problem, stage,
    item, wrong type, time in the future); the message names the field and what to do."""


# ------------------------------------------------------------------------------------------ DDL
_APPEND_ONLY = (
    "CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
    "SELECT RAISE(ABORT, '{table} are append-only: record a correcting event instead'); END",
    "CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
    "SELECT RAISE(ABORT, '{table} are append-only: record a correcting event instead'); END",
)


def _append_only(table: str) -> list[str]:
    return [stmt.format(table=table) for stmt in _APPEND_ONLY]


#: The first layout, kept to test and run the migration path.
V1_DDL: tuple[str, ...] = (
    """CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        client_ref TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL REFERENCES cases(case_id),
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        payload TEXT NOT NULL CHECK (json_valid(payload))
    )""",
    "CREATE INDEX events_case ON events(case_id, event_id)",
    *_append_only("events"),
    "PRAGMA user_version = 1",
)

_V2_TABLES: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'recorded' CHECK (source IN ('recorded', 'imported'))
    )""",
    """CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL REFERENCES cases(case_id),
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        payload TEXT NOT NULL CHECK (json_valid(payload)),
        stage TEXT,
        voids INTEGER REFERENCES events(event_id)
    )""",
    "CREATE INDEX events_case ON events(case_id, event_id)",
    "CREATE INDEX events_voids ON events(voids) WHERE voids IS NOT NULL",
    *_append_only("events"),
    *_append_only("cases"),
)
_CLIENTS = """CREATE TABLE clients (
    case_id TEXT PRIMARY KEY REFERENCES cases(case_id),
    client_ref TEXT NOT NULL
)"""

#: The current layout of a store.
V2_DDL: tuple[str, ...] = (*_V2_TABLES, _CLIENTS, "PRAGMA user_version = 2")
#: The layout of an analysis export: the same without the clients table.
EXPORT_DDL: tuple[str, ...] = (*_V2_TABLES, "PRAGMA user_version = 2")

#: Migration from version n to n + 1, run in one transaction.
_MIGRATE_1_TO_2: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    _CLIENTS,
    "INSERT INTO clients (case_id, client_ref) "
    "SELECT case_id, client_ref FROM cases WHERE client_ref IS NOT NULL",
    "ALTER TABLE cases DROP COLUMN client_ref",
    "ALTER TABLE cases ADD COLUMN source TEXT NOT NULL DEFAULT 'recorded' "
    "CHECK (source IN ('recorded', 'imported'))",
    "ALTER TABLE events ADD COLUMN stage TEXT",
    "ALTER TABLE events ADD COLUMN voids INTEGER REFERENCES events(event_id)",
    # filling the new column is schema work, not a change of history: lift the guard briefly
    "DROP TRIGGER events_no_update",
    "UPDATE events SET stage = json_extract(payload, '$.stage') "
    "WHERE kind IN ('case_opened', 'stage_entered', 'case_closed', 'case_reopened')",
    _append_only("events")[0],
    "CREATE INDEX events_voids ON events(voids) WHERE voids IS NOT NULL",
    *_append_only("cases"),
    "PRAGMA user_version = 2",
)
MIGRATIONS: dict[int, tuple[str, ...]] = {1: _MIGRATE_1_TO_2}


# ------------------------------------------------------------------------------------------ busy
def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def busy_error(seconds: float) -> StoreError:
    """The bilingual error raised when the file stayed locked too long."""
    return StoreError(
        f"Basis data kasus sedang dipakai proses lain lebih dari {seconds:g} detik; tunggu "
        "sebentar lalu coba lagi (tutup notebook lain yang menulis ke berkas yang sama)",
        f"The case database stayed locked by another process for more than {seconds:g} s; "
        "wait a moment and try again (close other notebooks writing to the same file)",
    )


def retry_busy(fn: Callable[[], T], *, timeout: float) -> T:
    """Call ``fn`` again while SQLite reports the file busy or locked, up to ``timeout`` seconds.

    Backs off from 10 ms to 0.5 s between attempts. Raises :class:`StoreError` (bilingual) when
    the time runs out; any other error passes through.
    """
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise busy_error(timeout) from exc
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.5)


# ------------------------------------------------------------------------------------------ open
def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows if not r[0].startswith("sqlite_")}


_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def writable(path: Path) -> bool:
    """Whether an existing file or folder may be written.

    Decided from the permission bits first: a file or folder without any write bit (``chmod
    a-w``) is read-only for everyone, root included (root's writes are not stopped by the
    permissions, but the owner marked it read-only, and tests run as root must see the same
    store as users do). Otherwise ``os.access(path, os.W_OK)`` with the effective ids decides
    (a file writable by its owner only, opened by another user).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if not mode & _WRITE_BITS:
        return False
    effective = os.access in os.supports_effective_ids
    return os.access(path, os.W_OK, effective_ids=effective)


def read_only_reason(path: str | Path, *, asked: bool) -> str | None:
    """Why a store must be opened read-only: ``"asked"`` (``read_only=True``), ``"file"`` (the
    file is not writable), ``"folder"`` (its folder is not writable, so SQLite cannot write its
    journal beside it), or None (writable, or not there yet)."""
    if str(path) == ":memory:":
        return "asked" if asked else None
    path = Path(path)
    if asked:
        return "asked"
    if not path.exists():
        return None
    if not writable(path):
        return "file"
    if not writable(path.resolve().parent):
        return "folder"
    return None


def read_only_error(path: str | Path, reason: str) -> StoreError:
    """The bilingual error of a recording attempted on a store opened read-only."""
    why_id, why_en = {
        "asked": (
            "dibuka dengan read_only=True; buka tanpa read_only=True untuk mencatat",
            "opened with read_only=True; open it without read_only=True to record",
        ),
        "file": (
            "berkasnya tidak bisa ditulis (izin berkas); minta izin tulis atau catat di basis "
            "data asli",
            "the file is not writable (file permissions); ask for write permission or record in "
            "the original store",
        ),
        "folder": (
            "foldernya tidak bisa ditulis (SQLite menulis jurnal di samping berkas); pindahkan ke "
            "folder yang bisa ditulis",
            "its folder is not writable (SQLite writes its journal beside the file); move it to "
            "a writable folder",
        ),
    }[reason]
    return StoreError(
        f"Basis data dibuka hanya-baca: {path} ({why_id}); tidak ada yang dicatat",
        f"store opened read-only: {path} ({why_en}); nothing was recorded",
    )


def _damaged(path: str | Path, detail: str) -> StoreError:
    return StoreError(
        f"Berkas basis data kasus {path} rusak (pemeriksaan SQLite: {detail}); berkas tidak "
        "diubah. Pulihkan dari cadangan terbaru (salinan berkas .sqlite) atau, untuk analisis "
        "saja, dari ekspor terbaru (store.export, tanpa data klien); simpan berkas rusak ini "
        "untuk diperiksa",
        f"The case database file {path} is damaged (SQLite check: {detail}); the file was left "
        "untouched. Restore it from the latest backup (a copy of the .sqlite file) or, for "
        "analysis only, from the latest export (store.export, without client references); keep "
        "the damaged file for inspection",
    )


def _open_read_only(path: Path, *, timeout: float, immutable: bool) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        return sqlite3.connect(
            uri,
            uri=True,
            timeout=min(timeout, 2.0),
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(
            f"Berkas basis data kasus tidak bisa dibuka: {path}",
            f"The case database file cannot be opened: {path} ({exc})",
        ) from exc


def _quick_check(conn: sqlite3.Connection, path: Path, *, timeout: float) -> None:
    """``PRAGMA quick_check`` (reads every page, writes nothing); StoreError when damaged."""
    try:
        rows = retry_busy(lambda: conn.execute("PRAGMA quick_check").fetchall(), timeout=timeout)
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise StoreError(
                f"{path} bukan basis data kasus pekso_toolkit; pilih berkas lain",
                f"{path} is not a pekso_toolkit case database ({exc}); choose another file",
            ) from exc
        raise _damaged(path, str(exc)) from exc
    found = [str(r[0]) for r in rows]
    if found != ["ok"]:
        raise _damaged(
            path, "; ".join(found[:3]) + (f" (+{len(found) - 3})" if len(found) > 3 else "")
        )


def _check_existing(path: Path, *, timeout: float, immutable: bool) -> sqlite3.Connection:
    """A read-only connection to an existing file that passed the integrity check."""
    conn = _open_read_only(path, timeout=timeout, immutable=immutable)
    try:
        _quick_check(conn, path, timeout=timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_version_read_only(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        _ensure_schema(conn, path)  # raises the usual newer-version error
    if version == 0:
        raise StoreError(
            f"{path}: berkas SQLite ini bukan basis data kasus; pilih berkas lain",
            f"{path}: this SQLite file is not a case database; choose another path",
        )
    raise StoreError(
        f"{path}: skema lama (versi {version}); buka sekali tanpa read_only di folder yang bisa "
        "ditulis untuk memperbaruinya",
        f"{path}: old layout (schema version {version}); open it once writable (without "
        "read_only) to migrate it",
    )


def connect(
    path: str | Path, *, timeout: float = 10.0, read_only: bool = False
) -> sqlite3.Connection:
    """Open (or create) a store file: WAL journal, foreign keys, busy timeout, current schema.

    The connection is in autocommit mode (``isolation_level=None``); writers open their own
    ``BEGIN IMMEDIATE`` transactions. SQLite's own busy wait (``busy_timeout``) is at most 2 s per
    attempt; :func:`retry_busy` repeats attempts up to ``timeout``. A file of an older schema
    version is copied to ``<name>.v<version>.bak`` and migrated forward in one transaction.

    An existing file is first checked with ``PRAGMA quick_check`` through a read-only
    connection, so a damaged file is refused before anything could be written to it.

    With ``read_only=True`` the file is opened with SQLite's ``file:...?mode=ro`` URI (nothing
    is created, migrated or switched to WAL); in a folder that cannot be written and without a
    ``-wal`` file beside it, also with ``immutable=1`` (SQLite then needs no ``-shm`` file).

    Raises
    ------
    StoreError
        When the file is damaged, is not a case store, was made by a newer version of the
        toolkit, stays locked longer than ``timeout`` seconds, or (read-only) does not exist or
        has an older layout.
    """
    memory = str(path) == ":memory:"
    if read_only:
        if memory or not Path(path).is_file():
            raise StoreError(
                f"Tidak ada basis data kasus di {path} untuk dibaca; periksa nama berkasnya",
                f"There is no case database at {path} to read; check the file name",
            )
        path = Path(path)
        folder_ro = not writable(path.resolve().parent)
        wal = Path(f"{path}-wal")
        conn = _check_existing(path, timeout=timeout, immutable=folder_ro and not wal.exists())
        try:
            _check_version_read_only(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _damaged(path, str(exc)) from exc
        except BaseException:
            conn.close()
            raise
        return conn
    if not memory:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > 0:
            _check_existing(path, timeout=timeout, immutable=False).close()
    try:
        conn = sqlite3.connect(
            str(path), timeout=min(timeout, 2.0), isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(
            f"Berkas basis data kasus tidak bisa dibuka: {path}",
            f"The case database file cannot be opened: {path} ({exc})",
        ) from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone(), timeout=timeout)
        conn.execute("PRAGMA synchronous = NORMAL")
        retry_busy(lambda: _ensure_schema(conn, None if memory else Path(path)), timeout=timeout)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"{path} bukan basis data kasus pekso_toolkit atau rusak",
            f"{path} is not a pekso_toolkit case database, or it is damaged ({exc})",
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_schema(conn: sqlite3.Connection, path: Path | None) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: dibuat oleh versi pekso_toolkit yang lebih baru (skema {version}); perbarui "
            "pekso_toolkit",
            f"{path}: made by a newer pekso_toolkit (schema {version}, this one reads up "
            f"to {SCHEMA_VERSION}); upgrade pekso_toolkit",
        )
    if version == 0 and _tables(conn):
        raise StoreError(
            f"{path}: berkas SQLite ini bukan basis data kasus; pilih berkas lain",
            f"{path}: this SQLite file is not a case database (it has other tables); choose "
            "another path",
        )
    if version > 0 and path is not None:
        backup = path.with_name(f"{path.name}.v{version}.bak")
        if not backup.exists():
            dest = sqlite3.connect(str(backup))
            try:
                conn.backup(dest)
            finally:
                dest.close()
    conn.execute("BEGIN IMMEDIATE")
    try:
        # another process may have created or migrated the file meanwhile
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            for stmt in V2_DDL:
                conn.execute(stmt)
            _set_meta(conn, {"role": "store", "created_at": to_iso(now_utc())})
        else:
            while version < SCHEMA_VERSION:
                for stmt in MIGRATIONS[version]:
                    conn.execute(stmt)
                version += 1
                _set_meta(conn, {f"migrated_to_v{version}_at": to_iso(now_utc())})
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('role', 'store')")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _set_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``meta`` table as a dict."""
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


# ------------------------------------------------------------------------------------------ time
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
_DIGIT = "[0-9]"
#: SQL condition on an events row: both times are stored fixed-width text of the plausible window
#: (rows written before the window was enforced, or by hand, fail it and are reported instead).
GOOD_AT = (
    "length(at) = 27 AND length(recorded_at) = 27 "
    "AND at GLOB '{d}{d}{d}{d}-{d}{d}-{d}{d}T{d}{d}:{d}{d}:{d}{d}.{d}{d}{d}{d}{d}{d}Z' "
    "AND recorded_at GLOB '{d}{d}{d}{d}-{d}{d}-{d}{d}T{d}{d}:{d}{d}:{d}{d}.{d}{d}{d}{d}{d}{d}Z' "
    "AND at >= '{start}' AND recorded_at >= '{start}' "
    "AND substr(at, 1, 10) <= date(recorded_at, '+{ahead} day')"
).format(
    d=_DIGIT, start=f"{PLAUSIBLE_FROM.isoformat()}T00:00:00.000000Z", ahead=PLAUSIBLE_AHEAD_DAYS
)


def now_utc() -> datetime:
    """The current time, UTC, aware."""
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """UTC ISO-8601 text with microseconds and ``Z``: ``2025-01-31T02:00:00.000000Z``.

    Fixed width (the year has four digits, ``0202-…`` for year 202), so text order is time order.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond:06d}Z"
    )


def from_iso(text: str) -> datetime:
    """Parse text written by :func:`to_iso` back to an aware UTC datetime."""
    return datetime.fromisoformat(text)


def iso_to_series(values: Any) -> pd.Series:
    """Stored ISO text -> ``datetime64[ns, UTC]`` Series (vectorised); text that is not a stored
    time of the plausible window becomes NaT."""
    out = pd.to_datetime(pd.Series(values, dtype=object), format=_ISO, utc=True, errors="coerce")
    return pd.Series(out.where(out >= pd.Timestamp(PLAUSIBLE_FROM, tz="UTC")))


def series_to_iso(stamps: pd.Series) -> list[str]:
    """A ``datetime64[ns, UTC]`` Series -> stored ISO text (vectorised, microseconds)."""
    raw = pd.DatetimeIndex(stamps).tz_convert("UTC").tz_localize(None).to_numpy()
    text = np.datetime_as_string(raw.astype("datetime64[us]"), unit="us").tolist()
    return [t + "Z" for t in text]


def plausible_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The times the store accepts: from :data:`~pekso_toolkit.core.config.PLAUSIBLE_FROM`
    (midnight UTC) to ``now`` plus :data:`~pekso_toolkit.core.config.PLAUSIBLE_AHEAD_DAYS`."""
    start = datetime(PLAUSIBLE_FROM.year, PLAUSIBLE_FROM.month, PLAUSIBLE_FROM.day, tzinfo=UTC)
    return start, (now or now_utc()) + timedelta(days=PLAUSIBLE_AHEAD_DAYS)


def _window_error(
    field: str, shown: str, now: datetime | None, *, future: bool = False
) -> RecordError:
    start, end = plausible_window(now)
    first, last = start.date().isoformat(), end.date().isoformat()
    when_id, when_en = (" ada di masa depan,", " is in the future,") if future else ("", " is")
    return RecordError(
        f"{field}: {shown}{when_id} di luar rentang tanggal yang masuk akal ({first} s.d. "
        f"{last}, yaitu sekarang + {PLAUSIBLE_AHEAD_DAYS} hari); periksa tahunnya (salah ketik?)",
        f"{field}: {shown}{when_en} outside the plausible window ({first} to {last}, i.e. now + "
        f"{PLAUSIBLE_AHEAD_DAYS} day(s)); check the year (a typo?)",
        field=field,
    )


def check_plausible(moment: datetime, *, field: str, now: datetime | None = None) -> datetime:
    """Refuse (:class:`RecordError` naming ``field`` and the window) a time outside
    :func:`plausible_window`; return it unchanged otherwise."""
    start, end = plausible_window(now)
    if moment < start or moment > end:
        raise _window_error(field, to_iso(moment), now, future=moment > start)
    return moment


def parse_when(value: Any, *, field: str, tz: str) -> datetime:
    """A time given by a user -> aware UTC datetime.

    Accepts an aware or naive ``datetime``/``pandas.Timestamp`` (naive: read in ``tz``), a
    ``date`` (midnight in ``tz``) or ISO-8601 text. Reading is done by
    :func:`pekso_toolkit.core.times.to_utc` (so ``tz`` may also be ``WIB``/``WITA``/``WIT``);
    this function keeps the store's own checks and messages: a value of another type, an
    unreadable or missing time is a :class:`RecordError` naming ``field``, and a time that cannot
    be placed on the UTC calendar (e.g. ``datetime(1, 1, 1)``) one naming the plausible window.
    """
    if value is pd.NaT:
        raise RecordError(f"{field}: waktu kosong", f"{field}: the time is missing", field=field)
    if not isinstance(value, str | date):  # datetime and Timestamp are dates too
        raise RecordError(
            f"{field}: harus berupa waktu (datetime, date atau teks ISO), bukan "
            f"{type(value).__name__}",
            f"{field}: must be a time (datetime, date or ISO text), not {type(value).__name__}",
            field=field,
        )
    try:
        stamp = to_utc(value, tz=tz, field=field)
    except TimeValueError as exc:
        if isinstance(exc.__context__, OverflowError | OutOfBoundsError):
            raise _window_error(field, repr(value), None) from None
        if isinstance(value, str) and value.strip() and value.strip().lower() != "nat":
            raise RecordError(
                f"{field}: {value!r} bukan waktu yang dikenali; tulis seperti 2025-01-31 atau "
                "2025-01-31T09:30",
                f"{field}: {value!r} is not a recognised time; write it like "
                "2025-01-31 or 2025-01-31T09:30",
                field=field,
            ) from None
        raise RecordError(
            f"{field}: waktu kosong", f"{field}: the time is missing", field=field
        ) from None
    moment: datetime = stamp.to_pydatetime(warn=False)
    return moment.astimezone(UTC)


OutOfBoundsError = pd.errors.OutOfBoundsDatetime
