"""One time parser: user, loader and store input -> UTC with a named time zone."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.core import times
from pekso_toolkit.core.config import DEFAULT_TZ, INDONESIAN_TZ, PLAUSIBLE_FROM
from pekso_toolkit.core.times import TimeValueError, localise, resolve_tz, to_utc
from pekso_toolkit.stays import durations


@pytest.mark.parametrize(("name", "zone"), [*INDONESIAN_TZ.items(), ("wita", "Asia/Makassar")])
def test_indonesian_zone_names(name: str, zone: str) -> None:
    assert resolve_tz(name) == zone
    offset = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}[zone]
    expected = pd.Timestamp("2024-06-30 12:00", tz="UTC") - pd.Timedelta(hours=offset)
    assert to_utc("2024-06-30 12:00", tz=name) == expected


def test_default_zone_and_forms() -> None:
    assert resolve_tz(None) == DEFAULT_TZ == resolve_tz(DEFAULT_TZ)
    stamp = to_utc("2024-06-30")
    assert stamp == pd.Timestamp("2024-06-29 17:00", tz="UTC")
    for same in (
        date(2024, 6, 30),
        datetime(2024, 6, 30),
        np.datetime64("2024-06-30"),
        pd.Timestamp("2024-06-30 00:00", tz=DEFAULT_TZ),
        "2024-06-30T00:00+07:00",
    ):
        assert to_utc(same) == stamp
        assert to_utc(same).unit == "ns"


@pytest.mark.parametrize("bad", ["not a date", None, float("nan"), datetime(1, 1, 1), [1]])
def test_bad_times_are_errors_naming_the_field(bad: object) -> None:
    with pytest.raises(TimeValueError, match="at:") as info:
        to_utc(bad, field="at")
    assert info.value.field == "at"
    assert info.value.message_en != info.value.message_id


def test_unknown_zone() -> None:
    with pytest.raises(TimeValueError, match="WIB"):
        resolve_tz("Mars/Olympus")
    with pytest.raises(TimeValueError):
        resolve_tz(7)  # type: ignore[arg-type]


def test_analyses_use_the_same_parser() -> None:
    for value, tz in (("2024-06-30", "WITA"), ("2024-01-01 08:00", "Asia/Jayapura")):
        assert durations.to_utc(value, tz=tz) == to_utc(value, tz=tz)
    with pytest.raises(ValueError, match="as_of"):
        durations.to_utc("not a date")


def test_localise_a_column() -> None:
    values = pd.Series(pd.to_datetime(["2024-06-30 08:00", None]))
    out = localise(values, "WIT")
    assert out.iloc[0] == pd.Timestamp("2024-06-29 23:00", tz="UTC")
    assert pd.isna(out.iloc[1]) and str(out.dtype) == "datetime64[ns, UTC]"


def test_plausible_window() -> None:
    start, end = times.plausible_window("2024-06-30")
    assert start == to_utc(PLAUSIBLE_FROM)
    assert end == to_utc("2024-07-01")
    stamps = pd.Series([to_utc("1900-01-01"), to_utc("2024-06-30"), to_utc("2200-01-01"), pd.NaT])
    assert times.outside_window(stamps, "2024-06-30").tolist() == [True, False, True, False]
