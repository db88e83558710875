"""Plumbing of the case store: connection, transactions, time and identity of each recording.

:class:`StoreBase` holds what :class:`pekso_toolkit.store.CaseStore` is built on; use
``CaseStore``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self, TypeAlias

import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import PracticeRuleError, StoreError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store.fold import fold
from pekso_toolkit.store.frames import EVENT_COLUMNS
from pekso_toolkit.store.records import Event
from pekso_toolkit.store.rules import check_name, rule
from pekso_toolkit.store.schema import (
    GOOD_AT,
    RecordError,
    check_plausible,
    connect,
    now_utc,
    parse_when,
    read_meta,
    read_only_error,
    read_only_reason,
    retry_busy,
    to_iso,
)
from pekso_toolkit.store.state import CaseState

__all__ = ["StoreBase", "When"]

#: Per-connection tables and views: rows left out of analysis tables, and what remains.
_TEMP_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS bad_events (event_id INTEGER PRIMARY KEY, case_id TEXT, "
    "kind TEXT, at_text TEXT, recorded_at_text TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS voided_cases (case_id TEXT PRIMARY KEY, event_id INTEGER)",
    "CREATE TEMP VIEW IF NOT EXISTS good_events AS SELECT * FROM main.events WHERE event_id NOT IN "
    "(SELECT event_id FROM temp.bad_events) AND case_id NOT IN "
    "(SELECT case_id FROM temp.voided_cases)",
    "CREATE TEMP VIEW IF NOT EXISTS live_cases AS SELECT * FROM main.cases WHERE case_id NOT IN "
    "(SELECT case_id FROM temp.voided_cases)",
)

#: A time given by a user: aware or naive datetime / Timestamp, date, ISO text; None means now.
When: TypeAlias = datetime | pd.Timestamp | str | None


#: checklist items that a recording ticks by itself, so the worker never enters a fact twice:
#: signing the service contract is "kontrak layanan ditandatangani", referring the last
#: out-of-scope problem is "masalah di luar cakupan dirujuk", closing the case with its
#: termination contract is "kontrak pengakhiran ditandatangani"
DERIVED_TICKS: dict[str, str] = {
    "contract_signed": "kontrak_layanan",
    "problem_referred": "rujukan_keluar",
    "case_closed": "kontrak_pengakhiran",
}
#: recordings whose own tick is written just before them (the closure checks its items)
_TICK_FIRST = frozenset({"case_closed"})


def _derived_tick(
    kind: str, state: CaseState, payload: dict[str, Any], model: StageModel
) -> str | None:
    """The checklist item the recording ``kind`` ticks by itself, or None."""
    item = DERIVED_TICKS.get(kind)
    if item is None or not model.has_item(item) or item in state.ticked:
        return None
    if kind == "problem_referred":  # only once every out-of-scope problem is referred
        contract = state.active_contract
        out = set(contract.out_of_scope) if contract is not None else set()
        referred = {p.problem_id for p in state.problems if p.referred_to}
        if not out or not out <= referred | {payload.get("problem_id")}:
            return None
    return item


class StoreBase:
    """Connection, transactions and checks shared by the recording and reading API."""

    def __init__(
        self,
        path: str | Path = "data/cases.sqlite",
        *,
        worker: str | None = None,
        model: StageModel | None = None,
        clock: Callable[[], datetime] | None = None,
        tz: str = DEFAULT_TZ,
        lock_timeout: float = 10.0,
        read_only: bool = False,
    ) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        self.model = model or StageModel.default()
        self.worker = check_name(worker, "worker", required=False)
        self.tz = tz
        self.lock_timeout = float(lock_timeout)
        self._clock = clock or now_utc
        #: why recording is refused: "asked", "file" or "folder" (see read_only_reason); None
        self.read_only_reason = read_only_reason(path, asked=bool(read_only))
        self._conn = connect(
            path, timeout=self.lock_timeout, read_only=self.read_only_reason is not None
        )
        # one connection, shared by the threads that use this store (Jupyter runs widget
        # callbacks on its own thread): every statement and transaction holds this lock
        self._lock = threading.RLock()
        # set while CaseStore.check() runs a recording call as a dry run (per thread)
        self._dry = threading.local()
        self.role = read_meta(self._conn).get("role", "store")
        # rows whose times are not stored times of the plausible window (written by hand or by
        # an older toolkit) and cases voided as opened by mistake: found once per new event id,
        # kept in this connection's temporary tables, left out of every analysis table
        self._checked_up_to = 0
        for stmt in _TEMP_DDL:
            self._conn.execute(stmt)

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (asked, or the file or folder not writable)."""
        return self.read_only_reason is not None

    # ------------------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
            self._closed = True

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (widgets on a closed store stop re-reading it)."""
        return getattr(self, "_closed", False)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        with self._lock:
            n = self._conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        return f"CaseStore({str(self.path)!r}, {n} cases, role={self.role!r})"

    def _now(self) -> datetime:
        moment = self._clock()
        if not isinstance(moment, datetime):
            raise StoreError(
                "clock() harus memberi datetime", "clock() must return a datetime", field="clock"
            )
        return parse_when(moment, field="clock()", tz="UTC")

    def _when(self, at: When, now: datetime) -> datetime:
        if at is None:
            return now
        moment = check_plausible(parse_when(at, field="at", tz=self.tz), field="at", now=now)
        if moment > now:
            raise RecordError(
                f"at: {to_iso(moment)} ada di masa depan (sekarang {to_iso(now)}); catat yang "
                "sudah terjadi",
                f"at: {to_iso(moment)} is in the future (now {to_iso(now)}); "
                "record what has happened",
                field="at",
            )
        return moment

    def _by(self, by: str | None) -> str:
        who = check_name(by, "by", required=False) or self.worker
        if who is None:
            raise RecordError(
                "by: siapa yang mencatat? isi by= atau CaseStore(worker=...)",
                "by: who is recording? pass by= or open the store with CaseStore(worker=...)",
                field="by",
            )
        return who

    def _screen(self, conn: sqlite3.Connection) -> None:
        """Note events written since the last look that have bad times or void a case."""
        last = self._checked_up_to
        top = conn.execute("SELECT MAX(event_id) FROM main.events").fetchone()[0] or 0
        if top <= last:
            return
        conn.execute(
            "INSERT OR IGNORE INTO temp.bad_events (event_id, case_id, kind, at_text, "  # noqa: S608 (constant SQL)
            f"recorded_at_text) SELECT event_id, case_id, kind, at, recorded_at FROM main.events "
            f"WHERE event_id > ? AND NOT ({GOOD_AT})",
            (last,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO temp.voided_cases (case_id, event_id) SELECT case_id, "
            "event_id FROM main.events WHERE event_id > ? AND kind = 'case_voided'",
            (last,),
        )
        self._checked_up_to = top

    def _warn_bad(self, conn: sqlite3.Connection) -> None:
        """Warn (once per read) about rows left out because their times are bad."""
        rows = conn.execute(
            "SELECT event_id, case_id, at_text FROM temp.bad_events WHERE case_id NOT IN "
            "(SELECT case_id FROM temp.voided_cases) ORDER BY event_id"
        ).fetchall()
        if not rows:
            return
        shown = "; ".join(f"#{e} {c} {a!r}" for e, c, a in rows[:5])
        more = f" (+{len(rows) - 5})" if len(rows) > 5 else ""
        warnings.warn(
            f"{len(rows)} kejadian dengan waktu yang tidak masuk akal dilewati: {shown}{more}; "
            "batalkan kasusnya dengan store.void_case(case_id, reason=...) lalu catat ulang / "
            f"{len(rows)} event(s) with implausible times were left out: {shown}{more}; void the "
            "case with store.void_case(case_id, reason=...) and record it again "
            "(see store.bad_events())",
            UserWarning,
            stacklevel=3,
        )

    def _writable_error(self) -> StoreError | None:
        """Why this store takes no recordings (an export, or opened read-only), else None."""
        if self.role == "export":
            return StoreError(
                "Ini salinan ekspor untuk analisis dan hanya bisa dibaca; catat di basis data asli",
                "This is an analysis export and is read-only; record in the original store",
            )
        if self.read_only_reason is not None:
            return read_only_error(self.path, self.read_only_reason)
        return None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), retried while the file is locked."""
        refused = self._writable_error()
        if refused is not None:
            raise refused
        conn = self._conn
        with self._lock:
            retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"), timeout=self.lock_timeout)
            try:
                self._screen(conn)
                yield conn
                retry_busy(lambda: conn.execute("COMMIT"), timeout=self.lock_timeout)
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(
                        "Basis data menolak penulisan; tidak ada yang tersimpan",
                        f"The database refused the write; nothing was saved ({exc})",
                    ) from exc
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reads made of several queries."""
        conn = self._conn
        with self._lock:
            retry_busy(lambda: conn.execute("BEGIN"), timeout=self.lock_timeout)
            try:
                self._screen(conn)
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _events_of(
        self, conn: sqlite3.Connection, case_id: Any, *, voided_too: bool = False
    ) -> list[Event]:
        """The events of a case with plausible times; a voided case only with ``voided_too``."""
        if not isinstance(case_id, str):
            raise RecordError(
                f"case_id: harus teks seperti 'K-000001', bukan {type(case_id).__name__}",
                f"case_id: must be text such as 'K-000001', not {type(case_id).__name__}",
                field="case_id",
            )
        source = "main.events" if voided_too else "good_events"
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM {source} WHERE case_id = ? "  # noqa: S608
            "AND event_id NOT IN (SELECT event_id FROM temp.bad_events) ORDER BY event_id",
            (case_id,),
        ).fetchall()
        if not rows:
            voided = conn.execute(
                "SELECT event_id FROM temp.voided_cases WHERE case_id = ?", (case_id,)
            ).fetchone()
            if voided:
                raise RecordError(
                    f"case_id: kasus {case_id} sudah dibatalkan (kejadian #{voided[0]}); buka "
                    "kasus baru",
                    f"case_id: case {case_id} was voided (event #{voided[0]}); open a new case",
                    field="case_id",
                )
            if conn.execute(
                "SELECT 1 FROM temp.bad_events WHERE case_id = ?", (case_id,)
            ).fetchone():
                raise RecordError(
                    f"case_id: waktu kejadian kasus {case_id} tidak masuk akal; batalkan dengan "
                    "void_case() lalu catat ulang",
                    f"case_id: the events of case {case_id} have "
                    "implausible times; void it with void_case() and record it again",
                    field="case_id",
                )
            raise RecordError(
                f"case_id: kasus {case_id!r} tidak ada di basis data ini",
                f"case_id: there is no case {case_id!r} in this store",
                field="case_id",
            )
        return [Event.from_row(r) for r in rows]

    def _state(self, conn: sqlite3.Connection, case_id: Any) -> CaseState:
        return fold(self._events_of(conn, case_id), self.model)

    @staticmethod
    def _closed_error(state: CaseState) -> PracticeRuleError | None:
        """The ``case_closed`` rule when the case is closed, else None."""
        if not state.closed:
            return None
        return rule(
            "case_closed",
            f"Kasus {state.case_id} ditutup pada {to_iso(state.closures[-1].at)}.",
            f"Case {state.case_id} was closed at {to_iso(state.closures[-1].at)}.",
        )

    @classmethod
    def _open(cls, state: CaseState) -> None:
        found = cls._closed_error(state)
        if found is not None:
            raise found

    @staticmethod
    def _before_error(moment: datetime, since: datetime | None, what: str) -> RecordError | None:
        """The error of a time earlier than ``since`` (``what`` names it), else None."""
        if since is None or moment >= since:
            return None
        return RecordError(
            f"at: {to_iso(moment)} lebih awal dari {what} ({to_iso(since)})",
            f"at: {to_iso(moment)} is earlier than {what} ({to_iso(since)})",
            field="at",
        )

    @classmethod
    def _not_before(cls, moment: datetime, since: datetime | None, what: str) -> None:
        found = cls._before_error(moment, since, what)
        if found is not None:
            raise found

    def _insert(
        self,
        conn: sqlite3.Connection,
        case_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        at: datetime,
        now: datetime,
        by: str,
        stage: str | None = None,
        voids: int | None = None,
    ) -> int:
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        cur = conn.execute(
            "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload, stage, "
            "voids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, kind, to_iso(at), to_iso(now), by, text, stage, voids),
        )
        return int(cur.lastrowid or 0)

    def _record(
        self,
        case_id: str,
        kind: str,
        build: Callable[[CaseState, datetime], dict[str, Any]],
        *,
        at: When,
        by: str | None,
        stage: str | None = None,
        allow_closed: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """Check and write one event: ``build(state, at)`` validates and returns the payload.

        During a dry run (:meth:`CaseStore.check`) the same checks run on a read snapshot and
        nothing is written (the event id returned is 0).
        """
        who = self._by(by)
        if getattr(self._dry, "on", False):
            with self._read() as conn:
                return 0, self._checked(conn, case_id, build, at=at, allow_closed=allow_closed)[2]
        with self._write() as conn:
            now, moment, payload, state = self._checked(
                conn, case_id, build, at=at, allow_closed=allow_closed
            )
            item = _derived_tick(kind, state, payload, self.model)

            def tick(source: dict[str, Any]) -> None:  # in the same transaction
                tick_payload = {"item": item, **source}
                self._insert(conn, case_id, "item_ticked", tick_payload, at=moment, now=now, by=who)

            if item is not None and kind in _TICK_FIRST:
                tick({"derived_from_kind": kind})
            eid = self._insert(
                conn, case_id, kind, payload, at=moment, now=now, by=who, stage=stage
            )
            if item is not None and kind not in _TICK_FIRST:
                tick({"derived_from": eid})
        return eid, payload

    def _checked(
        self,
        conn: sqlite3.Connection,
        case_id: str,
        build: Callable[[CaseState, datetime], dict[str, Any]],
        *,
        at: When,
        allow_closed: bool,
    ) -> tuple[datetime, datetime, dict[str, Any], CaseState]:
        """The checks of every recording: ``(now, at, payload, state before it)`` or the error
        that refuses it."""
        now = self._now()
        moment = self._when(at, now)
        state = self._state(conn, case_id)
        if not allow_closed:
            self._open(state)
        self._not_before(moment, state.opened_at, "waktu kasus dibuka / the case's opening")
        return now, moment, build(state, moment), state
