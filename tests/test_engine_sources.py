"""time_in_stage on events that are not a pandas DataFrame: a Parquet dataset, a DuckDB relation,
a DuckDB database file and a dask DataFrame give the stays of the same events in memory; the
DuckDB memory limit and spill directory are the ones asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from simlog import simulate

from pekso_toolkit.core.errors import AnalysisError, EventLogError
from pekso_toolkit.datasets import load_sample_events
from pekso_toolkit.stays import durations
from pekso_toolkit.stays.durations import time_in_stage
from pekso_toolkit.stays.engine import connect, settings
from pekso_toolkit.stays.summary import stage_summary

AS_OF = "2025-06-30"
KEY = ["case_id", "entered_at", "stage"]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    """The sample events (3,000 cases), rows shuffled so no input arrives sorted."""
    frame = load_sample_events().events
    order = np.random.default_rng(7).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


@pytest.fixture(scope="module")
def expected(events: pd.DataFrame) -> pd.DataFrame:
    """The stays computed in memory from the DataFrame."""
    return time_in_stage(events, as_of=AS_OF)


def _sorted(stays: pd.DataFrame) -> pd.DataFrame:
    return stays.sort_values(KEY, kind="stable").reset_index(drop=True)


def assert_same_stays(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Identical frames after sorting: values, dtypes, open stays and attrs."""
    assert len(got) == len(expected) > 0
    assert int((~got["observed"]).sum()) == int((~expected["observed"]).sum()) > 0
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected), check_exact=True)
    assert got.attrs == expected.attrs


def write_parquet_parts(events: pd.DataFrame, folder: Path, parts: int = 3) -> str:
    """The events in ``parts`` Parquet files (rows dealt out at random); returns the glob."""
    folder.mkdir(parents=True, exist_ok=True)
    which = np.random.default_rng(1).integers(0, parts, len(events))
    for i in range(parts):
        events[which == i].to_parquet(folder / f"part-{i}.parquet", index=False)
    return str(folder / "*.parquet")


# ---------------------------------------------------------------------------------- Parquet
def test_parquet_glob_gives_the_in_memory_stays(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path
) -> None:
    glob = write_parquet_parts(events, tmp_path / "events")
    assert len(list((tmp_path / "events").glob("*.parquet"))) == 3
    got = time_in_stage(glob, as_of=AS_OF)
    assert_same_stays(got, expected)


def test_parquet_path_object_and_carry(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path
) -> None:
    events.to_parquet(tmp_path / "events.parquet", index=False)
    got = time_in_stage(tmp_path / "events.parquet", as_of=AS_OF, carry=["office"])
    assert list(got.columns) == [*expected.columns[:8], "office"]
    assert_same_stays(got, expected[got.columns])


def test_parquet_with_missing_case_values_carries_the_last_known(tmp_path: Path) -> None:
    sim = simulate(300, seed=3, as_of="2024-06-30", shuffle=True)
    events = sim.events.assign(office=sim.events["office"].astype(object))
    events.loc[events.index % 4 == 0, "office"] = None  # gaps: the last known value is kept
    events.to_parquet(tmp_path / "gaps.parquet", index=False)
    want = time_in_stage(events, as_of="2024-06-30", carry=["office"])
    got = time_in_stage(tmp_path / "gaps.parquet", as_of="2024-06-30", carry=["office"])
    assert want["office"].isna().sum() > 0  # stays before the first known office
    assert_same_stays(got, want)


# ---------------------------------------------------------------------------------- DuckDB
def test_duckdb_relation_gives_the_in_memory_stays(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path
) -> None:
    glob = write_parquet_parts(events, tmp_path / "events")
    con = duckdb.connect()
    relation = con.read_parquet(glob)
    got = time_in_stage(relation, as_of=AS_OF)
    assert_same_stays(got, expected)
    # a filtered relation: the stays of the cases it keeps
    office = str(events["office"].iloc[0])
    subset = relation.filter(f"office = '{office}'")
    got = time_in_stage(subset, as_of=AS_OF)
    want = time_in_stage(events[events["office"] == office], as_of=AS_OF)
    assert_same_stays(got, want)


def test_duckdb_database_file_reads_the_events_table(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "cases.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", events)
        con.execute("CREATE TABLE events AS SELECT * FROM frame")
        con.execute(
            "CREATE TABLE stage_events AS SELECT * FROM frame WHERE office = 'Kota Bandung'"
        )
    got = time_in_stage(path, as_of=AS_OF)  # the documented default table ``events``
    assert_same_stays(got, expected)
    got = time_in_stage(str(path), as_of=AS_OF, table="stage_events")
    want = time_in_stage(events[events["office"] == "Kota Bandung"], as_of=AS_OF)
    assert_same_stays(got, want)
    # the file is only read: another process may keep writing it
    with duckdb.connect(str(path)) as con:
        count = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    assert count == len(events)


