"""Input checks and practice rules of the case store.

Input checks raise :class:`RecordError` naming the field; practice rules raise
:class:`PracticeRuleError` with a bilingual message that says what to do. Both are raised before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from typing import Any

import pandas as pd

from pekso_toolkit.core.config import RISK_ALIASES
from pekso_toolkit.core.errors import PeksoError, PracticeRuleError, StoreError
from pekso_toolkit.store.schema import RecordError

__all__ = [
    "MAX_NAME",
    "MAX_TEXT",
    "RULE_FIELDS",
    "Problem",
    "check_ids",
    "check_level",
    "check_name",
    "check_text",
    "refuse_all",
    "rule",
]

#: Longest accepted free text (story, problem text, reasons, notes), in characters.
MAX_TEXT = 2_000_000
#: Longest accepted short name (office, worker, category, client reference, ids), in characters.
MAX_NAME = 200

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_NAME = re.compile(r"[\x00-\x1f\x7f]")
_LEVELS = RISK_ALIASES


def _bad_char(text: str, pattern: re.Pattern[str], field: str) -> None:
    found = pattern.search(text)
    if found:
        char = found.group()
        raise RecordError(
            f"{field}: teks memuat karakter kontrol {char!r} di posisi {found.start()}; hapus "
            "karakter itu",
            f"{field}: the text holds the control character {char!r} at position "
            f"{found.start()}; remove it",
            field=field,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(
            f"{field}: teks memuat karakter yang tidak sah (surrogate) di posisi {exc.start}; "
            "salin ulang teksnya",
            f"{field}: the text holds an invalid character (a lone "
            f"surrogate) at position {exc.start}; copy the text again",
            field=field,
        ) from None


def check_text(value: Any, field: str, *, required: bool = True) -> str | None:
    """Free text (several lines allowed): a ``str`` of at most :data:`MAX_TEXT` characters,
    without control characters other than tab and line breaks. Stored exactly as given."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise RecordError(
            f"{field}: harus berupa teks, bukan {type(value).__name__}",
            f"{field}: must be text (str), not {type(value).__name__}",
            field=field,
        )
    if required and not value.strip():
        raise RecordError(
            f"{field}: tidak boleh kosong", f"{field}: must not be empty", field=field
        )
    if len(value) > MAX_TEXT:
        raise RecordError(
            f"{field}: teks terlalu panjang ({len(value):,} karakter, paling banyak "
            f"{MAX_TEXT:,}); ringkas atau simpan sebagai dokumen terpisah",
            f"{field}: the text is "
            f"too long ({len(value):,} characters, at most {MAX_TEXT:,}); shorten it or keep it "
            "as a separate document",
            field=field,
        )
    _bad_char(value, _CONTROL, field)
    return value


