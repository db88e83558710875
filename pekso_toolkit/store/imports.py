"""What an import into the case store did with every row: :class:`ImportReport`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.store.schema import RecordError

__all__ = ["CaseImportError", "ImportReport", "Refusal"]


@dataclass(frozen=True)
class Refusal:
    """One refused row of an import: its position (0-based), the rule and the error."""

    pos: int
    rule: str
    error: PeksoError


class CaseImportError(RecordError):
    """The rows of one case that an import refused; ``case_id`` names the case, ``row`` the
    first refused row (1 = the log's first row)."""

    def __init__(self, message_id: str, message_en: str, *, case_id: str, row: int) -> None:
        super().__init__(message_id, message_en, field="stage", row=row)
        self.case_id = case_id


class ImportReport(int):
    """The result of :meth:`CaseStore.import_events`: the number of events written (an ``int``,
    as before), with an account of every row.

    Attributes
    ----------
    n_rows : int
        Rows in the log.
    rows : pandas.DataFrame
        One row per row of the log, in order: ``row`` (1 = first), ``case_id``, ``stage``
        (string), ``timestamp`` (UTC), ``status`` (``"imported"`` / ``"refused"``), ``rule``
        (the rule that refused it, NA when imported), ``reason_id`` and ``reason_en`` (the
        refusal in Bahasa Indonesia and in English, NA when imported).
    refused : pandas.DataFrame
        The refused rows of :attr:`rows`.
    errors : tuple of RecordError
        One error per case with refused rows (attribute ``case_id``), naming the case, each
        refused row (number, stage, time) and its rule; ``row`` is the first refused row.
    """

    n_rows: int
    errors: tuple[CaseImportError, ...]
    _log: pd.DataFrame
    _refusals: tuple[Refusal, ...]

    def __new__(
        cls, written: int, *, log: pd.DataFrame, refusals: tuple[Refusal, ...] = ()
    ) -> ImportReport:
        self = super().__new__(cls, written)
        self.n_rows = len(log)
        self._log = log
        self._refusals = refusals
        self.errors = _case_errors(log, refusals)
        return self

    def __repr__(self) -> str:
        return f"ImportReport(imported={int(self)}, refused={len(self._refusals)})"

    @property
    def rows(self) -> pd.DataFrame:
        """Every row of the log with its status (see the class documentation)."""
        n = self.n_rows
        status = np.full(n, "imported", dtype=object)
        rules = np.full(n, None, dtype=object)
        reason_id = np.full(n, None, dtype=object)
        reason_en = np.full(n, None, dtype=object)
        for r in self._refusals:
            status[r.pos] = "refused"
            rules[r.pos] = r.rule
            reason_id[r.pos] = r.error.message_id
            reason_en[r.pos] = r.error.message_en
        log = self._log
        return pd.DataFrame(
            {
                "row": np.arange(1, n + 1, dtype=np.int64),
                "case_id": pd.array(log["case_id"], dtype="string"),
                "stage": pd.array(log["stage"], dtype="string"),
                "timestamp": pd.DatetimeIndex(log["timestamp"]),
                "status": pd.array(status, dtype="string"),
                "rule": pd.array(rules, dtype="string"),
                "reason_id": pd.array(reason_id, dtype="string"),
                "reason_en": pd.array(reason_en, dtype="string"),
            }
        )

    @property
    def refused(self) -> pd.DataFrame:
        """The refused rows of :attr:`rows`."""
        rows = self.rows
        return rows[rows["status"] == "refused"].reset_index(drop=True)


def _case_errors(log: pd.DataFrame, refusals: tuple[Refusal, ...]) -> tuple[CaseImportError, ...]:
    by_case: dict[str, list[Refusal]] = {}
    for r in refusals:
        by_case.setdefault(str(log["case_id"].iloc[r.pos]), []).append(r)
    out = []
    for case_id, found in by_case.items():
        parts_id, parts_en = [], []
        for r in found[:5]:
            stage = log["stage"].iloc[r.pos]
            at = _text(log["timestamp"].iloc[r.pos])
            parts_id.append(f"baris {r.pos + 1} ({stage}, {at}): {r.rule}: {r.error.message_id}")
            parts_en.append(f"row {r.pos + 1} ({stage}, {at}): {r.rule}: {r.error.message_en}")
        more = len(found) - 5
        tail_id = f"; dan {more} baris lagi" if more > 0 else ""
        tail_en = f"; and {more} more row(s)" if more > 0 else ""
        out.append(
            CaseImportError(
                f"Kasus {case_id} sudah dicatat di basis data; {len(found)} baris impor ditolak "
                f"oleh aturan praktik: {'; '.join(parts_id)}{tail_id}. Catat perubahan itu "
                "lewat pencatatan (enter_stage, close_case, reopen) atau perbaiki lognya",
                f"Case {case_id} is recorded in the store; {len(found)} imported row(s) refused "
                f"by the practice rules: {'; '.join(parts_en)}{tail_en}. Record those changes "
                "with the recording calls (enter_stage, close_case, reopen) or fix the log",
                case_id=case_id,
                row=found[0].pos + 1,
            )
        )
    return tuple(out)


def _text(value: Any) -> str:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        return stamp.isoformat()
    return stamp.tz_convert("UTC").isoformat().replace("+00:00", "Z")
