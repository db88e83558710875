"""The one place where dates and times become UTC instants.

Every time given by a user (``as_of=``, ``at=``), read by the loader or stored by the case store
goes through these functions:

- :func:`resolve_tz` turns ``tz=`` into an IANA zone name; ``"WIB"``, ``"WITA"`` and ``"WIT"``
  (:data:`~pekso_toolkit.core.config.INDONESIAN_TZ`) are accepted besides any IANA name.
- :func:`to_utc` reads one time; a time without a zone ("naive") is local time in ``tz``
  (default :data:`~pekso_toolkit.core.config.DEFAULT_TZ`), a date alone is midnight there.
- :func:`localise` does the same for a whole column of parsed times.
- :func:`plausible_window` is the window of plausible casework times
  (:data:`~pekso_toolkit.core.config.PLAUSIBLE_FROM` to now +
  :data:`~pekso_toolkit.core.config.PLAUSIBLE_AHEAD_DAYS` days).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import (
    DEFAULT_TZ,
    INDONESIAN_TZ,
    PLAUSIBLE_AHEAD_DAYS,
    PLAUSIBLE_FROM,
)
from pekso_toolkit.core.errors import PeksoError

__all__ = [
    "TimeValueError",
    "localise",
    "outside_window",
    "plausible_window",
    "resolve_tz",
    "to_utc",
]


class TimeValueError(PeksoError, ValueError):
    """A time or time zone given by a user cannot be read; the message names the field."""


def resolve_tz(tz: str | None = None) -> str:
    """The IANA name of a time zone given as ``tz=``.

    ``None`` gives :data:`DEFAULT_TZ`; ``"WIB"``, ``"WITA"`` and ``"WIT"`` (any case) give
    ``Asia/Jakarta``, ``Asia/Makassar`` and ``Asia/Jayapura``; an IANA name is returned as given.

    Raises
    ------
    TimeValueError
        When the name is not a time zone.

    >>> resolve_tz("wita")
    'Asia/Makassar'
    """
    if tz is None:
        return DEFAULT_TZ
    if isinstance(tz, str):
        name = INDONESIAN_TZ.get(tz.strip().upper(), tz.strip())
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return name
    choices = ", ".join(f"{k} ({v})" for k, v in INDONESIAN_TZ.items())
    raise TimeValueError(
        f"tz: {tz!r} bukan zona waktu; pakai {choices} atau nama IANA seperti 'Asia/Jakarta'",
        f"tz: {tz!r} is not a time zone; use {choices} or an IANA name such as 'Asia/Jakarta'",
        field="tz",
    )


def to_utc(value: Any, *, tz: str | None = DEFAULT_TZ, field: str = "as_of") -> pd.Timestamp:
    """One date or time as a UTC timestamp (nanosecond precision).

    Accepts a ``pandas.Timestamp``, ``datetime``, ``date``, ``numpy.datetime64`` or text that
    pandas reads (ISO 8601 such as ``"2024-06-30"`` or ``"2024-06-30T09:30+07:00"``). A time
    without a zone is local time in ``tz`` (``"WIB"``/``"WITA"``/``"WIT"`` or an IANA name); a
    date alone is midnight there.

    Raises
    ------
    TimeValueError
        When the value is missing, not a time, or outside the years 1677-2262; the message names
        ``field``.

    >>> to_utc("2024-06-30")
    Timestamp('2024-06-29 17:00:00+0000', tz='UTC')
    """
    zone = resolve_tz(tz)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        stamp = pd.Timestamp(value)
        missing = pd.isna(stamp)
        if not missing:
            if stamp.tzinfo is None:
                stamp = stamp.tz_localize(zone, nonexistent="shift_forward")
            stamp = stamp.tz_convert("UTC").as_unit("ns")
    except (TypeError, ValueError, OverflowError):
        raise TimeValueError(
            f"{field}: {value!r} bukan tanggal atau waktu yang bisa dibaca; tulis misalnya "
            f"'2024-06-30' atau '2024-06-30 09:30'",
            f"{field}: {value!r} is not a readable date or time; give e.g. '2024-06-30' or "
            f"'2024-06-30 09:30'",
            field=field,
        ) from None
    if missing:
        raise TimeValueError(
            f"{field}: tanggal kosong; isi tanggalnya, misalnya '2024-06-30'",
            f"{field}: the date is missing; give it, e.g. '2024-06-30'",
            field=field,
        )
    return stamp


def localise(values: pd.Series, tz: str | None = DEFAULT_TZ) -> pd.Series:
    """A column of parsed times as ``datetime64[ns, UTC]``; naive times are local time in ``tz``.

    Times that do not exist locally (a clock moved forward) move forward; times that exist twice
    (a clock moved back) become missing. Indonesia's zones have neither.
    """
    if values.dt.tz is None:
        values = values.dt.tz_localize(resolve_tz(tz), ambiguous="NaT", nonexistent="shift_forward")
    return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def plausible_window(
    now: Any = None, *, tz: str | None = DEFAULT_TZ
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last plausible casework times, in UTC.

    From midnight of :data:`PLAUSIBLE_FROM` in ``tz`` to ``now`` (default: the current time) plus
    :data:`PLAUSIBLE_AHEAD_DAYS` days. Times outside are typing mistakes such as year 202 or 2202.
    """
    end = pd.Timestamp.now(tz="UTC") if now is None else to_utc(now, tz=tz, field="now")
    start = to_utc(PLAUSIBLE_FROM, tz=tz, field="PLAUSIBLE_FROM")
    return start, end + pd.Timedelta(days=PLAUSIBLE_AHEAD_DAYS)


def outside_window(
    stamps: pd.Series, now: Any = None, *, tz: str | None = DEFAULT_TZ
) -> np.ndarray:
    """Boolean mask of the (UTC) times outside :func:`plausible_window`; missing times are not."""
    start, end = plausible_window(now, tz=tz)
    stamps = pd.Series(stamps)
    return ((stamps < start) | (stamps > end)).fillna(False).to_numpy(dtype=bool)
