"""The working-day calendar: one row per local date, joined to the stays by the engine.

Working days are weekdays (Monday to Friday) that are not public holidays. The holidays come
from the ``holidays`` package (``"ID"``: Indonesia's national public holidays and collective
leave days as the package lists them), from a list of dates, or not at all (``None``: weekends
only). The engine (:mod:`pekso_toolkit.stays.engine`) joins this table to each stay's first and
last local date, so a stay of any length costs two look-ups.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pekso_toolkit.core.errors import AnalysisError

__all__ = ["CALENDAR_COLUMNS", "Holidays", "calendar_table", "holiday_dates"]

Holidays = str | Iterable[Any] | None

#: Columns of :func:`calendar_table`.
CALENDAR_COLUMNS = ("day", "working", "before", "through")

_WEEKMASK = "1111100"


@functools.lru_cache(maxsize=32)
def _country_holidays(country: str, first_year: int, last_year: int) -> np.ndarray:
    import holidays as holidays_lib

    try:
        days = holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError as exc:
        raise AnalysisError(
            f"Tidak ada kalender hari libur untuk negara {country!r}; pakai 'ID' untuk "
            "Indonesia, daftar tanggal libur sendiri, atau None (hanya akhir pekan).",
            f"There is no public-holiday calendar for country {country!r}; use 'ID' for "
            "Indonesia, your own list of dates, or None (weekends only).",
            field="holidays",
        ) from exc
    return np.array(sorted(days), dtype="datetime64[D]")


def holiday_dates(holidays: Holidays, first_year: int, last_year: int) -> np.ndarray:
    """The holidays from ``first_year`` to ``last_year`` as sorted ``datetime64[D]`` dates.

    ``holidays`` is a country code of the ``holidays`` package (``"ID"``), a list of dates, or
    None (no holidays).
    """
    if holidays is None:
        return np.array([], dtype="datetime64[D]")
    if isinstance(holidays, str):
        return _country_holidays(holidays.upper(), first_year, last_year)
    dates = [pd.Timestamp(d).date() for d in holidays]
    return np.array(sorted(set(dates)), dtype="datetime64[D]")


def calendar_table(first_day: int, last_day: int, holidays: Holidays) -> pa.Table:
    """One row per date from ``first_day`` to ``last_day`` (days since 1970-01-01, included).

    Returns
    -------
    pyarrow.Table
        ``day`` (int64, days since 1970-01-01), ``working`` (int8: 1 on a working day),
        ``before`` (int64: working days from ``first_day`` up to the day before) and
        ``through`` (int64: the same, the day itself included).
    """
    dates = np.arange(first_day, last_day + 1).astype("datetime64[D]")
    years = pd.DatetimeIndex(dates[[0, -1]]).year
    hol = holiday_dates(holidays, int(years[0]), int(years[1]))
    working = np.is_busday(dates, weekmask=_WEEKMASK, holidays=hol)
    through = np.cumsum(working, dtype=np.int64)
    return pa.table(
        {
            "day": np.arange(first_day, last_day + 1, dtype=np.int64),
            "working": working.astype(np.int8),
            "before": through - working,
            "through": through,
        }
    )
