"""Tables for people: bilingual column labels, local times, no raw ``<NA>``, full texts.

Analyses return tidy frames with short English column names (``n_open``, ``median_days``). A
supervisor reading the dashboard or a published report should see "Masih terbuka / Open" and
"30 Jun 2025 14:00" in the agency's own time zone instead. :func:`show_table` does that last
step only: it changes no figure and masks nothing, so a table that leaves the toolkit still goes
through :func:`pekso_toolkit.publish.gate.publish` first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from IPython import get_ipython

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.i18n import pick

__all__ = ["COLUMN_LABELS", "Table", "column_label", "readable_tables", "show_table"]

#: Bahasa Indonesia and English label of every column the analyses return.
COLUMN_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "case_id": ("Kasus", "Case"),
        "office": ("Kantor", "Office"),
        "worker": ("Peksos", "Worker"),
        "category": ("Kategori", "Category"),
        "category_l1": ("Kategori utama", "Main category"),
        "risk": ("Risiko", "Risk"),
        "period": ("Bulan", "Month"),
        "bulan": ("Bulan", "Month"),
        "stage": ("Tahap", "Stage"),
        "from_stage": ("Dari tahap", "From stage"),
        "to_stage": ("Ke tahap", "To stage"),
        "visit": ("Kunjungan ke-", "Visit"),
        "entered_at": ("Masuk tahap", "Entered"),
        "left_at": ("Keluar tahap", "Left"),
        "exited_at": ("Keluar tahap", "Left"),
        "opened_at": ("Dibuka", "Opened"),
        "closed_at": ("Ditutup", "Closed"),
        "recorded_at": ("Dicatat", "Recorded"),
        "timestamp": ("Waktu", "Time"),
        "at": ("Waktu", "Time"),
        "days": ("Hari", "Days"),
        "days_late": ("Hari terlambat", "Days late"),
        "days_over": ("Hari lewat target", "Days over target"),
        "observed": ("Selesai", "Finished"),
        "n": ("Jumlah", "Number"),
        "n_cases": ("Jumlah kasus", "Cases"),
        "n_stays": ("Jumlah masa tinggal", "Stays"),
        "n_open": ("Masih terbuka", "Still open"),
        "n_events": ("Jumlah kejadian", "Events"),
        "n_moves": ("Jumlah perpindahan", "Moves"),
        "n_overdue": ("Lewat target", "Overdue"),
        "n_waiting_now": ("Menunggu sekarang", "Waiting now"),
        "n_reached": ("Sampai titik periksa", "Reached the checkpoint"),
        "n_forgotten": ("Terlupa", "Forgotten"),
        "n_deviations": ("Jumlah penyimpangan", "Departures"),
        "n_skipped": ("Melewati analisa", "Skipped the analysis"),
        "n_reopened": ("Dibuka kembali", "Reopened"),
        "n_problems": ("Jumlah masalah", "Problems"),
        "n_undecided": ("Belum diputuskan", "Undecided"),
        "n_in_scope": ("Dalam cakupan", "In scope"),
        "n_out_of_scope": ("Di luar cakupan", "Out of scope"),
        "n_referred": ("Dirujuk", "Referred"),
        "n_amendments": ("Amandemen", "Amendments"),
        "share": ("Proporsi", "Share"),
        "share_open": ("Proporsi terbuka", "Share open"),
        "share_cases": ("Proporsi kasus", "Share of cases"),
        "share_skipped": ("Proporsi melewati analisa", "Share skipping the analysis"),
        "share_of_time": ("Proporsi waktu", "Share of time"),
        "share_of_exits": ("Proporsi keluar", "Share of exits"),
        "overdue_share": ("Proporsi lewat target", "Share overdue"),
        "median_days": ("Median hari", "Median days"),
        "median_ci_low": ("Median: batas bawah 95%", "Median: lower 95%"),
        "median_ci_high": ("Median: batas atas 95%", "Median: upper 95%"),
        "p75_days": ("Persentil 75 (hari)", "75th percentile (days)"),
        "p90_days": ("Persentil 90 (hari)", "90th percentile (days)"),
        "mean_days_completed": ("Rata-rata hari (selesai)", "Mean days (finished)"),
        "median_completed_only": ("Median hanya yang selesai", "Median of finished only"),
        "median_km": ("Median Kaplan-Meier", "Kaplan-Meier median"),
        "target_days": ("Target hari", "Target days"),
        "times_target": ("Kali target", "Times the target"),
        "rank": ("Peringkat", "Rank"),
        "reason": ("Alasan", "Reason"),
        "suppressed": ("Disembunyikan", "Suppressed"),
        "kind": ("Jenis", "Kind"),
        "label": ("Keterangan", "Label"),
        "label_id": ("Keterangan", "Description (Indonesian)"),
        "label_en": ("Keterangan (Inggris)", "Description"),
        "step_label": ("Langkah", "Step"),
        "item": ("Butir", "Item"),
        "checkpoint": ("Titik periksa", "Checkpoint"),
        "task": ("Tugas", "Task"),
        "what_to_do": ("Yang perlu dilakukan", "What to do"),
        "detail": ("Rincian", "Detail"),
        "covariate": ("Faktor", "Factor"),
        "level": ("Nilai", "Level"),
        "reference": ("Rujukan pembanding", "Reference level"),
        "hazard_ratio": ("Rasio hazard", "Hazard ratio"),
        "median_ratio": ("Rasio median", "Median ratio"),
        "p_value": ("Nilai p", "p-value"),
        "p_holm": ("Nilai p (Holm)", "p-value (Holm)"),
        "differs": ("Berbeda", "Differs"),
        "comparison": ("Perbandingan", "Comparison"),
        "test_statistic": ("Statistik uji", "Test statistic"),
        "degrees_of_freedom": ("Derajat bebas", "Degrees of freedom"),
        "sentence": ("Kalimat", "Sentence"),
        "ratio_to_target": ("Rasio terhadap target", "Ratio to target"),
        "overdue_now": ("Lewat target sekarang", "Overdue now"),
        "days_past_target": ("Hari lewat target", "Days past target"),
        "median_days_over": ("Median hari lewat target", "Median days over target"),
        "score": ("Skor", "Score"),
        "next_stage": ("Tahap berikutnya", "Next stage"),
        "skipped_analysis": ("Melewati analisa", "Skipped the analysis"),
        "step": ("Langkah", "Step"),
        "event_kind": ("Jenis kejadian", "Event kind"),
        "event_id": ("Nomor kejadian", "Event number"),
        "ci_low": ("Batas bawah 95%", "Lower 95%"),
        "ci_high": ("Batas atas 95%", "Upper 95%"),
        "median_ratio_low": ("Rasio median: batas bawah 95%", "Median ratio: lower 95%"),
        "median_ratio_high": ("Rasio median: batas atas 95%", "Median ratio: upper 95%"),
        "ph_p_value": ("Nilai p uji hazard proporsional", "Proportional-hazards test p-value"),
        "method": ("Metode", "Method"),
        "median_rest_days": ("Median hari kelompok lain", "Median days of the rest"),
        "what": ("Apa", "What"),
        "since": ("Sejak", "Since"),
        "open_with": ("Buka dengan", "Open with"),
        "understatement_days": ("Kekurangan (hari)", "Understatement (days)"),
        "understatement_share": ("Kekurangan (proporsi)", "Understatement (share)"),
        "exit": ("Keluar ke", "Exit"),
        "exit_label": ("Keluar ke", "Exit"),
        "exit_label_id": ("Keluar ke", "Exit (Indonesian)"),
        "exit_label_en": ("Keluar ke (Inggris)", "Exit"),
        "n_exits": ("Jumlah keluar", "Exits"),
        "day": ("Hari ke-", "Day"),
        "cum_incidence": ("Insidensi kumulatif", "Cumulative incidence"),
        "note": ("Catatan", "Note"),
    }
)


def column_label(column: Any, lang: str | None = None, *, both: bool = True) -> str:
    """The label of ``column``: "Indonesian / English" (``both``) or in one language.

    Unknown columns keep their name with underscores as spaces, so nothing is ever hidden.
    """
    name = str(column)
    if name not in COLUMN_LABELS:
        return name.replace("_", " ")
    label_id, label_en = COLUMN_LABELS[name]
    if both and label_id != label_en:
        return f"{label_id} / {label_en}"
    return pick(label_id, label_en, lang)


def _is_missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list, array or set in a cell is a value, not missing
        return False


def _cell_text(value: Any, tz: str, decimals: int) -> str:
    if _is_missing(value):
        return "—"
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert(tz) if value.tzinfo is not None else value
        return (
            stamp.strftime("%Y-%m-%d %H:%M")
            if (stamp.hour or stamp.minute)
            else (stamp.strftime("%Y-%m-%d"))
        )
    if isinstance(value, (bool, np.bool_)):
        return pick("ya", "yes") if value else pick("tidak", "no")
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


@dataclass(frozen=True)
class Table:
    """A table ready to be read: shown as HTML in notebooks, as text elsewhere.

    Attributes
    ----------
    frame : pandas.DataFrame
        The cells as text (labels as column names), one row per input row.
    title : str or None
        An optional heading.
    note : str or None
        A line under the table (e.g. how many rows are left out).
    """

    frame: pd.DataFrame
    title: str | None = None
    note: str | None = None

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in self.frame.itertuples(index=False)
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return (
            f'<table class="pekso-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{note}"
        )

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False) if len(self.frame.columns) else ""
        return f"{self.title}\n{text}" if self.title else text


def show_table(
    table: pd.DataFrame,
    *,
    tz: str | None = None,
    decimals: int = 2,
    title: str | None = None,
    max_rows: int | None = None,
) -> Table:
    """``table`` for people for people: bilingual headers, local times, "—" for missing.

    Parameters
    ----------
    table : pandas.DataFrame
        Any analysis result (already through :func:`~pekso_toolkit.publish.gate.publish` if
        it is to be published). The index is dropped unless it is named.
    tz : str, optional
        Time zone for instants (default: the frame's ``attrs["tz"]``, else Asia/Jakarta).
    decimals : int
        Digits after the point for fractional numbers.
    title : str, optional
        A heading shown above the table.
    max_rows : int, optional
        Show only the first and last ``max_rows // 2`` rows, with a line saying how many are
        left out (default: every row).

    Returns
    -------
    Table
        ``Table.frame`` holds the cells as text under the bilingual column labels; texts are
        never cut, and HTML special characters in them are escaped when shown.
    """
    zone = tz or str(table.attrs.get("tz") or DEFAULT_TZ)
    data = table
    rows_only = (
        table.index.nlevels == 1
        and table.index.name is None
        and pd.api.types.is_integer_dtype(table.index.dtype)
    )
    if rows_only:  # row numbers left over from filtering or sorting mean nothing to a reader
        data = table.reset_index(drop=True)
    elif not isinstance(table.index, pd.RangeIndex):  # an index that means something is shown
        data = table.reset_index()
        if "index" in data.columns and "index" not in table.columns:
            data = data.rename(columns={"index": ""})
    note = None
    if max_rows is not None and len(data) > max_rows:
        half = max(max_rows // 2, 1)
        note = pick(
            f"… {len(data) - 2 * half} baris lagi tidak ditampilkan (dari {len(data)})",
            f"… {len(data) - 2 * half} more rows not shown (of {len(data)})",
        )
        data = pd.concat([data.head(half), data.tail(half)])
    cells: dict[str, list[str]] = {}
    for column in data.columns:
        label = (
            " · ".join(column_label(part) for part in column if str(part))
            if isinstance(column, tuple)
            else column_label(column)
        )
        if label in cells:  # two columns with one label (left_at, exited_at): keep both apart
            label = f"{label} ({column})"
        cells[label] = [_cell_text(value, zone, decimals) for value in data[column]]
    return Table(frame=pd.DataFrame(cells, dtype=object), title=title, note=note)


def readable_tables(*, enable: bool = True, tz: str | None = None) -> None:
    """Show every DataFrame in this notebook as :func:`show_table` does (HTML only).

    One call at the top of a notebook gives every table bilingual headers, local times and
    "—" for missing values; the text form (and the data) stay as pandas makes them. Long
    frames show their first and last rows (``pandas.options.display.max_rows``).

    Parameters
    ----------
    enable : bool
        False goes back to pandas' own HTML.
    tz : str, optional
        Time zone of the instants shown (default: each frame's ``attrs["tz"]``, else
        Asia/Jakarta).
    """
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/html"]
    if not enable:
        formatter.type_printers.pop(pd.DataFrame, None)
        return

    def _html(frame: pd.DataFrame) -> str:
        limit = pd.get_option("display.max_rows")
        return show_table(frame, tz=tz, max_rows=limit)._repr_html_()

    formatter.for_type(pd.DataFrame, _html)
