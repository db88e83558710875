"""The toolkit's settings and vocabularies, each in one place.

Every module reads these names from here; none repeats a value.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

__all__ = [
    "DEFAULT_TZ",
    "INDONESIAN_TZ",
    "MIN_COUNT",
    "PLAUSIBLE_FROM",
    "PLAUSIBLE_AHEAD_DAYS",
    "RISK_ALIASES",
    "RISK_LEVELS",
]

#: Time zone of times written without one, and of every date shown to users (WIB).
DEFAULT_TZ = "Asia/Jakarta"

#: Indonesia's three zones by their usual names; ``tz=`` accepts these names or any IANA zone.
INDONESIAN_TZ = MappingProxyType(
    {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
)

#: Publication threshold: published counts from 1 to ``MIN_COUNT - 1`` are masked, and so is every
#: figure derived from fewer than ``MIN_COUNT`` cases or stays.
MIN_COUNT = 11

#: Risk and severity levels: code -> (label in Bahasa Indonesia, label in English), highest first.
RISK_LEVELS = MappingProxyType(
    {"high": ("tinggi", "high"), "medium": ("sedang", "medium"), "low": ("rendah", "low")}
)

#: Every accepted spelling of a level (either language) -> its code.
RISK_ALIASES = MappingProxyType(
    {alias: code for code, labels in RISK_LEVELS.items() for alias in (code, *labels)}
)

#: Casework times before this date are refused (store) or flagged (loader) as implausible typos.
PLAUSIBLE_FROM = date(1990, 1, 1)

#: ...and so are times more than this many days after now.
PLAUSIBLE_AHEAD_DAYS = 1
