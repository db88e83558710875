"""The canonical event log: load an agency export; say what was kept, repaired and rejected.

Each event means "this case entered this stage at this time". :func:`load_events` reads a
DataFrame or a ``.csv``/``.tsv``, ``.xlsx``, ``.parquet``, ``.xes`` or ``.xes.gz`` file and
returns an :class:`EventLog` whose ``events`` are clean and sorted, and whose ``report``
accounts for every input row.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ, PLAUSIBLE_AHEAD_DAYS, PLAUSIBLE_FROM
from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import StageModel, normalise_name
from pekso_toolkit.core.times import TimeValueError, outside_window, resolve_tz
from pekso_toolkit.events.readers import (
    XES_COLUMNS,
    RowFlags,
    read_source,
    read_xes,
    resolve_column,
)
from pekso_toolkit.events.timestamps import parse_timestamps

__all__ = ["REASONS", "EventLog", "LoadReport", "load_events", "read_xes", "tie_rank"]


#: Reason codes of the data-quality report:
#: code -> (Bahasa Indonesia, English, what to do (id), what to do (en)).
REASONS: dict[str, tuple[str, str, str, str]] = {
    # repairs (the row is kept)
    "stage_name_folded": (
        "Nama tahap dicocokkan setelah spasi/huruf besar diabaikan",
        "Stage name matched after ignoring spaces and capitals",
        "Tidak perlu tindakan; rapikan ekspor bila mau.",
        "Nothing to do; tidy the export if you like.",
    ),
    "stage_label": (
        "Nama tahap dicocokkan dengan label tahap",
        "Stage name matched a stage label",
        "Tidak perlu tindakan.",
        "Nothing to do.",
    ),
    "stage_alias": (
        "Nama tahap dicocokkan dengan nama lain (alias) tahap",
        "Stage name matched a known alias",
        "Periksa bahwa alias itu memang tahap yang dimaksud.",
        "Check that the alias means the stage you expect.",
    ),
    "case_id_trimmed": (
        "Spasi di sekitar nomor kasus dihapus",
        "Spaces around the case id removed",
        "Tidak perlu tindakan.",
        "Nothing to do.",
    ),
    "excel_serial_date": (
        "Tanggal berupa angka seri Excel dibaca sebagai tanggal",
        "Excel serial-number date read as a date",
        "Format kolom sebagai tanggal di Excel.",
        "Format the column as dates in Excel to avoid this.",
    ),
    "mixed_date_format": (
        "Format tanggal berbeda dari baris lain; dibaca hari-bulan-tahun",
        "Date format differs from the other rows; read as day/month/year",
        "Periksa tanggalnya; pakai satu format tanggal dalam ekspor.",
        "Check the date; use one date format in the export.",
    ),
    "naive_time_in_mixed_column": (
        "Waktu tanpa zona waktu di kolom yang bercampur; dibaca dengan zona waktu yang ditetapkan",
        "Time without a time zone in a mixed column; read in the stated time zone",
        "Tulis semua waktu dengan bentuk zona waktu yang sama.",
        "Give every timestamp the same time-zone form.",
    ),
    "decoded_cp1252": (
        "Baris bukan UTF-8; dibaca sebagai Windows-1252",
        "Row is not UTF-8; read as Windows-1252",
        "Periksa huruf di baris ini; simpan ekspor sebagai UTF-8.",
        "Check the letters of this row; save the export as UTF-8.",
    ),
    # rejections (the row is left out)
    "field_count": (
        "Jumlah kolom baris ini berbeda dari judul kolom",
        "This row has more or fewer fields than the header",
        "Periksa pemisah (koma/titik koma) dan tanda kutip di baris ini, lalu ekspor ulang.",
        "Check the delimiters (commas/semicolons) and quotes of this row, then export again.",
    ),
    "nul_byte": (
        "Ada karakter NUL (\\0) dalam isian; nilainya tidak bisa dipercaya",
        "A field holds a NUL character (\\0); its value cannot be trusted",
        "Ketik ulang isian itu di sistem asal lalu ekspor ulang.",
        "Retype that field in the source system and export again.",
    ),
    "undecodable_text": (
        "Baris berisi byte yang bukan UTF-8 maupun Windows-1252",
        "Row holds bytes that are neither UTF-8 nor Windows-1252",
        "Simpan ekspor sebagai UTF-8, atau muat dengan encoding= yang benar.",
        "Save the export as UTF-8, or load it with the right encoding=.",
    ),
    "implausible_date": (
        "Tanggal di luar rentang yang masuk akal (salah ketik tahun?)",
        "Date outside the plausible range (a mistyped year?)",
        "Perbaiki tahunnya di sistem asal lalu ekspor ulang.",
        "Correct the year in the source system and export again.",
    ),
    "missing_case_id": (
        "Nomor kasus kosong",
        "Case id is missing",
        "Isi nomor kasus di baris ini.",
        "Fill in the case id for this row.",
    ),
    "missing_stage": (
        "Tahap kosong",
        "Stage is missing",
        "Isi tahap di baris ini.",
        "Fill in the stage for this row.",
    ),
    "unknown_stage": (
        "Tahap tidak dikenal dalam model tahap",
        "Stage is not in the stage model",
        "Perbaiki namanya, atau petakan dengan stage_map={'nama di berkas': 'id tahap'}.",
        "Fix the name, or map it with stage_map={'name in file': 'stage id'}.",
    ),
    "missing_timestamp": (
        "Tanggal/waktu kosong",
        "Date/time is missing",
        "Isi tanggal di baris ini.",
        "Fill in the date for this row.",
    ),
    "unparseable_timestamp": (
        "Tanggal/waktu tidak bisa dibaca",
        "Date/time cannot be read",
        "Tulis tanggal sebagai YYYY-MM-DD atau DD/MM/YYYY (boleh dengan HH:MM).",
        "Write the date as YYYY-MM-DD or DD/MM/YYYY (optionally with HH:MM).",
    ),
    "ambiguous_date_order": (
        "Tanggal hanya masuk akal sebagai bulan/hari/tahun",
        "Date only makes sense as month/day/year",
        "Tulis sebagai DD/MM/YYYY, atau muat dengan dayfirst=False bila seluruh berkas bulan-dulu.",
        "Write it as DD/MM/YYYY, or load with dayfirst=False if the whole file is month-first.",
    ),
    "duplicate_event": (
        "Kejadian ganda: kasus, tahap dan waktu sama dengan baris lain",
        "Duplicate event: same case, stage and time as another row",
        "Tidak perlu tindakan bila salinan; bila bukan, perbaiki waktunya.",
        "Nothing to do if it is a copy; otherwise correct the time.",
    ),
    "event_after_closure": (
        "Kejadian setelah kasus ditutup (tanpa dibuka kembali)",
        "Event after the case was closed (and not reopened)",
        "Tambahkan kejadian dibuka_kembali, atau perbaiki tanggal penutupan.",
        "Add the reopening (dibuka_kembali) event, or correct the closure date.",
    ),
    "reopen_without_closure": (
        "Dibuka kembali padahal kasus belum ditutup",
        "Reopened although the case was not closed",
        "Tambahkan kejadian penutupan, atau hapus pembukaan kembali.",
        "Add the closure event, or remove the reopening.",
    ),
}


def _reason_text(code: str, lang: str | None = None) -> str:
    text_id, text_en, _, _ = REASONS[code]
    return pick(text_id, text_en, lang)


# ---------------------------------------------------------------------------------------- report
@dataclass(frozen=True, eq=False)
class LoadReport:
    """What :func:`load_events` did with every input row.

    Attributes
    ----------
    n_read : int
        Rows read from the source.
    n_kept : int
        Rows in the event log (including repaired ones).
    issues : pandas.DataFrame
        One row per repaired or rejected input row: ``row`` (the row's number in the source: the
        spreadsheet row number for CSV/Excel files, header = row 1; the index label for a
        DataFrame; the event's position for XES), ``status`` (``"repaired"`` or ``"rejected"``),
        ``reason`` (a code of :data:`REASONS`; several repairs are joined with ``", "``),
        ``detail`` (what exactly), ``case``, ``stage``, ``timestamp`` (the raw values as read).
    notes : list of str
        Facts about the whole file: encoding, delimiter, time zone used for naive times, columns.
    source : str
        The file read (or ``"DataFrame"``).
    tz : str
        The IANA time zone naive times were read in (the log's ``tz``).
    """

    n_read: int
    n_kept: int
    issues: pd.DataFrame
    notes: tuple[str, ...] = ()
    source: str = ""
    tz: str = DEFAULT_TZ

    @property
    def rejected(self) -> pd.DataFrame:
        """The rejected rows: ``row, reason, detail, case, stage, timestamp``."""
        out = self.issues[self.issues["status"] == "rejected"]
        return out.drop(columns="status").reset_index(drop=True)

    @property
    def repaired(self) -> pd.DataFrame:
        """The repaired (kept) rows: ``row, reason, detail, case, stage, timestamp``."""
        out = self.issues[self.issues["status"] == "repaired"]
        return out.drop(columns="status").reset_index(drop=True)

    @property
    def n_rejected(self) -> int:
        """Number of rejected rows."""
        return int((self.issues["status"] == "rejected").sum())

    @property
    def n_repaired(self) -> int:
        """Number of kept rows that needed a repair."""
        return int((self.issues["status"] == "repaired").sum())

    def summary(self, lang: str | None = None) -> pd.DataFrame:
        """Counts by outcome: ``status, reason, description, n, example_rows, what_to_do``.

        The first row counts the rows kept as they were; ``n`` adds up to :attr:`n_read`.
        """
        clean = self.n_kept - self.n_repaired
        rows: list[dict[str, Any]] = [
            {
                "status": "kept",
                "reason": "",
                "description": pick("Dipakai tanpa perubahan", "Kept as read", lang),
                "n": clean,
                "example_rows": "",
                "what_to_do": "",
            }
        ]
        if len(self.issues):
            for (status, reason), grp in self.issues.groupby(["status", "reason"], sort=True):
                codes = str(reason).split(", ")
                rows.append(
                    {
                        "status": status,
                        "reason": reason,
                        "description": "; ".join(_reason_text(c, lang) for c in codes),
                        "n": len(grp),
                        "example_rows": ", ".join(str(r) for r in grp["row"].head(5)),
                        "what_to_do": " ".join(
                            dict.fromkeys(pick(REASONS[c][2], REASONS[c][3], lang) for c in codes)
                        ),
                    }
                )
        order = {"rejected": 0, "repaired": 1, "kept": 2}
        out = pd.DataFrame(rows)
        out = out.sort_values("status", key=lambda s: s.map(order), kind="stable")
        return out.reset_index(drop=True)

    def raise_if_rejected(self) -> None:
        """Raise :class:`EventLogError` listing the (first 10) rejected rows, if any."""
        rejected = self.rejected
        if rejected.empty:
            return
        first = rejected.head(10)

        def listed(lang: str, row: str, more: str) -> str:
            lines = [
                f"{row} {r.row}: {_reason_text(r.reason, lang)} ({r.detail})"
                for r in first.itertuples()
            ]
            rest = f"\n… {more.format(len(rejected) - 10)}" if len(rejected) > 10 else ""
            return "\n".join(lines) + rest

        where_id = f" di {self.source}" if self.source else ""
        where_en = f" in {self.source}" if self.source else ""
        raise EventLogError(
            f"{len(rejected)} dari {self.n_read} baris ditolak{where_id}:\n"
            + listed("id", "baris", "dan {} lagi"),
            f"{len(rejected)} of {self.n_read} rows were rejected{where_en}:\n"
            + listed("en", "row", "and {} more"),
            row=int(first["row"].iloc[0]),
        )

    def __repr__(self) -> str:
        return (
            f"LoadReport(read={self.n_read}, kept={self.n_kept - self.n_repaired}, "
            f"repaired={self.n_repaired}, rejected={self.n_rejected})"
        )

    def _repr_html_(self) -> str:
        head = pick(
            f"<b>Laporan mutu data</b>: {self.n_read} baris dibaca, {self.n_kept} dipakai "
            f"({self.n_repaired} diperbaiki), {self.n_rejected} ditolak. "
            f"Zona waktu: {html.escape(self.tz)}.",
            f"<b>Data-quality report</b>: {self.n_read} rows read, {self.n_kept} kept "
            f"({self.n_repaired} repaired), {self.n_rejected} rejected. "
            f"Time zone: {html.escape(self.tz)}.",
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        table = self.summary().to_html(index=False, escape=True, na_rep="")
        rejected = self.rejected
        if len(rejected):
            shown = min(len(rejected), 10)
            caption = pick(
                f"Baris yang ditolak ({shown} dari {len(rejected)})",
                f"Rejected rows ({shown} of {len(rejected)})",
            )
            rows = rejected[["row", "reason", "detail", "stage", "timestamp"]].head(shown)
            table += f"<p>{caption}</p>" + rows.to_html(index=False, escape=True, na_rep="")
        return f"<p>{head}</p><ul>{notes}</ul>{table}"


# ---------------------------------------------------------------------------------------- log
@dataclass(frozen=True, eq=False)
class EventLog:
    """A canonical event log: one row per stage entry, clean and sorted.

    Attributes
    ----------
    events : pandas.DataFrame
        ``case_id`` (string), ``stage`` (ordered Categorical in model order), ``timestamp``
        (datetime64[ns, UTC]), then every other input column. Sorted by case, time, and stage
        order for equal times.
    model : StageModel
        The stage model the stages belong to.
    report : LoadReport
        What happened to every input row.
    tz : str
        IANA time zone of the casework, set by ``load_events(tz=...)`` (default ``DEFAULT_TZ``).

    Building an ``EventLog`` checks the events and sorts them (by case, time and the documented
    stage order for equal times, see :func:`tie_rank`): rows may be given in any order.

    Raises
    ------
    EventLogError
        When a column is missing, or a row has no case id, no stage (or one outside the model)
        or no timestamp; the message names the row.
    """

    events: pd.DataFrame
    model: StageModel = field(default_factory=StageModel.default)
    report: LoadReport = field(
        default_factory=lambda: LoadReport(0, 0, _empty_issues(), ("built in memory",))
    )
    tz: str = DEFAULT_TZ

    def __post_init__(self) -> None:
        events = _sort_events(_checked_events(self.events, self.model, self.tz), self.model)
        object.__setattr__(self, "events", events)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, model: StageModel | None = None) -> EventLog:
        """Wrap a canonical frame (``case_id``, ``stage``, ``timestamp``, rows in any order).

        The rows are checked and sorted as for any ``EventLog`` (cheap when already sorted).
        """
        model = model or StageModel.default()
        report = LoadReport(len(frame), len(frame), _empty_issues(), ("built in memory",))
        return cls(events=frame, model=model, report=report)

    @property
    def n_events(self) -> int:
        """Number of events."""
        return len(self.events)

    @property
    def n_cases(self) -> int:
        """Number of distinct cases."""
        return int(self.events["case_id"].nunique())

    @property
    def case_ids(self) -> pd.Index:
        """The distinct case ids, sorted."""
        return pd.Index(self.events["case_id"].unique())

    @property
    def extra_columns(self) -> list[str]:
        """The columns kept from the input besides ``case_id, stage, timestamp``."""
        return [c for c in self.events.columns if c not in ("case_id", "stage", "timestamp")]

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"EventLog({self.n_events} events, {self.n_cases} cases, model={self.model.name!r})"

    def stage_counts(self) -> pd.DataFrame:
        """Events per stage: ``stage, label, n_events, n_cases``."""
        grouped = self.events.groupby("stage", observed=False)
        out = pd.DataFrame(
            {
                "n_events": grouped.size(),
                "n_cases": grouped["case_id"].nunique(),
            }
        ).reset_index()
        out.insert(1, "label", out["stage"].map(self.model.labels()).astype(str))
        return out

    def _repr_html_(self) -> str:
        ev = self.events
        if len(ev):
            span = f"{ev['timestamp'].min():%Y-%m-%d} — {ev['timestamp'].max():%Y-%m-%d}"
        else:
            span = "—"
        head = pick(
            f"<b>EventLog</b>: {self.n_events} kejadian, {self.n_cases} kasus, {span} (UTC)",
            f"<b>EventLog</b>: {self.n_events} events, {self.n_cases} cases, {span} (UTC)",
        )
        table = self.stage_counts().to_html(index=False, escape=True)
        return f"<p>{head}</p>{table}<p>{html.escape(repr(self.report))}</p>"


def _empty_issues() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series([], dtype="object"),
            "status": pd.Series([], dtype="object"),
            "reason": pd.Series([], dtype="object"),
            "detail": pd.Series([], dtype="object"),
            "case": pd.Series([], dtype="object"),
            "stage": pd.Series([], dtype="object"),
            "timestamp": pd.Series([], dtype="object"),
        }
    )


# ---------------------------------------------------------------------------------------- parsing
def _parse_case_ids(raw: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Return (case ids as string, missing mask, trimmed mask, sort codes).

    The work is done once per distinct value. Sort codes order the case ids as strings (equal ids
    after trimming share a code); missing ids get -1.
    """
    if pd.api.types.is_float_dtype(raw) and raw.dropna().mod(1).eq(0).all():
        raw = raw.astype("Int64")
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    as_str = pd.Series(uniques).astype("string")
    stripped = as_str.str.strip()
    u_missing = (stripped.isna() | (stripped == "")).to_numpy(dtype=bool)
    u_trimmed = (~u_missing) & (stripped != as_str).fillna(False).to_numpy(dtype=bool)
    na = codes < 0
    safe = np.where(na, 0, codes)
    if len(uniques) == 0:
        empty = np.ones(len(raw), dtype=bool)
        minus = np.full(len(raw), -1, dtype=np.int64)
        return pd.Series(pd.NA, index=raw.index, dtype="string"), empty, ~empty, minus
    missing = na | u_missing[safe]
    trimmed = ~na & u_trimmed[safe]
    values = stripped.mask(u_missing).take(safe).to_numpy()
    out = pd.Series(values, index=raw.index, dtype="string").mask(missing)
    # rank of each distinct (stripped) id in string order
    u_rank, _ = pd.factorize(stripped.fillna(""), sort=True)
    sort_codes = np.where(missing, -1, u_rank[safe])
    return out, missing, trimmed, sort_codes


def _parse_stages(
    raw: pd.Series, model: StageModel, stage_map: Mapping[str, str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (stage codes, missing mask, unknown mask, repair code per row or '')."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    folded_map = {normalise_name(k): v for k, v in (stage_map or {}).items()}
    ids = list(model.ids)
    u_code = np.full(len(uniques), -1, dtype=np.int64)
    u_repair = np.array([""] * len(uniques), dtype=object)
    u_missing = np.zeros(len(uniques), dtype=bool)
    for i, value in enumerate(uniques):
        if value is None or (isinstance(value, str) and not value.strip()):
            u_missing[i] = True
            continue
        target: str | None = None
        how = ""
        if stage_map is not None:
            if value in stage_map:
                target, how = stage_map[value], ""
            elif normalise_name(value) in folded_map:
                target, how = folded_map[normalise_name(value)], "stage_name_folded"
        if target is None:
            matched = model.match(value)
            if matched is not None:
                target, kind = matched
                how = {
                    "exact": "",
                    "id": "stage_name_folded",
                    "label": "stage_label",
                    "alias": "stage_alias",
                }[kind]
        if target is not None:
            u_code[i] = ids.index(target)
            u_repair[i] = how
    row_missing = codes < 0
    safe = np.where(row_missing, 0, codes)
    stage_codes = np.where(row_missing, -1, u_code[safe] if len(uniques) else -1)
    missing = row_missing | (u_missing[safe] if len(uniques) else row_missing)
    unknown = ~missing & (stage_codes < 0)
    repair = np.where(row_missing, "", u_repair[safe] if len(uniques) else "")
    return stage_codes, missing, unknown, repair


def _nul_fields(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a NUL character in a text field, and a detail naming the field(s)."""
    n = len(frame)
    found = np.zeros(n, dtype=bool)
    detail = np.array([""] * n, dtype=object)
    for column in frame.columns:
        values = frame[column]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        present = values.dropna().to_numpy()
        try:
            joined = "".join(present)
        except TypeError:  # not only text (an Excel column of numbers and text)
            joined = "".join(v for v in present if type(v) is str)
        if "\0" not in joined:  # the usual case, checked fast
            continue
        has = values.map(lambda v: type(v) is str and "\0" in v).to_numpy(dtype=bool)
        if has.any():
            name = f"field {str(column)!r} holds a NUL character (\\0)"
            detail[has] = np.where(detail[has] == "", name, detail[has] + "; " + name)
            found |= has
    return found, detail


# ---------------------------------------------------------------------------------------- sorting
def tie_rank(
    stage_codes: np.ndarray, case_codes: np.ndarray, ts: np.ndarray, model: StageModel
) -> np.ndarray:
    """Rank for equal timestamps: model order, with the reopened state placed sensibly.

    ``dibuka_kembali`` ranks before every helping stage (a case is reopened, then enters a stage)
    unless a ``ditutup`` shares its case and time, in which case it ranks right after the closure
    and the other stages of that case and time rank after the reopening (closed, reopened, then
    the stage entered), in model order.
    """
    rank = stage_codes.astype(np.float64)
    reopened = model.reopened_id
    closed = model.closed_id
    if reopened is None:
        return rank
    r_code = model.ids.index(reopened)
    is_reopen = stage_codes == r_code
    if not is_reopen.any():
        return rank
    rank[is_reopen] = -1.0
    if closed is not None:
        c_code = model.ids.index(closed)
        key = pd.MultiIndex.from_arrays([case_codes, ts])
        closed_keys = key[stage_codes == c_code]
        at_closure = key.isin(closed_keys)
        after_close = is_reopen & at_closure
        rank[after_close] = c_code + 0.5
        if after_close.any():
            reopen_keys = key[after_close]
            after_reopen = at_closure & key.isin(reopen_keys) & ~is_reopen
            after_reopen &= stage_codes != c_code
            rank[after_reopen] = len(model.ids) + stage_codes[after_reopen]
    return rank


def with_columns(frame: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    """``frame`` with some columns replaced, the others shared, not copied (``assign`` copies
    every column first, which costs seconds on millions of rows); ``frame`` is unchanged."""
    out = frame.copy(deep=False)
    for name, values in columns.items():
        if isinstance(values, pd.Series) and values.index.equals(out.index):
            values = values.array  # already aligned: skip pandas' re-alignment
        out[name] = values
    return out


def canonical_ids_and_times(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``case_id`` as pandas strings and ``timestamp`` in UTC (naive times read in ``tz``)."""
    if not isinstance(frame["case_id"].dtype, pd.StringDtype):
        frame = with_columns(frame, case_id=frame["case_id"].astype("string"))
    ts = frame["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype) or str(ts.dtype.tz) != "UTC":
        if not pd.api.types.is_datetime64_any_dtype(ts.dtype):
            ts = pd.to_datetime(ts, format="mixed")
        if ts.dt.tz is None:
            ts = ts.dt.tz_localize(tz)
        frame = with_columns(frame, timestamp=ts.dt.tz_convert("UTC"))
    return frame


def _checked_events(frame: pd.DataFrame, model: StageModel, tz: str) -> pd.DataFrame:
    """The canonical columns present, with the model's stage dtype, UTC times (naive ones read
    in ``tz``) and no missing value."""
    missing = [c for c in ("case_id", "stage", "timestamp") if c not in frame.columns]
    if missing:
        raise EventLogError(
            f"tabel kejadian tidak punya kolom {missing}; perlu case_id, stage dan timestamp "
            "(baca ekspor dengan pk.load_events(..., case=, stage=, timestamp=))",
            f"the event table lacks column(s) {missing}; it needs case_id, stage and timestamp "
            "(load exports with pk.load_events(..., case=, stage=, timestamp=))",
        )
    stage = frame["stage"]
    if stage.dtype != model.dtype:
        stage = stage.astype("string").astype(model.dtype)
        frame = with_columns(frame, stage=stage)
    for column, what_id, what in (
        (
            "case_id",
            "nomor kasus kosong; setiap kejadian perlu kasus",
            "the case id is missing; every event needs a case",
        ),
        (
            "stage",
            "tahap kosong atau tidak ada di model tahapan; tahap yang dikenal: ",
            "the stage is missing or not in the stage model; known stages: ",
        ),
        (
            "timestamp",
            "waktu kosong; setiap kejadian perlu waktu",
            "the timestamp is missing; every event needs a time",
        ),
    ):
        absent = frame[column].isna().to_numpy()
        if absent.any():
            row = int(np.flatnonzero(absent)[0])
            known = ", ".join(model.ids) if column == "stage" else ""
            raise EventLogError(
                f"baris {row}: {what_id}{known}", f"row {row}: {what}{known}", field=column
            )
    return canonical_ids_and_times(frame, tz)


def _sort_events(frame: pd.DataFrame, model: StageModel) -> pd.DataFrame:
    return _sorted_with_codes(frame, model)[0]


def _sorted_with_codes(
    frame: pd.DataFrame, model: StageModel, case_codes: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sort by case, time and :func:`tie_rank`; also return the sorted case numbers.

    ``case_codes`` (optional) must number the case ids in string order; by default they are
    computed. The sort is stable: rows that tie on every key keep their input order.
    """
    if case_codes is None:
        case_codes = pd.factorize(frame["case_id"], sort=True)[0]
    case_codes = np.asarray(case_codes, dtype=np.int64)
    stage_codes = frame["stage"].cat.codes.to_numpy().astype(np.int64)
    ts = pd.DatetimeIndex(frame["timestamp"]).as_unit("ns").asi8
    rank = tie_rank(stage_codes, case_codes, ts, model)
    order = np.lexsort((rank, ts, case_codes))
    if np.array_equal(order, np.arange(len(order))):
        return frame.reset_index(drop=True), case_codes
    return frame.take(order).reset_index(drop=True), case_codes[order]


def _closure_violations(
    codes: np.ndarray, case_codes: np.ndarray, closed_code: int, reopen_code: int
) -> tuple[np.ndarray, np.ndarray]:
    """Events after a closure (until a reopening) and reopenings of cases that are not closed."""
    marker = np.where(codes == closed_code, 1.0, np.where(codes == reopen_code, 0.0, np.nan))
    state = pd.Series(marker).groupby(case_codes).ffill()
    before = state.groupby(case_codes).shift(1).fillna(0.0).to_numpy()
    return (before == 1.0) & (codes != reopen_code), (before == 0.0) & (codes == reopen_code)


# ---------------------------------------------------------------------------------------- main
def _check_stage_map(stage_map: Mapping[str, str] | None, model: StageModel) -> None:
    """Refuse a ``stage_map`` pointing to stages the model does not have."""
    wrong = {k: v for k, v in (stage_map or {}).items() if v not in model}
    if wrong:
        raise EventLogError(
            f"stage_map menunjuk tahap yang tidak ada di model tahapan: {wrong}; "
            f"pakai salah satu: {', '.join(model.ids)}",
            f"stage_map points to stage(s) not in the stage model: {wrong}; "
            f"use one of: {', '.join(model.ids)}",
            field="stage_map",
        )


def _refuse_empty(frame: pd.DataFrame, source_name: str, *, columns: bool) -> None:
    """Refuse a table without columns (``columns=True``) or without rows."""
    if columns and len(frame.columns) == 0:
        raise EventLogError(
            f"{source_name}: tabel tidak punya kolom; apakah berkasnya kosong?",
            f"{source_name}: the table has no columns; is the file empty?",
        )
    if not columns and len(frame) == 0:
        raise EventLogError(
            f"{source_name}: tabel punya nama kolom tetapi tanpa baris; ekspor ulang datanya",
            f"{source_name}: the table has column names but no rows; export the data again",
        )


def load_events(
    source: pd.DataFrame | str | Path,
    *,
    case: str = "case_id",
    stage: str = "stage",
    timestamp: str = "timestamp",
    stage_map: Mapping[str, str] | None = None,
    model: StageModel | None = None,
    tz: str = DEFAULT_TZ,
    dayfirst: bool = True,
    encoding: str | None = None,
    sheet_name: str | int = 0,
) -> EventLog:
    """Load an agency export into a canonical :class:`EventLog`.

    Parameters
    ----------
    source : DataFrame or path
        A DataFrame, or a ``.csv``/``.tsv``, ``.xlsx``, ``.parquet``, ``.xes`` or ``.xes.gz`` file.
        CSV files may be UTF-8 or Windows-1252, separated by ``,``, ``;``, tab or ``|``.
    case, stage, timestamp : str
        Column names of the case id, the stage entered and the time of entry. For XES files the
        defaults are ``case:concept:name``, ``concept:name`` and ``time:timestamp``.
    stage_map : mapping, optional
        Names in the file -> stage ids of the model, for names that are not ids, labels or
        aliases (e.g. the activities of a process-mining log). Matched as written, then ignoring
        case and spacing.
    model : StageModel, optional
        The stage model (default: :meth:`StageModel.default`).
    tz : str
        Time zone of timestamps written without one (default ``Asia/Jakarta``). The report says
        when it was used. Timestamps with an offset are converted; all output is UTC.
    dayfirst : bool
        Read ``03/04/2024`` as 3 April (True, the Indonesian convention) or as March 4 (False).
    encoding : str, optional
        Text encoding of a CSV file (default: UTF-8, falling back to Windows-1252).
    sheet_name : str or int
        Sheet of an Excel file.

    Returns
    -------
    EventLog
        ``events``: ``case_id`` (string), ``stage`` (ordered Categorical in model order),
        ``timestamp`` (UTC), then every other input column; sorted by case, time and stage order
        for equal times. ``report``: every input row kept, repaired or rejected, with reasons.

    Raises
    ------
    EventLogError
        When the source cannot be read at all (missing file, empty file, header only, missing
        columns); the message says what to fix.
    """
    model, tz = _checked_options(model, stage_map, tz)
    table, flags = _read_table(
        source,
        case=case,
        stage=stage,
        timestamp=timestamp,
        encoding=encoding,
        sheet_name=sheet_name,
    )
    parsed = _parse_columns(table, model=model, stage_map=stage_map, tz=tz, dayfirst=dayfirst)
    _apply_reader_flags(table, flags)
    _reject_unreadable(table, parsed, model=model, tz=tz)
    good = _kept_events(table, parsed, model)
    kept_rows = good["__row"].to_numpy()
    good = good.drop(columns="__row").reset_index(drop=True)
    report = _load_report(table, parsed, model=model, kept_rows=kept_rows, tz=tz)
    return EventLog(events=good, model=model, report=report, tz=tz)


# ------------------------------------------------------------------------------ loading steps
@dataclass(eq=False)
class _Table:
    """The rows being loaded, by position, and the verdict on each row so far.

    ``reject``/``detail`` hold each row's rejection code and its detail (``""``: not rejected);
    ``pre_repair``/``pre_detail`` the repairs the reader made (field count, encoding).
    """

    frame: pd.DataFrame
    source: str
    notes: list[str]
    case_col: str
    stage_col: str
    ts_col: str
    labels: np.ndarray  # each row's number in the source
    reject: np.ndarray = field(init=False)
    detail: np.ndarray = field(init=False)
    pre_repair: np.ndarray = field(init=False)
    pre_detail: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.frame)
        self.reject = np.array([""] * n, dtype=object)
        self.detail = np.array([""] * n, dtype=object)
        self.pre_repair = np.array([""] * n, dtype=object)
        self.pre_detail = np.array([""] * n, dtype=object)

    def raw_text(self, column: str, mask: np.ndarray) -> np.ndarray:
        """The values of ``column`` in the rows of ``mask``, as read (text or None)."""
        values = self.frame[column].iloc[np.flatnonzero(mask)].astype("string")
        return values.to_numpy(dtype=object, na_value=None)


@dataclass(frozen=True, eq=False)
class _Parsed:
    """The canonical columns parsed from the raw ones, by row position, with their masks."""

    case_ids: pd.Series
    case_missing: np.ndarray
    case_trimmed: np.ndarray
    case_sort: np.ndarray
    stage_codes: np.ndarray
    stage_missing: np.ndarray
    stage_unknown: np.ndarray
    stage_repair: np.ndarray
    stamps: pd.Series
    ts_missing: np.ndarray
    ts_bad: np.ndarray
    ts_repair: np.ndarray


def _checked_options(
    model: StageModel | None, stage_map: Mapping[str, str] | None, tz: str
) -> tuple[StageModel, str]:
    """The stage model (default if None) and the IANA time zone; a wrong option is refused."""
    model = model or StageModel.default()
    _check_stage_map(stage_map, model)
    try:
        tz = resolve_tz(tz)
    except TimeValueError as exc:
        raise EventLogError(exc.message_id, exc.message_en, field="tz") from None
    return model, tz


def _read_table(
    source: pd.DataFrame | str | Path,
    *,
    case: str,
    stage: str,
    timestamp: str,
    encoding: str | None,
    sheet_name: str | int,
) -> tuple[_Table, RowFlags]:
    """Read the source and find its case, stage and timestamp columns (rows numbered 0..n-1)."""
    frame, source_name, notes, flags = read_source(source, encoding=encoding, sheet_name=sheet_name)
    if source_name.lower().endswith((".xes", ".xes.gz")):
        case = XES_COLUMNS["case"] if case == "case_id" else case
        stage = XES_COLUMNS["stage"] if stage == "stage" else stage
        timestamp = XES_COLUMNS["timestamp"] if timestamp == "timestamp" else timestamp
    _refuse_empty(frame, source_name, columns=True)
    case_col = resolve_column(frame, case, "case", source_name)
    stage_col = resolve_column(frame, stage, "stage", source_name)
    ts_col = resolve_column(frame, timestamp, "timestamp", source_name)
    _refuse_empty(frame, source_name, columns=False)
    row_labels = frame.index.to_numpy()
    frame.index = pd.RangeIndex(len(frame))  # work by position: the labels may repeat
    table = _Table(frame, source_name, notes, case_col, stage_col, ts_col, row_labels)
    return table, flags


def _parse_columns(
    table: _Table,
    *,
    model: StageModel,
    stage_map: Mapping[str, str] | None,
    tz: str,
    dayfirst: bool,
) -> _Parsed:
    """Parse case ids, stages and times; notes about the times join the table's notes."""
    frame = table.frame
    case_ids, case_missing, case_trimmed, case_sort = _parse_case_ids(frame[table.case_col])
    stage_codes, stage_missing, stage_unknown, stage_repair = _parse_stages(
        frame[table.stage_col], model, stage_map
    )
    stamps, ts_missing, ts_bad, ts_repair, ts_notes = parse_timestamps(
        frame[table.ts_col], tz=tz, dayfirst=dayfirst
    )
    table.notes.extend(dict.fromkeys(ts_notes))
    return _Parsed(
        case_ids=case_ids,
        case_missing=case_missing,
        case_trimmed=case_trimmed,
        case_sort=case_sort,
        stage_codes=stage_codes,
        stage_missing=stage_missing,
        stage_unknown=stage_unknown,
        stage_repair=stage_repair,
        stamps=stamps,
        ts_missing=ts_missing,
        ts_bad=ts_bad,
        ts_repair=ts_repair,
    )


def _apply_reader_flags(table: _Table, flags: RowFlags) -> None:
    """Rows the reader already rejected or repaired (field count, encoding), then NUL bytes."""
    if flags:  # a file's rows: their labels are unique
        flag_pos = pd.Index(table.labels).get_indexer(list(flags))
        for pos, (status, flag_code, text) in zip(flag_pos, flags.values(), strict=True):
            if status == "rejected":
                table.reject[pos], table.detail[pos] = flag_code, text
            else:
                table.pre_repair[pos], table.pre_detail[pos] = flag_code, text
    nul_mask, nul_detail = _nul_fields(table.frame)
    nul_mask &= table.reject == ""
    table.reject[nul_mask], table.detail[nul_mask] = "nul_byte", nul_detail[nul_mask]


def _reject_unreadable(table: _Table, parsed: _Parsed, *, model: StageModel, tz: str) -> None:
    """Reject rows with a missing or unreadable value, or an implausible date.

    The first problem found (in the order of the checks) is the reason given.
    """
    reject, detail = table.reject, table.detail
    for mask, code, column in (
        (parsed.case_missing, "missing_case_id", None),
        (parsed.stage_missing, "missing_stage", None),
        (parsed.stage_unknown, "unknown_stage", table.stage_col),
        (parsed.ts_missing, "missing_timestamp", None),
        (parsed.ts_bad != "", None, table.ts_col),
    ):
        new = mask & (reject == "")
        if not new.any():
            continue
        reject[new] = parsed.ts_bad[new] if code is None else code
        if column is not None:
            detail[new] = [repr(v) for v in table.raw_text(column, new)]
    stamps = parsed.stamps
    implausible = outside_window(stamps, tz=tz) & (reject == "")
    if implausible.any():
        last = pd.Timestamp.now(tz=tz).normalize() + pd.Timedelta(days=PLAUSIBLE_AHEAD_DAYS)
        reject[implausible] = "implausible_date"
        detail[implausible] = [
            f"{table.ts_col} {v!r} is {t.tz_convert(tz):%Y-%m-%d}, outside "
            f"{PLAUSIBLE_FROM:%Y-%m-%d} to {last:%Y-%m-%d}; correct the year"
            for v, t in zip(
                table.raw_text(table.ts_col, implausible), stamps[implausible], strict=True
            )
        ]
    unknown = reject == "unknown_stage"
    if unknown.any():
        known = ", ".join(model.ids)
        detail[unknown] = [f"{d} is not a stage; known stages: {known}" for d in detail[unknown]]


def _canonical_events(table: _Table, parsed: _Parsed, model: StageModel) -> pd.DataFrame:
    """Every row as ``case_id, stage, timestamp``, the other input columns, and ``__row``."""
    events = table.frame.drop(columns=[table.case_col, table.stage_col, table.ts_col])
    for name in ("case_id", "stage", "timestamp"):
        if name in events.columns:
            events = events.rename(columns={name: f"{name}_original"})
    events.insert(0, "case_id", parsed.case_ids.array)
    events.insert(
        1, "stage", pd.Categorical.from_codes(np.maximum(parsed.stage_codes, 0), dtype=model.dtype)
    )
    events.insert(2, "timestamp", parsed.stamps.array)
    events["__row"] = np.arange(len(events))
    return events


def _kept_events(table: _Table, parsed: _Parsed, model: StageModel) -> pd.DataFrame:
    """The rows not rejected, sorted, without duplicates and events after a closure."""
    events = _canonical_events(table, parsed, model)
    ok = table.reject == ""
    good, case_codes = _sorted_with_codes(events[ok], model, parsed.case_sort[ok])
    good, case_codes = _reject_duplicates(table, good, case_codes)
    return _reject_closure_violations(table, good, case_codes, model)


def _reject_duplicates(
    table: _Table, good: pd.DataFrame, case_codes: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Same case, stage and time as an earlier row: keep the first row (the sort is stable)."""
    stage_codes_sorted = good["stage"].cat.codes.to_numpy()
    ts_sorted = pd.DatetimeIndex(good["timestamp"]).asi8
    same = np.zeros(len(good), dtype=bool)
    same[1:] = (
        (case_codes[1:] == case_codes[:-1])
        & (ts_sorted[1:] == ts_sorted[:-1])
        & (stage_codes_sorted[1:] == stage_codes_sorted[:-1])
    )
    if not same.any():
        return good, case_codes
    rows = good["__row"].to_numpy()
    first = np.maximum.accumulate(np.where(~same, np.arange(len(good)), 0))
    table.reject[rows[same]] = "duplicate_event"
    table.detail[rows[same]] = [f"same as row {table.labels[r]}" for r in rows[first[same]]]
    return good[~same].reset_index(drop=True), case_codes[~same]


def _reject_closure_violations(
    table: _Table, good: pd.DataFrame, case_codes: np.ndarray, model: StageModel
) -> pd.DataFrame:
    """Reject events after a closure (until a reopening) and reopenings of open cases."""
    if model.closed_id is None or not len(good):
        return good
    closed_code = model.ids.index(model.closed_id)
    # a model without a reopened state: a closure is final (-1 matches no stage)
    reopen_code = -1 if model.reopened_id is None else model.ids.index(model.reopened_id)
    while True:  # a rejected event must not change the state: repeat without it (rare)
        codes = good["stage"].cat.codes.to_numpy()
        after_closure, bad_reopen = _closure_violations(codes, case_codes, closed_code, reopen_code)
        drop = after_closure | bad_reopen
        if not drop.any():
            return good
        pos = good["__row"].to_numpy()
        table.reject[pos[after_closure]] = "event_after_closure"
        table.detail[pos[after_closure]] = "the case was closed (ditutup) before this event"
        table.reject[pos[bad_reopen]] = "reopen_without_closure"
        table.detail[pos[bad_reopen]] = "the case was not closed (ditutup) before this reopening"
        good = good[~drop].reset_index(drop=True)
        case_codes = case_codes[~drop]


def _repair_codes(table: _Table, parsed: _Parsed, kept_rows: np.ndarray) -> np.ndarray:
    """The repairs of each kept row, joined with ``", "`` (``""``: none or not kept)."""
    n = len(table.frame)
    codes = np.array([""] * n, dtype=object)
    kept_mask = np.zeros(n, dtype=bool)
    kept_mask[kept_rows] = True
    for arr in (
        table.pre_repair,
        parsed.stage_repair,
        np.where(parsed.case_trimmed, "case_id_trimmed", ""),
        parsed.ts_repair,
    ):
        has = kept_mask & (arr != "")
        codes[has] = np.where(codes[has] == "", arr[has], codes[has] + ", " + arr[has])
    return codes


def _describe_repairs(
    table: _Table, parsed: _Parsed, model: StageModel, repaired: np.ndarray
) -> None:
    """Write what each repair of the ``repaired`` rows did into their detail."""
    stage_repair, ts_repair = parsed.stage_repair[repaired], parsed.ts_repair[repaired]
    stage_detail = np.where(
        stage_repair != "",
        [
            f"stage {r!r} read as {model.ids[c]!r}"
            for r, c in zip(table.raw_text(table.stage_col, repaired), parsed.stage_codes[repaired])
        ],
        "",
    )
    ts_detail = np.where(
        ts_repair != "",
        [
            f"time {t!r} read as {s}"
            for t, s in zip(table.raw_text(table.ts_col, repaired), parsed.stamps[repaired])
        ],
        "",
    )
    table.detail[repaired] = [
        "; ".join(x for x in parts if x)
        for parts in zip(table.pre_detail[repaired], stage_detail, ts_detail)
    ]


def _load_report(
    table: _Table, parsed: _Parsed, *, model: StageModel, kept_rows: np.ndarray, tz: str
) -> LoadReport:
    """The report: one issue per repaired or rejected row; every row accounted for."""
    repair_codes = _repair_codes(table, parsed, kept_rows)
    repaired = repair_codes != ""
    if repaired.any():
        _describe_repairs(table, parsed, model, repaired)
    reject = table.reject
    issue_mask = repaired | (reject != "")
    issues = pd.DataFrame(
        {
            "row": table.labels[issue_mask],
            "status": np.where(reject[issue_mask] != "", "rejected", "repaired"),
            "reason": np.where(
                reject[issue_mask] != "", reject[issue_mask], repair_codes[issue_mask]
            ),
            "detail": table.detail[issue_mask],
            "case": table.raw_text(table.case_col, issue_mask),
            "stage": table.raw_text(table.stage_col, issue_mask),
            "timestamp": table.raw_text(table.ts_col, issue_mask),
        }
    )
    if not set(issues["reason"].str.split(", ").explode()) <= set(REASONS):  # pragma: no cover
        raise AssertionError("unknown reason code")
    n = len(table.frame)
    report = LoadReport(
        n_read=n,
        n_kept=len(kept_rows),
        issues=issues,
        notes=tuple(table.notes),
        source=table.source,
        tz=tz,
    )
    if report.n_kept + report.n_rejected != n:  # pragma: no cover - an accounting bug
        raise AssertionError(f"rows not accounted for: {n} read, {report!r}")
    return report