def check_name(value: Any, field: str, *, required: bool = True) -> str | None:
    """A short one-line name (office, worker, category, reference): stripped, at most
    :data:`MAX_NAME` characters."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise RecordError(
            f"{field}: harus berupa teks, bukan {type(value).__name__}",
            f"{field}: must be text (str), not {type(value).__name__}",
            field=field,
        )
    value = value.strip()
    if not value:
        raise RecordError(
            f"{field}: tidak boleh kosong", f"{field}: must not be empty", field=field
        )
    if len(value) > MAX_NAME:
        raise RecordError(
            f"{field}: terlalu panjang ({len(value):,} karakter, paling banyak {MAX_NAME})",
            f"{field}: too long ({len(value):,} characters, at most {MAX_NAME})",
            field=field,
        )
    _bad_char(value, _CONTROL_NAME, field)
    return value


def check_level(value: Any, field: str, *, required: bool = True) -> str | None:
    """A risk or severity level: ``high``/``medium``/``low`` (or ``tinggi``/``sedang``/``rendah``)
    -> the English code."""
    if value is None and not required:
        return None
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in _LEVELS:
        raise RecordError(
            f"{field}: {value!r} bukan tingkat yang dikenal; pakai tinggi, sedang atau rendah",
            f"{field}: {value!r} is not a known level; use high, medium or low",
            field=field,
        )
    return _LEVELS[key]


def check_ids(values: Any, field: str, known: Iterable[str]) -> tuple[str, ...]:
    """A list of problem ids (a single id as text is accepted); each must be in ``known``.

    Duplicates are dropped, order is kept.
    """
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, Iterable):
        raise RecordError(
            f"{field}: harus berupa daftar nomor masalah seperti ['P1', 'P2']",
            f"{field}: must be a list of problem ids such as ['P1', 'P2']",
            field=field,
        )
    out: list[str] = []
    for v in values:
        if not isinstance(v, str):
            raise RecordError(
                f"{field}: nomor masalah harus teks seperti 'P1', bukan {v!r}",
                f"{field}: problem ids are text such as 'P1', not {v!r}",
                field=field,
            )
        if v not in out:
            out.append(v)
    known_ids = list(known)
    unknown = [v for v in out if v not in known_ids]
    if unknown:
        raise RecordError(
            f"{field}: masalah {unknown} tidak ada di kasus ini; yang ada: "
            f"{', '.join(known_ids) or '—'}",
            f"{field}: problem(s) {unknown} are not in this case; "
            f"known problems: {', '.join(known_ids) or 'none (add_problem first)'}",
            field=field,
        )
    return tuple(out)


def check_due(value: Any, field: str = "due") -> date:
    """A due date (``date``, ``datetime`` or ISO text) -> ``date``."""
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise RecordError(
        f"{field}: {value!r} bukan tanggal; tulis seperti 2025-03-31",
        f"{field}: {value!r} is not a date; write it like 2025-03-31",
        field=field,
    )


# ------------------------------------------------------------------------------------- rules
_RULES: dict[str, tuple[str, str]] = {
    "contract_without_scope": (
        "Kontrak layanan harus memuat paling sedikit satu masalah dalam cakupan (in_scope). "
        "Tentukan bagian cerita klien mana yang ditangani layanan ini.",
        "A service contract needs at least one problem in scope (in_scope). Decide which parts "
        "of the client's story this service covers.",
    ),
    "contract_without_capacity": (
        "Kontrak layanan harus mencatat penilaian kapasitas (capacity_note): apakah lembaga / "
        "peksos mampu menangani masalah ini? Tulis penilaiannya.",
        "A service contract must record the capacity judgement (capacity_note): can the agency "
        "or worker help with these problems? Write the judgement down.",
    ),
    "amendment_without_agreement": (
        "Perubahan kontrak hanya sah dengan persetujuan klien. Bicarakan dengan klien, lalu "
        "catat lagi dengan client_agreed=True.",
        "A contract amendment is valid only with the client's agreement. Discuss it with the "
        "client, then record it again with client_agreed=True.",
    ),
    "amendment_without_reason": (
        "Perubahan kontrak perlu alasan (reason), dengan memperhatikan kapasitas dan kepentingan "
        "terbaik klien. Tulis alasannya.",
        "A contract amendment needs a reason, with regard for capacity and the client's best "
        "interest. Write the reason.",
    ),
    "closing_without_termination_contract": (
        "Kasus hanya boleh ditutup dengan kontrak pengakhiran layanan. Buat dan tandatangani "
        "kontrak pengakhiran, lalu isi termination_contract.",
        "A case may be closed only with a termination contract. Write and sign the termination "
        "contract, then fill in termination_contract.",
    ),
    "case_closed": (
        "Kasus ini sudah ditutup; tidak ada yang bisa dicatat lagi. Buka kembali kasus dulu "
        "(reopen) dengan alasannya.",
        "This case is closed; nothing more can be recorded. Reopen the case first (reopen), "
        "giving the reason.",
    ),
    "unknown_checklist_item": (
        "Butir checklist ini tidak ada dalam model tahapan. Pilih butir dari "
        "StageModel.checklist_frame().",
        "This checklist item is not in the stage model. Choose an item from "
        "StageModel.checklist_frame().",
    ),
    "refer_in_scope": (
        "Masalah ini termasuk cakupan kontrak, jadi tidak dirujuk keluar. Keluarkan dulu dari "
        "cakupan dengan amandemen kontrak (dengan persetujuan klien), lalu rujuk.",
        "This problem is in the contract's scope, so it is not referred out. First drop it from "
        "the scope with a contract amendment (with the client's agreement), then refer it.",
    ),
}


def rule(name: str, detail_id: str = "", detail_en: str = "") -> PracticeRuleError:
    """The :class:`PracticeRuleError` of a named rule, with an optional detail sentence."""
    message_id, message_en = _RULES[name]
    if detail_id:
        message_id = f"{detail_id} {message_id}"
    if detail_en:
        message_en = f"{detail_en} {message_en}"
    return PracticeRuleError(message_id, message_en, rule=name)


def refuse_all(errors: list[PeksoError]) -> None:
    """Raise the first of several independent refusals (nothing when the list is empty).

    The others ride along on the raised error (attribute ``also``), so that
    :meth:`CaseStore.check` lists every gap while recording still raises the first one.
    """
    if errors:
        first = errors[0]
        first.also = tuple(errors[1:])  # type: ignore[attr-defined]
        raise first


@dataclass(frozen=True)
class Problem:
    """One reason a recording would be refused, found by :meth:`CaseStore.check` (dry run).

    Attributes
    ----------
    rule : str or None
        The practice rule (as :attr:`PracticeRuleError.rule`, e.g. ``"contract_without_scope"``),
        ``"read_only"`` when the store takes no recordings, None for an input error.
    field : str or None
        The argument concerned (e.g. ``"reason"``), when one is.
    message_id, message_en : str
        What is wrong and what to do, in Bahasa Indonesia and in English.
    error : PeksoError
        The error the recording call would raise (for widgets that show errors).
    """

    rule: str | None
    field: str | None
    message_id: str
    message_en: str
    error: PeksoError = dc_field(compare=False, repr=False)

    @classmethod
    def of(cls, error: PeksoError) -> list[Problem]:
        """The problems of an error (and of the refusals riding along with it)."""
        out = []
        for exc in (error, *getattr(error, "also", ())):
            name = exc.rule if isinstance(exc, PracticeRuleError) else None
            if name is None and isinstance(exc, StoreError) and "read-only" in exc.message_en:
                name = "read_only"
            where = exc.field or RULE_FIELDS.get(name or "") or _prefix_field(exc.message_en)
            out.append(cls(name, where, exc.message_id, exc.message_en, exc))
        return out

    def message(self, lang: str | None = None) -> str:
        """The message in one language (the current language when ``lang`` is None)."""
        return self.error.message(lang)


#: Practice rules -> the argument the worker must fix.
RULE_FIELDS: dict[str, str] = {
    "contract_without_scope": "in_scope",
    "contract_without_capacity": "capacity_note",
    "amendment_without_agreement": "client_agreed",
    "amendment_without_reason": "reason",
    "closing_without_termination_contract": "termination_contract",
    "refer_in_scope": "problem_id",
    "unknown_checklist_item": "item_id",
}
_PREFIX = re.compile(r"^(?P<field>[\w/]+): ")


def _prefix_field(text: str) -> str | None:
    found = _PREFIX.match(text)
    return found.group("field") if found else None
