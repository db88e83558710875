"""Reading dates and times of agency exports: mixed formats, day-first dates, Indonesian month
names, Excel serial numbers, time-zone offsets; naive times are read in a stated time zone.

Single values given by users are read by :func:`pekso_toolkit.core.times.to_utc`; this module
reads whole columns of an export and localises them with :func:`~pekso_toolkit.core.times.localise`
(the same rule: a time without a zone is local time in ``tz``).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.times import localise

__all__ = ["DEFAULT_TZ", "parse_timestamps"]

_INDONESIAN_MONTHS = {
    "januari": "january",
    "februari": "february",
    "pebruari": "february",
    "maret": "march",
    "mei": "may",
    "juni": "june",
    "juli": "july",
    "agustus": "august",
    "oktober": "october",
    "desember": "december",
    "agu": "aug",
    "agt": "aug",
    "ags": "aug",
    "okt": "oct",
    "des": "dec",
}
_MONTH_RE = re.compile(
    r"\b(" + "|".join(sorted(_INDONESIAN_MONTHS, key=len, reverse=True)) + r")\b"
)
# an offset after a time of day ("...10:00+07:00", "...10:00:00Z"); a date such as "05-01-2024"
# ends like an offset but has no time before it
_TZ_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_SERIAL_RE = r"^\d{4,5}(?:\.\d+)?$"
# Excel serial numbers from 1954-10-04 to 2119-01-01: anything else is not taken for a date
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


_DAYFIRST_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d/%m/%y",
    "%d %B %Y",
    "%d %b %Y",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
)


#: how explicit each date form is: breaks ties when a column mixes forms equally often
_FORM_RANK = {"iso_tz": 2, "iso": 1, "dayfirst": 0, "monthfirst": 0}


def _swap(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def parse_timestamps(
    raw: pd.Series, *, tz: str, dayfirst: bool
) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Parse a column of dates to UTC.

    Returns (timestamps, missing mask, bad mask (with reason code array), repair code array, notes).
    """
    n = len(raw)
    notes: list[str] = []
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    repair = np.array([""] * n, dtype=object)
    bad = np.array([""] * n, dtype=object)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        out = raw.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        return out, out.isna().to_numpy(), bad, repair, notes
    if pd.api.types.is_datetime64_dtype(raw):
        notes.append(_naive_note(tz))
        out = localise(raw, tz).astype("datetime64[ns, UTC]")
        return out, out.isna().to_numpy(), bad, repair, notes

    values = raw.astype(object)
    is_na = values.isna().to_numpy()
    kinds = values.map(type)
    is_ts = kinds.isin([pd.Timestamp, datetime]).to_numpy()
    is_date = kinds.map(lambda k: k.__name__ == "date").to_numpy(dtype=bool)
    is_num = kinds.isin([int, float, np.int64, np.float64]).to_numpy() & ~is_na
    text = values.where(~(is_ts | is_date | is_num | is_na)).astype("string").str.strip()
    is_empty = (text == "").fillna(False).to_numpy(dtype=bool)
    missing = is_na | is_empty

    if is_ts.any() or is_date.any():  # datetime objects (Excel cells, DataFrames of objects)
        _read_datetime_objects(values, is_ts, is_date, out=out, tz=tz, notes=notes)
    is_serial = _read_serials(values, text, is_num, out=out, repair=repair, bad=bad, tz=tz)
    if (repair == "excel_serial_date").any():
        notes.append(_naive_note(tz))
    todo = ~(missing | is_ts | is_date | is_serial)
    fmt_label = np.array([""] * n, dtype=object)
    has_tz = text.str.contains(_TZ_RE, regex=True).fillna(False).to_numpy(dtype=bool) & todo
    if has_tz.any():
        parsed = pd.to_datetime(text[has_tz], format="ISO8601", errors="coerce", utc=True)
        out[has_tz] = parsed
        fmt_label[has_tz] = np.where(parsed.notna().to_numpy(), "iso_tz", "")
    naive = todo & ~has_tz
    if naive.any():
        out[naive] = localise(_read_naive_text(text, naive, fmt_label, bad, dayfirst), tz)
        if (fmt_label[naive] != "").any():
            notes.append(_naive_note(tz))
    _mark_mixed_column(fmt_label, repair, dayfirst)
    unreadable = todo & out.isna().to_numpy() & (bad == "")
    bad[unreadable] = "unparseable_timestamp"
    bad[missing] = ""
    return out, missing, bad, repair, notes


