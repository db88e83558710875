"""Stays written by the engine straight to a Parquet file (``time_in_stage(..., to=...)``), and
summaries read from such a file without one row per stay in pandas: the same stays and the
same figures as in memory; working days from the engine's calendar table."""

from __future__ import annotations

from pathlib import Path

import holidays as holidays_lib
import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.core.errors import AnalysisError
from pekso_toolkit.datasets import load_sample_events
from pekso_toolkit.stays import summary as summary_module
from pekso_toolkit.stays.calendar import calendar_table
from pekso_toolkit.stays.durations import read_stays, time_in_stage
from pekso_toolkit.stays.summary import stage_summary

AS_OF = "2025-06-30"
KEY = ["case_id", "entered_at", "stage"]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    frame = load_sample_events().events
    order = np.random.default_rng(3).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


@pytest.fixture(scope="module")
def events_file(events: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.parquet"
    events.to_parquet(path, index=False)
    return path


def _sorted(stays: pd.DataFrame) -> pd.DataFrame:
    return stays.sort_values(KEY, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------- calendar
def test_calendar_table_counts_working_days_like_the_holidays_package() -> None:
    first = int(np.datetime64("2023-01-01", "D").astype(np.int64))
    last = int(np.datetime64("2025-12-31", "D").astype(np.int64))
    table = calendar_table(first, last, "ID").to_pandas()
    listed = holidays_lib.country_holidays("ID", years=range(2023, 2026))
    dates = pd.to_datetime(table["day"], unit="D")
    expected = [(d.weekday() < 5 and d.date() not in listed) for d in dates]
    assert table["working"].astype(bool).tolist() == expected
    assert 600 < int(table["working"].sum()) < 3 * 261
    np.testing.assert_array_equal(table["through"], np.cumsum(expected))
    np.testing.assert_array_equal(table["before"], table["through"] - table["working"])


def test_unknown_country_is_a_clear_error(events: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="holidays|libur") as info:
        time_in_stage(events, as_of=AS_OF, days="working", holidays="XX")
    assert info.value.field == "holidays"


# ---------------------------------------------------------------------------------- to a file
@pytest.mark.parametrize("days", ["calendar", "working"])
def test_stays_written_to_parquet_are_the_in_memory_stays(
    events: pd.DataFrame, events_file: Path, tmp_path: Path, days: str
) -> None:
    expected = time_in_stage(events, as_of=AS_OF, days=days)  # type: ignore[arg-type]
    out = tmp_path / "stays.parquet"
    written = time_in_stage(events_file, as_of=AS_OF, days=days, to=out)  # type: ignore[arg-type]
    assert written == out and out.exists()
    got = read_stays(out)
    assert list(got.columns) == list(expected.columns)
    assert got.attrs == expected.attrs
    assert len(got) == len(expected) > 1000
    assert int((~got["observed"]).sum()) == int((~expected["observed"]).sum()) > 0
    got, want = _sorted(got), _sorted(expected)
    for col in ("case_id", "stage", "visit", "next_stage", "observed", "office", "worker"):
        pd.testing.assert_series_equal(got[col], want[col], check_names=True)
    for col in ("entered_at", "left_at"):
        pd.testing.assert_series_equal(got[col], want[col].astype(got[col].dtype))
    np.testing.assert_allclose(got["days"], want["days"], rtol=0, atol=1e-9)


def test_a_dataframe_can_be_written_too(events: pd.DataFrame, tmp_path: Path) -> None:
    out = time_in_stage(events, as_of=AS_OF, to=tmp_path / "s.parquet", carry=["office"])
    got = read_stays(out)
    want = time_in_stage(events, as_of=AS_OF, carry=["office"])
    assert len(got) == len(want)
    pd.testing.assert_series_equal(_sorted(got)["office"], _sorted(want)["office"])


def test_an_existing_file_is_never_overwritten(events_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "stays.parquet"
    out.write_bytes(b"earlier results")
    with pytest.raises(AnalysisError) as info:
        time_in_stage(events_file, as_of=AS_OF, to=out)
    assert info.value.field == "to"
    assert "overwrite=True" in info.value.message_en
    assert out.read_bytes() == b"earlier results"
    time_in_stage(events_file, as_of=AS_OF, to=out, overwrite=True)
    assert len(read_stays(out)) > 1000


def test_reading_a_file_that_holds_no_stays_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(path)
    with pytest.raises(AnalysisError, match="time_in_stage") as info:
        read_stays(path)
    assert info.value.field == "stays"


# ---------------------------------------------------------------------------------- summaries
@pytest.mark.parametrize("by", [None, "office"])
def test_stage_summary_of_a_stays_file_equals_the_in_memory_summary(
    events: pd.DataFrame, events_file: Path, tmp_path: Path, by: str | None
) -> None:
    stays = time_in_stage(events, as_of=AS_OF)
    out = time_in_stage(events_file, as_of=AS_OF, to=tmp_path / "stays.parquet")
    want = stage_summary(stays, by=by)
    got = stage_summary(out, by=by)
    assert len(want) >= 5
    assert want["n_open"].sum() > 0
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-9)
    assert got.attrs.keys() == want.attrs.keys()
    assert got.attrs["as_of"] == want.attrs["as_of"]


def test_stage_summary_of_a_file_never_loads_one_row_per_stay(
    events_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = time_in_stage(events_file, as_of=AS_OF, to=tmp_path / "stays.parquet")
    n_stays = len(read_stays(out))
    seen: list[int] = []
    real = summary_module._fit

    def spy(t: np.ndarray, e: np.ndarray, w: np.ndarray, alpha: float, label: str):  # type: ignore[no-untyped-def]
        seen.append((len(t), int(np.sum(w))))
        return real(t, e, w, alpha, label)

    monkeypatch.setattr(summary_module, "_fit", spy)
    monkeypatch.setattr(pd, "read_parquet", None)  # the file is aggregated by the engine
    table = stage_summary(out, by="office", resolution=1.0)
    assert int(table["n_stays"].sum()) == n_stays
    # the fits get (duration, observed, count) rows standing for every stay: far fewer rows
    assert sum(w for _, w in seen) == n_stays
    assert 0 < sum(n for n, _ in seen) < n_stays / 2


def test_an_unwritable_folder_is_a_clear_error(events_file: Path, tmp_path: Path) -> None:
    import os

    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores permission bits: use a file as folder
            folder.chmod(0o700)
            blocker = tmp_path / "not_a_folder"
            blocker.write_text("x")
            target = blocker / "stays.parquet"
        else:
            target = folder / "stays.parquet"
        with pytest.raises(AnalysisError) as info:
            time_in_stage(events_file, as_of=AS_OF, to=target)
        assert info.value.field == "to"
    finally:
        folder.chmod(0o700)
