"""The synthetic casework generator and the committed sample export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit import datasets
from pekso_toolkit.events.eventlog import EventLog

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-01-01"
JAKARTA = "Asia/Jakarta"

#: The 26 PPKS (Pemerlu Pelayanan Kesejahteraan Sosial) codes of Permensos 08/2012.
PPKS_CODES = {
    "ABT", "AT", "ABH", "AJ", "ADK", "AKTK", "AMPK", "LUT", "PD", "TS", "GLD", "PGM", "PML",
    "KM", "BWBLP", "ODHA", "NAPZA", "KTR", "KTK", "PMBS", "KBA", "KBS", "PRSE", "FM", "KBSP",
    "KAT",
}  # fmt: skip
HELPING = ("proses_awal", "asesmen", "analisa_masalah", "intervensi", "terminasi")


@pytest.fixture(scope="module")
def small() -> EventLog:
    return datasets.synthesize(400, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def sample() -> EventLog:
    return datasets.load_sample_events()


def _as_of_utc(as_of: str) -> pd.Timestamp:
    return pd.Timestamp(as_of).tz_localize(JAKARTA).tz_convert("UTC")


# ------------------------------------------------------------------------------ the generator
def test_same_seed_same_log_other_seed_other_log(small: EventLog) -> None:
    again = datasets.synthesize(400, seed=7, as_of=AS_OF)
    pd.testing.assert_frame_equal(small.events, again.events)
    other = datasets.synthesize(400, seed=8, as_of=AS_OF)
    assert not small.events.equals(other.events)
    assert not small.events["case_id"].equals(other.events["case_id"])


def test_columns_and_a_clean_load(small: EventLog) -> None:
    ev = small.events
    assert list(ev.columns) == [
        "case_id",
        "stage",
        "timestamp",
        "office",
        "worker",
        "category",
        "risk",
    ]
    assert small.report.n_rejected == 0
    assert small.n_cases == 400
    assert str(ev["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert set(ev["risk"]) == {"tinggi", "sedang", "rendah"}


def test_nothing_after_as_of_and_some_cases_still_open(small: EventLog) -> None:
    ev = small.events
    assert ev["timestamp"].max() <= _as_of_utc(AS_OF)
    last = ev.groupby("case_id", observed=True)["stage"].last().astype(str)
    open_cases = last[last != "ditutup"]
    assert len(open_cases) > 0.05 * len(last)
    assert (last == "ditutup").sum() > 0.5 * len(last)
    # open cases are the recent ones: they were opened later than closed cases, on average
    first = ev.groupby("case_id", observed=True)["timestamp"].min()
    assert first[open_cases.index].mean() > first[last[last == "ditutup"].index].mean()


def test_as_of_cuts_the_same_cases() -> None:
    early = datasets.synthesize(120, seed=3, as_of="2024-06-30").events
    assert early["timestamp"].max() <= _as_of_utc("2024-06-30")
    frame = datasets.synthesize_frame(120, seed=3, as_of="2024-06-30")
    assert len(frame) == len(early)


def _codes(events: pd.DataFrame) -> pd.Series:
    return pd.Series(events["stage"].cat.codes.to_numpy(), index=events.index)


def test_rework_reopening_and_same_day_events(sample: EventLog) -> None:
    ev = sample.events
    codes = _codes(ev)
    same_case = ev["case_id"].eq(ev["case_id"].shift())
    helping = ev["stage"].isin(HELPING)
    prev_helping = helping.shift(fill_value=False)
    # rework: a helping stage entered after a later helping stage, with no reopening between
    backward = same_case & helping & prev_helping & (codes < codes.shift())
    assert ev.loc[backward, "case_id"].nunique() > 50
    assert set(ev.loc[backward, "stage"].astype(str)) == {"asesmen"}
    # reopened cases: each reopening follows a closure of the same case
    reopen = ev["stage"] == "dibuka_kembali"
    assert ev.loc[reopen, "case_id"].nunique() > 50
    assert (ev["stage"].shift()[reopen] == "ditutup").all() and same_case[reopen].all()
    # same-day events (local calendar days)
    local_day = ev["timestamp"].dt.tz_convert(JAKARTA).dt.date
    per_day = ev.groupby([ev["case_id"], local_day]).size()
    assert (per_day > 1).sum() > 100


def test_offices_workers_and_categories(sample: EventLog) -> None:
    ev = sample.events
    assert set(ev["office"]) == set(datasets.OFFICES)
    per_case = ev.groupby("case_id")[["office", "worker", "category"]].nunique()
    assert (per_case == 1).all().all()  # one office, one worker and one category per case
    assert set(ev["category"]) <= PPKS_CODES
    assert len(set(ev["category"])) >= 20
    workers = ev.groupby("office")["worker"].nunique()
    assert (workers == 4).all()  # four workers per office
    prefix = ev["case_id"].str.split("-").str[0]
    assert (ev["worker"].str.split("-").str[1] == prefix).all()


def test_generator_shows_the_documented_patterns(sample: EventLog) -> None:
    """Skipped analysis (~15%), date-only cases (~45%), slow offices (x1.8 and x1.7)."""
    ev = sample.events
    first_intervention = ev[ev["stage"] == "intervensi"].groupby("case_id")["timestamp"].min()
    analysed = ev[ev["stage"] == "analisa_masalah"].groupby("case_id")["timestamp"].min()
    reached = first_intervention.index
    skipped = ~reached.isin(analysed.index) | (
        analysed.reindex(reached).to_numpy() > first_intervention.to_numpy()
    )
    assert 0.12 < skipped.mean() < 0.18
    local = ev["timestamp"].dt.tz_convert(JAKARTA)
    at_midnight = (local.dt.hour == 0) & (local.dt.minute == 0)
    date_only = at_midnight.groupby(ev["case_id"]).all()
    assert 0.40 < date_only.mean() < 0.50
    # time from entering a stage to the next event of the case (stays that ended)
    nxt = ev.groupby("case_id")["timestamp"].shift(-1)
    days = (nxt - ev["timestamp"]).dt.total_seconds() / 86400

    def median_days(stage: str, office: str) -> float:
        mask = (ev["stage"] == stage) & (ev["office"] == office) & days.notna()
        return float(np.median(days[mask]))

    assert median_days("intervensi", "Kab. Garut") > 1.4 * median_days("intervensi", "Kota Bandung")
    assert median_days("asesmen", "Kota Bekasi") > 1.4 * median_days("asesmen", "Kota Bandung")
    assert median_days("proses_awal", "Kota Bekasi") < 1.3 * median_days(
        "proses_awal", "Kota Bandung"
    )


def test_raw_frame_looks_like_an_agency_export() -> None:
    frame = datasets.synthesize_frame(60, seed=11, as_of=AS_OF)
    assert list(frame.columns) == [
        "case_id",
        "stage",
        "timestamp",
        "office",
        "worker",
        "category",
        "risk",
    ]
    assert frame["timestamp"].str.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?").all()
    assert (frame["timestamp"].str.len() == 10).any() and (frame["timestamp"].str.len() == 16).any()


def test_at_least_one_case() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        datasets.synthesize_frame(0, seed=1, as_of=AS_OF)


# ------------------------------------------------------------------------------ the sample
def test_committed_sample_equals_a_fresh_regeneration() -> None:
    text = datasets.sample_csv_text().encode("utf-8")
    committed = ROOT / "data" / "sample_events.csv"
    assert committed.read_bytes() == text
    assert datasets.sample_events_path().read_bytes() == text


def test_sample_loads_without_rejections(sample: EventLog) -> None:
    assert sample.report.n_rejected == 0
    assert sample.report.n_repaired == 0
    assert sample.n_cases == datasets.SAMPLE_N_CASES
    n_lines = datasets.sample_events_path().read_text(encoding="utf-8").count("\n") - 1
    assert sample.n_events == sample.report.n_read == n_lines
    assert sample.events["timestamp"].max() <= _as_of_utc(datasets.SAMPLE_AS_OF)


def test_agency_export_example_is_reproducible_and_fails_where_planted() -> None:
    from pekso_toolkit.datasets import AGENCY_COLUMNS, agency_export_text

    path = Path(__file__).resolve().parents[1] / "data" / "contoh_ekspor_dinas.csv"
    assert path.read_text(encoding="utf-8") == agency_export_text()
    log = pk.load_events(
        path,
        case=AGENCY_COLUMNS["case_id"],
        stage=AGENCY_COLUMNS["stage"],
        timestamp=AGENCY_COLUMNS["timestamp"],
        stage_map={
            "Penjangkauan": "proses_awal",
            "Analisis Kebutuhan": "analisa_masalah",
            "Kasus Ditutup": "ditutup",
        },
    )
    reasons = log.report.rejected["reason"].value_counts().to_dict()
    assert reasons == {
        "duplicate_event": 2,
        "missing_case_id": 1,
        "unknown_stage": 1,
        "unparseable_timestamp": 1,
    }
    assert log.report.n_kept + log.report.n_rejected == log.report.n_read
