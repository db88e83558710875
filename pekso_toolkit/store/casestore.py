"""The case store: casework recorded as append-only events in SQLite.

Every action (opening a case, adding a problem, signing or amending the service contract,
ticking a checklist item, moving to a stage, closing, reopening) is one event row. Nothing is
updated or deleted: a mistake is put right with a correcting event (:meth:`CaseStore.correct`,
:meth:`CaseStore.untick`), so the whole history stays (who, when, why). The current state of a
case is folded from its events (:func:`pekso_toolkit.store.fold.fold`).

The client's reference (identity) lives in its own table and never leaves the store: the
analysis tables (:meth:`CaseStore.cases`, :meth:`CaseStore.stage_events`, ...), the event
payloads and :meth:`CaseStore.export` carry only the case id.

Each :class:`CaseStore` opens its own SQLite connection; use an instance from the thread that
created it (one store object per thread or process). Several processes may write to the same
file at once: writes take the file's write lock (``BEGIN IMMEDIATE``) and wait for it, retrying
with back-off for up to ``lock_timeout`` seconds. Keep the file on a local disk (WAL mode does
not work on network shares).
"""

from __future__ import annotations

import dataclasses
import html
import json
import sqlite3
import warnings
from itertools import compress, repeat
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.core.i18n import bilingual
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.store.fold import fold
from pekso_toolkit.store.frames import (
    EVENT_COLUMNS,
    case_frame,
    flag_frame,
    import_payloads,
    primary_categories,
    problem_frame,
    recorded_attrs,
    stage_frame,
)
from pekso_toolkit.store.imports import ImportReport, Refusal
from pekso_toolkit.store.record import RecordingMixin
from pekso_toolkit.store.records import Event
from pekso_toolkit.store.schema import (
    EXPORT_DDL,
    RecordError,
    iso_to_series,
    plausible_window,
    retry_busy,
    series_to_iso,
    to_iso,
)
from pekso_toolkit.store.state import CaseState
from pekso_toolkit.store.text import describe

__all__ = ["CaseStore", "RecordError"]

_TEXT_KEYS = ("story", "text", "reason", "capacity_note", "termination_contract")


def _import_log(case_list: list[str], stage_list: list[str], stamps: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {"case_id": case_list, "stage": stage_list, "timestamp": stamps.reset_index(drop=True)}
    )


def _export_refused(path: Path, store: Path) -> StoreError:
    return StoreError(
        f"Ekspor ke {path} ditolak: berkas itu (atau jurnalnya) adalah basis data kasus {store}, "
        "dan menimpanya akan menghapus data klien; pilih nama berkas lain",
        f"Export to {path} refused: that file (or its journal) is the case database {store}, "
        "and overwriting it would delete client data; choose another file name",
    )