def _read_datetime_objects(
    values: pd.Series,
    is_ts: np.ndarray,
    is_date: np.ndarray,
    *,
    out: pd.Series,
    tz: str,
    notes: list[str],
) -> None:
    """Convert datetime/date objects into ``out``: aware ones as they are, naive ones in ``tz``."""
    # aware and naive objects may be mixed in one column: convert each group on its own
    aware = values.map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(dtype=bool)
    aware &= is_ts
    if aware.any():
        out[aware] = pd.to_datetime(values[aware].astype(object), errors="coerce", utc=True)
    naive_obj = (is_ts | is_date) & ~aware
    if naive_obj.any():
        objs = pd.to_datetime(values[naive_obj].astype(object), errors="coerce")
        out[naive_obj] = localise(objs, tz)
        notes.append(_naive_note(tz))


def _read_serials(
    values: pd.Series,
    text: pd.Series,
    is_num: np.ndarray,
    *,
    out: pd.Series,
    repair: np.ndarray,
    bad: np.ndarray,
    tz: str,
) -> np.ndarray:
    """Excel serial numbers, as numbers or digit strings, into ``out``; returns the serial mask.

    Serials in the plausible range are repairs (``excel_serial_date``), others unparseable.
    """
    n = len(values)
    serial_text = text.str.match(_SERIAL_RE).fillna(False).to_numpy(dtype=bool)
    serial = np.zeros(n, dtype=float)
    serial[is_num] = values[is_num].astype(float).to_numpy()
    serial[serial_text] = text[serial_text].astype(float).to_numpy()
    is_serial = is_num | serial_text
    ok_serial = is_serial & (serial >= _SERIAL_MIN) & (serial <= _SERIAL_MAX)
    if ok_serial.any():
        as_dt = _EXCEL_EPOCH + pd.to_timedelta(serial[ok_serial], unit="D")
        out[ok_serial] = localise(pd.Series(as_dt, index=values.index[ok_serial]).dt.round("s"), tz)
        repair[ok_serial] = "excel_serial_date"
    bad[is_serial & ~ok_serial] = "unparseable_timestamp"
    return is_serial


def _read_naive_text(
    text: pd.Series, naive: np.ndarray, fmt_label: np.ndarray, bad: np.ndarray, dayfirst: bool
) -> pd.Series:
    """Parse the texts of ``naive`` rows (no offset): ISO 8601 first, then the day-first forms
    (month-first when ``dayfirst`` is False). Labels each parsed row's form in ``fmt_label``;
    values that only parse the other way round are marked ``ambiguous_date_order`` in ``bad``.
    Returns the naive (local) times of those rows (NaT when unreadable).
    """
    sub = text[naive]
    parsed = pd.to_datetime(sub, format="ISO8601", errors="coerce")
    got = parsed.notna().to_numpy()
    idx = np.flatnonzero(naive)
    fmt_label[idx[got]] = "iso"
    remaining = sub[~got]
    if not len(remaining):
        return parsed
    translated = remaining.str.lower().str.replace(
        _MONTH_RE, lambda m: _INDONESIAN_MONTHS[m.group(0)], regex=True
    )
    fmts = _DAYFIRST_FORMATS if dayfirst else tuple(_swap(f) for f in _DAYFIRST_FORMATS)
    result = _first_format(translated, fmts)
    parsed = parsed.copy()
    parsed[~got] = result
    label = "dayfirst" if dayfirst else "monthfirst"
    fmt_label[idx[~got]] = np.where(result.notna().to_numpy(), label, "")
    # values that only parse the other way round are reported as such
    still = result.isna()
    if still.any():
        alt = _first_format(translated[still], tuple(_swap(f) for f in fmts), stop=False)
        pos = text.index.get_indexer(alt.index[alt.notna()])
        bad[pos] = "ambiguous_date_order"
    return parsed


def _first_format(texts: pd.Series, fmts: tuple[str, ...], *, stop: bool = True) -> pd.Series:
    """Each text read with the first of ``fmts`` that fits (NaT if none does)."""
    result = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
    for fmt in fmts:
        left = result.isna()
        if stop and not left.any():
            break
        result[left] = pd.to_datetime(texts[left], format=fmt, errors="coerce")
    return result


def _mark_mixed_column(fmt_label: np.ndarray, repair: np.ndarray, dayfirst: bool) -> None:
    """In a column mixing date forms, the rows in a minority form are repairs."""
    labels = pd.Series(fmt_label[fmt_label != ""])
    if labels.nunique() <= 1:
        return
    # the most common form is the column's own; on a tie, the more explicit form is
    counts = labels.value_counts()
    main = max(counts.index, key=lambda form: (counts[form], _FORM_RANK[form]))
    if main == "iso_tz":
        repair[(fmt_label != "") & (fmt_label != "iso_tz")] = "naive_time_in_mixed_column"
    elif main == "iso":
        repair[fmt_label == ("dayfirst" if dayfirst else "monthfirst")] = "mixed_date_format"


def _naive_note(tz: str) -> str:
    return (
        f"Waktu tanpa zona waktu dibaca sebagai {tz} / "
        f"times without a time zone were read as {tz} (pass tz= to change)"
    )