def test_duckdb_database_file_without_the_table_says_which_tables_exist(
    events: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "cases.db"
    with duckdb.connect(str(path)) as con:
        con.register("frame", events)
        con.execute("CREATE TABLE kejadian AS SELECT * FROM frame")
    with pytest.raises(EventLogError) as info:
        time_in_stage(path, as_of=AS_OF)
    assert info.value.field == "table"
    assert "kejadian" in info.value.message_id and "kejadian" in info.value.message_en
    assert "tabel" in info.value.message_id and "table" in info.value.message_en
    got = time_in_stage(path, as_of=AS_OF, table="kejadian")
    assert len(got) > 0


def test_a_missing_file_is_a_toolkit_error(tmp_path: Path) -> None:
    with pytest.raises(EventLogError) as info:
        time_in_stage(tmp_path / "nothing-*.parquet", as_of=AS_OF)
    assert "nothing-" in str(info.value)
    assert info.value.message_id != info.value.message_en


def test_unknown_stage_in_a_parquet_file_is_a_bilingual_error(
    events: pd.DataFrame, tmp_path: Path
) -> None:
    bad = events.assign(stage=events["stage"].astype(str))
    bad.loc[5, "stage"] = "rujukan"
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(EventLogError) as info:
        time_in_stage(tmp_path / "bad.parquet", as_of=AS_OF)
    assert "1" in info.value.message_id and "stage" in info.value.message_en
    assert info.value.message_id != info.value.message_en


# ---------------------------------------------------------------------------------- memory
def test_connect_sets_the_memory_limit_spill_directory_and_progress_bar(tmp_path: Path) -> None:
    con = connect(memory_limit="300MB", temp_directory=str(tmp_path / "spill"), progress=True)
    try:
        got = settings(con)
    finally:
        con.close()
    assert got["memory_limit_bytes"] == pytest.approx(300e6, rel=1e-3)
    assert got["temp_directory"] == str(tmp_path / "spill")
    assert got["enable_progress_bar"] is True
    con = connect()
    try:
        default = settings(con)
    finally:
        con.close()
    assert 0 < default["memory_limit_bytes"] < 300 * 1000**5
    assert default["enable_progress_bar"] is False


def test_time_in_stage_runs_with_the_limit_asked_for(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path, monkeypatch: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def recording_connect(**kwargs: Any) -> duckdb.DuckDBPyConnection:
        con = connect(**kwargs)
        seen.append(settings(con))
        return con

    monkeypatch.setattr(durations, "connect", recording_connect)
    glob = write_parquet_parts(events, tmp_path / "events")
    got = time_in_stage(
        glob,
        as_of=AS_OF,
        memory_limit="250MB",
        temp_directory=str(tmp_path / "spill"),
        progress=True,
    )
    assert_same_stays(got, expected)
    assert seen[-1]["memory_limit_bytes"] == pytest.approx(250e6, rel=1e-3)
    assert seen[-1]["temp_directory"] == str(tmp_path / "spill")
    assert seen[-1]["enable_progress_bar"] is True
    got = time_in_stage(events, as_of=AS_OF, memory_limit="200MB")
    assert seen[-1]["memory_limit_bytes"] == pytest.approx(200e6, rel=1e-3)
    assert_same_stays(got, expected)


@pytest.mark.slow
def test_a_small_memory_limit_spills_and_still_gives_the_stays(
    tmp_path: Path, monkeypatch: Any
) -> None:
    sim = simulate(150_000, seed=11, as_of="2024-06-30", span_days=450.0, shuffle=True)
    events = sim.events[["case_id", "stage", "timestamp"]]
    path = tmp_path / "big.parquet"
    events.to_parquet(path, index=False, row_group_size=100_000)
    want = time_in_stage(events, as_of="2024-06-30")
    spill_cap: list[str] = []

    def two_threads(**kwargs: Any) -> duckdb.DuckDBPyConnection:
        # the memory a query needs grows with DuckDB's threads: fix them so the limit below
        # means the same on every machine
        con = connect(**kwargs)
        con.execute("SET threads = 2")
        for cap in spill_cap:
            con.execute(f"SET max_temp_directory_size = '{cap}'")
        return con

    monkeypatch.setattr(durations, "connect", two_threads)
    got = time_in_stage(path, as_of="2024-06-30", memory_limit="80MB")
    assert_same_stays(got, want)
    # the same limit with no room to spill fails: the query above completed by spilling
    spill_cap.append("0KiB")
    with pytest.raises(AnalysisError) as info:
        time_in_stage(path, as_of="2024-06-30", memory_limit="80MB")
    assert info.value.field == "memory_limit"
    assert "memory_limit" in info.value.message_id and "Raise" in info.value.message_en
    # and far too little memory is reported as a toolkit error that says what to change
    spill_cap.clear()
    with pytest.raises(AnalysisError) as info:
        time_in_stage(path, as_of="2024-06-30", memory_limit="1MB")
    assert "Naikkan memory_limit" in info.value.message_id


# ---------------------------------------------------------------------------------- dask
def _local_cluster(processes: bool) -> Any:
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(
        n_workers=2,
        processes=processes,
        threads_per_worker=1,
        dashboard_address=None,
        worker_dashboard_address=None,
    )


@pytest.mark.slow
@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_on_a_local_cluster_gives_the_single_machine_stays(
    events: pd.DataFrame, expected: pd.DataFrame, processes: bool
) -> None:
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with (
        _local_cluster(processes) as cluster,
        distributed.Client(cluster) as client,
        # keep pandas' own column types (dask would turn text columns into Arrow strings)
        dask.config.set({"dataframe.convert-string": False}),
    ):
        ddf = dd.from_pandas(events, npartitions=4)
        assert ddf["office"].dtype == events["office"].dtype
        got = time_in_stage(ddf, as_of=AS_OF)
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    assert_same_stays(got, expected)
    pd.testing.assert_frame_equal(stage_summary(got), stage_summary(expected), check_exact=True)
    by_office = stage_summary(got, by="office")
    pd.testing.assert_frame_equal(by_office, stage_summary(expected, by="office"), check_exact=True)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:the stage targets are in calendar days")
def test_dask_from_parquet_with_working_days_and_carry(
    events: pd.DataFrame, tmp_path: Path
) -> None:
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    glob = write_parquet_parts(events, tmp_path / "events")
    options: dict[str, Any] = {"as_of": AS_OF, "days": "working", "carry": ["office", "worker"]}
    with _local_cluster(False) as cluster, distributed.Client(cluster):
        ddf = dd.read_parquet(glob)
        assert ddf.npartitions == 3
        got = time_in_stage(ddf, **options)
        same_events = ddf.compute()  # as dask reads them (text columns as Arrow strings)
    assert_same_stays(got, time_in_stage(same_events, **options))
    want = time_in_stage(events, **options)
    # against the pandas frame the files were written from, only the text type differs
    assert str(got["case_id"].dtype) == "string" and str(got["office"].dtype) != "object"
    converted = got.astype({"case_id": want["case_id"].dtype, "office": object, "worker": object})
    assert_same_stays(converted, want)
    pd.testing.assert_frame_equal(stage_summary(got), stage_summary(want), check_exact=True)


# ---------------------------------------------------------------------------------- frames
@pytest.mark.parametrize("dtype", ["string[python]", "string[pyarrow]", "object"])
def test_case_ids_reach_the_engine_unchanged_whatever_their_storage(
    events: pd.DataFrame, expected: pd.DataFrame, dtype: str
) -> None:
    from pekso_toolkit.stays.engine import _arrow_strings

    ids = pd.Series(["K1", None, "Ä-2", ""], dtype=dtype)
    assert _arrow_strings(ids).to_pylist() == ["K1", None, "Ä-2", ""]
    got = time_in_stage(events.astype({"case_id": dtype}), as_of=AS_OF)
    assert got["case_id"].tolist() == expected["case_id"].tolist()
    assert_same_stays(got.astype({"case_id": expected["case_id"].dtype}), expected)


# ---------------------------------------------------------------------------------- Arrow
def test_arrow_table_gives_the_in_memory_stays(
    events: pd.DataFrame, expected: pd.DataFrame, tmp_path: Path
) -> None:
    import pyarrow as pa

    table = pa.Table.from_pandas(events, preserve_index=False)
    got = time_in_stage(table, as_of=AS_OF)
    assert_same_stays(got, expected)
    out = time_in_stage(table, as_of=AS_OF, to=tmp_path / "stays.parquet", carry=["office"])
    assert len(durations.read_stays(out)) == len(expected)