def _is_case_store(path: Path) -> bool:
    """Whether ``path`` is an SQLite file holding a case store (not an analysis export)."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return False
    except OSError:
        return False
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return True  # an SQLite file we cannot read: never overwrite it
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "clients" in tables:
            return True
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'role'").fetchone()
            return row is None or row[0] != "export"
        return bool(tables & {"cases", "events"})
    except sqlite3.Error:
        return True
    finally:
        conn.close()


def _import_events_of(log: Any, on_existing: str) -> pd.DataFrame:
    """The events of an EventLog to import; refuses anything else and a bad ``on_existing``."""
    events = getattr(log, "events", None)
    if not isinstance(events, pd.DataFrame) or not {"case_id", "stage", "timestamp"} <= set(
        events.columns
    ):
        raise RecordError(
            "log: harus berupa EventLog; baca ekspor dengan pk.load_events(...)",
            "log: must be an EventLog; read the export with pk.load_events(...)",
            field="log",
        )
    if on_existing not in ("error", "append"):
        raise RecordError(
            "on_existing: pakai 'error' atau 'append'",
            "on_existing: use 'error' or 'append'",
            field="on_existing",
        )
    return events


class CaseStore(RecordingMixin):
    """Casework records in a SQLite file, as append-only events.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with its folder when missing; ``":memory:"`` for a throw-away
        store). A file of an older schema version is migrated (a copy of it is kept beside it).
    worker : str, optional
        Who records (``recorded_by``) when a call does not say ``by=``.
    model : StageModel, optional
        The stage model (default :meth:`StageModel.default`).
    clock : callable, optional
        Returns the current time (aware ``datetime``); default: the system clock in UTC. Used for
        ``recorded_at`` and as the default ``at``.
    tz : str
        Time zone of times given without one (default ``Asia/Jakarta``).
    lock_timeout : float
        Seconds to wait for another writer before giving up with :class:`StoreError`.
    read_only : bool
        Open for reading only (SQLite ``file:...?mode=ro``): the analysis tables work, every
        recording raises :class:`StoreError` ("store opened read-only"). A file that is not
        writable, or that lies in a folder that is not writable, is opened read-only by itself.
        Writability is read from the permission bits (a file without any write bit is read-only
        for everyone, root included) and ``os.access`` with the effective ids;
        :attr:`read_only_reason` says which applied.

    Notes
    -----
    Every recording call is one transaction and returns what it made (a case id, problem id,
    contract id, step id, or the event id). ``at`` (when it happened) defaults to now and may not
    lie in the future; ``by`` defaults to ``worker``. Input errors raise :class:`RecordError`,
    practice rules :class:`pekso_toolkit.PracticeRuleError`; in both cases nothing is written.

    Every file is checked with SQLite's ``PRAGMA quick_check`` when opened (through a read-only
    connection): a damaged file is refused with :class:`StoreError` naming it and how to restore
    it, and is not written to.

    Examples
    --------
    >>> store = CaseStore(":memory:", worker="ani")
    >>> case_id = store.open_case("NIK-0001", office="Bandung", worker="ani", risk="tinggi",
    ...                           referral_source="Ketua RT", story="Kambing hilang, bunga layu")
    >>> store.add_problem(case_id, "Kambing hilang", category="KTK")
    'P1'
    >>> store.sign_contract(case_id, in_scope=["P1"], capacity_note="Mampu ditangani")
    'C1'
    >>> store.case(case_id).stage
    'proses_awal'
    """

    # ------------------------------------------------------------------------- import
    def import_events(
        self,
        log: Any,
        *,
        on_existing: Literal["error", "append"] = "error",
        by: str | None = None,
    ) -> ImportReport:
        """Load an agency's event log (stage entries) in one transaction.

        Parameters
        ----------
        log : EventLog
            From :func:`pekso_toolkit.load_events`. Each event becomes a ``stage_imported`` event;
            every extra column (e.g. ``office``, ``worker``, ``category``) is kept in its payload.
            Cases that are not in the store are created (``source = "imported"``). Times are kept
            to the microsecond.
        on_existing : {"error", "append"}
            What to do when a case id of the log is already in the store: refuse the whole import
            (default) or add the events to that case. Events for a case that was *recorded* in
            the store go through the practice rules of :meth:`enter_stage`, row by row in log
            order: rows dated before the case's opening or its current stage's entry, rows for a
            closed case, a closing (needs a termination contract: :meth:`close_case`), a
            reopening (needs a reason: :meth:`reopen`) and a move into the stage the case is in
            are refused, with a warning; the rows that pass are written. An import never changes
            a recorded case's office or worker (the row's values stay in its payload).
        by : str, optional
            Who imports (default: the store's ``worker``).

        Returns
        -------
        ImportReport
            The number of events written (an ``int``), with :attr:`ImportReport.rows` (every row
            of the log: ``row, case_id, stage, timestamp, status, rule, reason_id, reason_en``)
            and :attr:`ImportReport.errors` (one :class:`RecordError` per case with refused rows,
            naming the case, the rows and the rules). Nothing already stored is changed; the
            rows that pass are written in one transaction (invalid input refuses the whole log).
        """
        events = _import_events_of(log, on_existing)
        who = self._by(by)
        if not len(events):
            empty = pd.Series([], dtype="datetime64[ns, UTC]")
            return ImportReport(0, log=_import_log([], [], empty))
        stage_codes, stage_names = pd.factorize(events["stage"].astype(object))
        stage_names = list(stage_names)
        unknown = sorted(str(x) for x in set(stage_names) - set(self.model.ids))
        if unknown or (stage_codes < 0).any():
            raise RecordError(
                f"log: tahap {unknown} tidak ada di model tahapan basis data ini",
                "log: stage(s) "
                f"{unknown} are not in this store's stage model ({', '.join(self.model.ids)})",
                field="log",
            )
        case_codes, case_names = pd.factorize(events["case_id"].astype(object))
        names = pd.Series(case_names, dtype="string")
        bad_names = (names.str.len() > 200) | names.str.contains(r"[\x00-\x1f\x7f]", regex=True)
        if (case_codes < 0).any() or bad_names.any():
            rows = np.flatnonzero((case_codes < 0) | bad_names.to_numpy()[case_codes])[:5]
            raise RecordError(
                f"log: nomor kasus tidak sah di baris {list(rows)} (kosong, > 200 karakter atau "
                "karakter kontrol)",
                f"log: invalid case id in rows {list(rows)} (missing, over "
                "200 characters or control characters)",
                field="log",
            )
        stamps = pd.Series(pd.DatetimeIndex(events["timestamp"]).tz_convert("UTC"))
        if stamps.isna().any():
            raise RecordError(
                "log: ada waktu yang kosong", "log: some timestamps are missing", field="log"
            )
        at_text = series_to_iso(stamps)
        payloads = import_payloads(events)
        unique = [str(c) for c in case_names]
        case_list = np.asarray(unique, dtype=object)[case_codes].tolist()
        stage_list = np.asarray(stage_names, dtype=object)[stage_codes].tolist()
        with self._write() as conn:
            now = self._now()
            if stamps.max() > pd.Timestamp(now):
                pos = int(stamps.to_numpy().argmax())
                raise RecordError(
                    f"log: kasus {case_list[pos]} punya waktu di masa depan ({at_text[pos]})",
                    f"log: case {case_list[pos]} has a time in the future ({at_text[pos]})",
                    field="log",
                )
            start, _ = plausible_window(now)
            early = np.flatnonzero((stamps < pd.Timestamp(start)).to_numpy())
            if len(early):
                bad_rows = [int(i) + 1 for i in early[:5]]
                raise RecordError(
                    f"log: baris {bad_rows} punya waktu sebelum {start.date()} (tidak masuk akal;"
                    " periksa tahunnya)",
                    f"log: row(s) {bad_rows} have times before {start.date()} "
                    "(implausible; check the year)",
                    field="timestamp",
                    row=bad_rows[0],
                )
            existing = {r[0] for r in conn.execute("SELECT case_id FROM cases")}
            clash = [c for c in unique if c in existing]
            if clash and on_existing == "error":
                raise RecordError(
                    f"log: {len(clash)} kasus sudah ada di basis data (mis. {clash[:5]}); pakai "
                    "on_existing='append' untuk menambah",
                    f"log: {len(clash)} case(s) are already "
                    f"in the store (e.g. {clash[:5]}); pass on_existing='append' to add to them",
                    field="log",
                )
            recorded = {
                r[0] for r in conn.execute("SELECT case_id FROM cases WHERE source = 'recorded'")
            }
            refusals = self._refuse_into_recorded(
                conn, [c for c in clash if c in recorded], case_list, stage_list, stamps, payloads
            )
            keep = np.ones(len(case_list), dtype=bool)
            keep[[r.pos for r in refusals]] = False
            stamp = to_iso(now)
            conn.executemany(
                "INSERT INTO cases (case_id, created_at, source) VALUES (?, ?, 'imported')",
                [(c, stamp) for c in unique if c not in existing],
            )
            values = zip(case_list, at_text, repeat(stamp), repeat(who), payloads, stage_list)
            conn.executemany(
                "INSERT INTO events (case_id, kind, at, recorded_at, recorded_by, payload, stage) "
                "VALUES (?, 'stage_imported', ?, ?, ?, ?, ?)",
                compress(values, keep) if refusals else values,
            )
        report = ImportReport(
            int(keep.sum()),
            log=_import_log(case_list, stage_list, stamps),
            refusals=tuple(refusals),
        )
        if refusals:
            shown = " | ".join(e.message_en for e in report.errors[:3])
            warnings.warn(
                f"{len(refusals)} baris impor ditolak oleh aturan praktik (lihat laporan .rows / "
                f".errors) / {len(refusals)} imported row(s) refused by the practice rules (see "
                f"the report's .rows / .errors): {shown}",
                UserWarning,
                stacklevel=2,
            )
        return report

    def _refuse_into_recorded(
        self,
        conn: sqlite3.Connection,
        cases: list[str],
        case_list: list[str],
        stage_list: list[str],
        stamps: pd.Series,
        payloads: list[str],
    ) -> list[Refusal]:
        """Check the rows of recorded cases with the rules of :meth:`enter_stage`, row by row in
        log order (each accepted row moves the case on); return the refused rows."""
        if not cases:
            return []
        wanted = set(cases)
        positions: dict[str, list[int]] = {}
        for pos, case_id in enumerate(case_list):
            if case_id in wanted:
                positions.setdefault(case_id, []).append(pos)
        refusals: list[Refusal] = []
        now = self._now()
        for case_id, rows in positions.items():
            try:
                events = self._events_of(conn, case_id)
            except RecordError as exc:  # voided, or stored with implausible times
                refusals.extend(Refusal(pos, "case_not_open", exc) for pos in rows)
                continue
            state = fold(events, self.model)
            for pos in rows:
                moment = stamps.iloc[pos].to_pydatetime(warn=False)
                found = self._stage_entry_problem(state, stage_list[pos], moment)
                if found is not None:
                    refusals.append(Refusal(pos, found[0], found[1]))
                    continue
                events.append(
                    Event(
                        10**15 + pos,  # after every stored event, in log order
                        case_id,
                        "stage_imported",
                        moment,
                        now,
                        "",
                        json.loads(payloads[pos]),
                        stage_list[pos],
                    )
                )
                state = fold(events, self.model)
        refusals.sort(key=lambda r: r.pos)
        return refusals

    # ------------------------------------------------------------------------- reading
    def case(self, case_id: str, *, with_client: bool = False) -> CaseState:
        """The folded, read-only state of one case.

        The client reference is attached only with ``with_client=True``.
        """
        with self._read() as conn:
            state = self._state(conn, case_id)
            if with_client:
                row = conn.execute(
                    "SELECT client_ref FROM clients WHERE case_id = ?", (case_id,)
                ).fetchone()
                state = dataclasses.replace(state, client_ref=row[0] if row else None)
        return dataclasses.replace(state, tz=self.tz)  # shown in the store's time zone

    def case_ids(self) -> list[str]:
        """All case ids, sorted (cases voided with :meth:`void_case` left out)."""
        with self._read() as conn:
            return [r[0] for r in conn.execute("SELECT case_id FROM live_cases ORDER BY case_id")]

    def bad_events(self) -> pd.DataFrame:
        """Stored events whose times are not plausible (written by hand or by an older toolkit).

        The analysis tables leave these rows out (with a warning naming them); nothing is
        deleted. Put a case right with :meth:`void_case` and record it again.

        Returns
        -------
        pandas.DataFrame
            ``event_id`` (int64), ``case_id``, ``kind``, ``at_text``, ``recorded_at_text`` (the
            stored text, string), ``case_voided`` (bool: the case was voided since).
        """
        with self._read() as conn:
            rows = conn.execute(
                "SELECT event_id, case_id, kind, at_text, recorded_at_text, case_id IN "
                "(SELECT case_id FROM temp.voided_cases) FROM temp.bad_events ORDER BY event_id"
            ).fetchall()
        cols = list(zip(*rows)) if rows else [()] * 6
        frame = pd.DataFrame(
            {
                "event_id": np.asarray(cols[0], dtype=np.int64),
                **{
                    name: pd.array(cols[i], dtype="string")
                    for i, name in enumerate(
                        ("case_id", "kind", "at_text", "recorded_at_text"), start=1
                    )
                },
                "case_voided": np.asarray(cols[5], dtype=bool),
            }
        )
        return frame

    def cases(self) -> pd.DataFrame:
        """One row per case (no client reference).

        Returns
        -------
        pandas.DataFrame
            ``case_id``; ``source`` (``recorded``/``imported``); ``office``, ``worker`` (latest);
            ``risk`` (high/medium/low), ``referral_source``; ``stage`` (current, ordered
            Categorical); ``opened_at``, ``stage_entered_at``, ``closed_at`` (UTC; ``closed_at``
            NaT while open); ``n_problems``; ``primary_category`` (see
            :attr:`CaseState.primary_category`); ``n_contracts``, ``n_amendments``,
            ``n_reopened``, ``n_events`` (counts; voided events are not counted, except in
            ``n_events``, which counts every row).
        """
        with self._read() as conn:
            self._warn_bad(conn)
            return case_frame(conn, self.model)

    def problems(self, *, text: bool = False) -> pd.DataFrame:
        """One row per problem.

        Returns
        -------
        pandas.DataFrame
            ``case_id, problem_id, category, severity, scope, referred_to, n_amendments``:
            ``scope`` is ``"in"``/``"out"`` in the case's latest contract, NA when no contract
            places the problem; ``referred_to`` is where it was referred (NA if not);
            ``n_amendments`` counts amendments that added or dropped it. With ``text=True`` a
            ``text`` column holds the worker's description. Sorted by case and problem number.
        """
        with self._read() as conn:
            self._warn_bad(conn)
            return problem_frame(conn, self.model, text=text)

    def checklist(self, case_id: str, lang: str | None = None) -> pd.DataFrame:
        """The case's checklist: one row per item of the stage model.

        Returns
        -------
        pandas.DataFrame
            ``stage, item, label`` (in ``lang``), ``forgotten`` (the often-forgotten step it
            marks, or NA), ``ticked`` (bool), ``ticked_at`` (UTC), ``ticked_by``.
        """
        state = self.case(case_id)
        ticks = {t.item_id: t for t in state.ticks}
        rows = []
        for stage in self.model.stages:
            for item in stage.checklist:
                t = ticks.get(item.id)
                rows.append(
                    (
                        stage.id,
                        item.id,
                        item.label(lang),
                        item.forgotten,
                        t is not None,
                        None if t is None else t.ticked_at,
                        None if t is None else t.ticked_by,
                    )
                )
        cols = ["stage", "item", "label", "forgotten", "ticked", "ticked_at", "ticked_by"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["ticked_at"] = pd.to_datetime(frame["ticked_at"], utc=True)
        for col in ("stage", "item", "label", "forgotten", "ticked_by"):
            frame[col] = frame[col].astype("string")
        return frame

    def history(self, case_id: str, lang: str | None = None) -> pd.DataFrame:
        """The audit trail of a case: every event, voided ones (and voided cases) included.

        Returns
        -------
        pandas.DataFrame
            ``event_id, at, recorded_at`` (UTC), ``recorded_by, kind``, ``description`` (a
            readable sentence in ``lang``, default the current language), ``voided_by`` (the
            correcting event, NA if none).
        """
        with self._read() as conn:
            events = self._events_of(conn, case_id, voided_too=True)
        voided_by = {e.voids: e.event_id for e in events if e.voids is not None}
        frame = pd.DataFrame(
            {
                "event_id": [e.event_id for e in events],
                "at": pd.to_datetime([e.at for e in events], utc=True),
                "recorded_at": pd.to_datetime([e.recorded_at for e in events], utc=True),
                "recorded_by": pd.array([e.recorded_by for e in events], dtype="string"),
                "kind": pd.array([e.kind for e in events], dtype="string"),
                "description": pd.array(
                    [describe(e, self.model, lang) for e in events], dtype="string"
                ),
                "voided_by": pd.array([voided_by.get(e.event_id) for e in events], dtype="Int64"),
            }
        )
        return frame

    def events(self, case_id: str | None = None) -> pd.DataFrame:
        """The raw events (all cases, or one).

        Returns
        -------
        pandas.DataFrame
            ``event_id, case_id, kind, at, recorded_at, recorded_by, payload`` (JSON text),
            ``stage`` (for stage changes), ``voids`` (the event a correction voids). Every row is
            listed, those of voided cases too; a stored time that is not plausible is NaT (see
            :meth:`bad_events`).
        """
        where, params = ("case_id = ?", (case_id,)) if case_id is not None else ("1", ())
        with self._read() as conn:
            self._warn_bad(conn)
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY event_id",  # noqa: S608
                params,
            ).fetchall()
        cols = list(zip(*rows)) if rows else [()] * 9
        return pd.DataFrame(
            {
                "event_id": np.asarray(cols[0], dtype=np.int64),
                "case_id": pd.array(cols[1], dtype="string"),
                "kind": pd.array(cols[2], dtype="string"),
                "at": iso_to_series(cols[3]),
                "recorded_at": iso_to_series(cols[4]),
                "recorded_by": pd.array(cols[5], dtype="string"),
                "payload": pd.array(cols[6], dtype="string"),
                "stage": pd.array(cols[7], dtype="string"),
                "voids": pd.array(cols[8], dtype="Int64"),
            }
        )

    def stage_events(self) -> Any:
        """Stage entries of every case as a canonical :class:`pekso_toolkit.EventLog`.

        Returns
        -------
        EventLog
            ``events``: ``case_id`` (string), ``stage`` (ordered Categorical), ``timestamp``
            (UTC), ``office``, ``worker``, ``category`` (string). Recorded cases carry their
            office and worker and the primary problem category; imported events carry the values
            they were imported with. Voided stage changes are left out. No client reference.
        """
        with self._read() as conn:
            self._warn_bad(conn)
            frame = stage_frame(conn, self.model, event_ids=False)
            recorded = ~frame["imported"]
            if recorded.any():
                attrs = recorded_attrs(conn)
                cats = primary_categories(problem_frame(conn, self.model))
                ids = frame["case_id"]
                for col in ("office", "worker"):
                    frame[col] = frame[col].mask(recorded, ids.map(attrs[col]).astype("string"))
                frame["category"] = frame["category"].mask(recorded, ids.map(cats).astype("string"))
        events = frame[["case_id", "stage", "timestamp", "office", "worker", "category"]]
        return EventLog.from_frame(events, model=self.model)

    def flags(self) -> pd.DataFrame:
        """The often-forgotten steps, per case (what supervisors count).

        Returns
        -------
        pandas.DataFrame
            ``case_id, office, worker, stage, closed``; ``no_contract_scope`` (left the first
            stage before a service contract was signed); ``skipped_analysis`` (entered the
            intervention stage when the analysis stage had not been entered or no analysis item
            was ticked); ``closed_without_termination_items`` (closed while an often-forgotten
            checklist item was unticked); ``unticked_at_close`` (those items at the latest such
            closing, ``;``-separated); ``n_flags`` (how many of the three). The three flags are
            NA for imported cases, whose checklists the store does not know.
        """
        with self._read() as conn:
            self._warn_bad(conn)
            return flag_frame(conn, self.model)

    # ------------------------------------------------------------------------- export
    def _refuse_export_onto_store(self, path: Path) -> None:
        """Raise :class:`StoreError` when ``path`` is this store, its journal, or a case store."""
        own = [] if str(self.path) == ":memory:" else [Path(self.path)]
        target = path.resolve()
        for base in own:
            for suffix in ("", "-wal", "-shm", "-journal"):
                if target == Path(f"{base.resolve()}{suffix}"):
                    raise _export_refused(path, base)
        if _is_case_store(path):
            raise _export_refused(path, path)

    def export(
        self,
        path: str | Path,
        *,
        include_text: bool = False,
        overwrite: bool = False,
    ) -> Path:
        """Write a copy for analysts: a new SQLite file without the ``clients`` table.

        The copy holds the cases and all events (corrections included) with their case ids; the
        case id is the store's own number, not the client's identity. Free text that may name
        people (story, problem text, reasons, notes, termination contracts) is left out of the
        payloads unless ``include_text=True``. Open the copy with ``CaseStore(path)``: it is
        read-only and answers :meth:`cases`, :meth:`stage_events`, :meth:`flags`, ... To
        pseudonymise further columns of a table, use :func:`pekso_toolkit.pseudonymise`.

        Returns
        -------
        Path
            The written file.
        """
        path = Path(path)
        self._refuse_export_onto_store(path)
        if path.exists():
            if not overwrite:
                raise StoreError(
                    f"{path} sudah ada; pilih nama lain atau overwrite=True",
                    f"{path} already exists; choose another name or pass overwrite=True",
                )
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(str(path), isolation_level=None)
        try:
            dst.execute("BEGIN")
            for stmt in EXPORT_DDL:
                dst.execute(stmt)
            dst.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("role", "export"),
                    ("exported_at", to_iso(self._now())),
                    ("include_text", "yes" if include_text else "no"),
                ],
            )
            dst.execute("COMMIT")
        finally:
            dst.close()
        if include_text:
            payload = "payload"
        else:
            removed = ", ".join(f"'$.{k}'" for k in _TEXT_KEYS)
            payload = f"json_remove(payload, {removed})"
        with self._lock:  # the attached file belongs to this transaction only
            conn = self._conn
            conn.execute("ATTACH DATABASE ? AS export", (str(path),))
            try:
                retry_busy(lambda: conn.execute("BEGIN"), timeout=self.lock_timeout)
                try:
                    conn.execute(
                        "INSERT INTO export.cases (case_id, created_at, source) "
                        "SELECT case_id, created_at, source FROM main.cases ORDER BY rowid"
                    )
                    conn.execute(
                        "INSERT INTO export.events (event_id, case_id, kind, at, recorded_at, "  # noqa: S608 (constant SQL, values bound)
                        f"recorded_by, payload, stage, voids) SELECT event_id, case_id, kind, at, "
                        f"recorded_at, recorded_by, {payload}, stage, voids "
                        "FROM main.events ORDER BY event_id"
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                conn.execute("DETACH DATABASE export")
        return path

    def _repr_html_(self) -> str:
        with self._read() as conn:
            n_cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
            n_events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        title = bilingual("Basis data kasus", "Case store")
        return (
            f"<p><b>{title}</b> <code>{html.escape(str(self.path))}</code>: {n_cases} "
            f"{bilingual('kasus', 'cases')}, {n_events} {bilingual('kejadian', 'events')}</p>"
        )
