"""Corners of agency exports that must never merge, shift or silently change data.

Every input row ends up kept, repaired or rejected with its row number, the field and a reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.core.config import INDONESIAN_TZ
from pekso_toolkit.events import readers
from pekso_toolkit.events.eventlog import REASONS, EventLog, load_events

HEADER = b"case_id,stage,timestamp\n"


def load_bytes(tmp_path: Path, body: bytes, **kwargs: object) -> EventLog:
    path = tmp_path / "export.csv"
    path.write_bytes(body)
    return load_events(path, **kwargs)  # type: ignore[arg-type]


def issue(log: EventLog, row: int) -> dict[str, object]:
    found = log.report.issues[log.report.issues["row"] == row]
    assert len(found) == 1, log.report.issues
    return dict(found.iloc[0])


def assert_accounted(log: EventLog) -> None:
    report = log.report
    assert report.n_kept == len(log.events)
    assert report.n_kept + report.n_rejected == report.n_read
    assert report.issues["row"].is_unique
    assert set(report.issues["reason"].str.split(", ").explode()) <= set(REASONS)


# ------------------------------------------------------------------------------ 1. NUL bytes
def test_nul_bytes_in_a_field_reject_the_row(tmp_path: Path) -> None:
    body = HEADER + b"A\0B,asesmen,2024-01-02\nA\0C,asesmen,2024-01-02\nD,asesmen,2024-01-02\n"
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    assert log.report.n_read == 3
    assert list(log.events["case_id"]) == ["D"]
    for row in (2, 3):
        found = issue(log, row)
        assert found["status"] == "rejected"
        assert found["reason"] == "nul_byte"
        assert "case_id" in str(found["detail"])
    assert not log.events["case_id"].str.contains("\0").any()


def test_nul_bytes_in_a_dataframe_are_rejected_too() -> None:
    df = pd.DataFrame(
        {"case_id": ["A", "B"], "stage": ["asesmen", "ases\0men"], "timestamp": ["2024-01-02"] * 2}
    )
    log = load_events(df)
    assert_accounted(log)
    found = issue(log, 1)
    assert found["reason"] == "nul_byte" and "stage" in str(found["detail"])


# ------------------------------------------------------------------------------ 2. field counts
def test_first_data_row_with_an_extra_field_is_rejected_not_shifted(tmp_path: Path) -> None:
    body = HEADER + b"A,asesmen,2024-01-02,extra\nB,asesmen,2024-01-03\nC,intervensi,2024-01-04\n"
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    assert list(log.events["case_id"]) == ["B", "C"]
    assert list(log.events.columns) == ["case_id", "stage", "timestamp"]
    found = issue(log, 2)
    assert found["status"] == "rejected" and found["reason"] == "field_count"
    assert "line 2" in str(found["detail"])
    assert "4" in str(found["detail"]) and "3" in str(found["detail"])


def test_rows_with_too_few_or_too_many_fields_anywhere(tmp_path: Path) -> None:
    body = HEADER + (
        b"A,proses_awal,2024-01-01\n"
        b"A,asesmen\n"
        b'"B","asesmen","2024-01-03","x","y"\n'
        b'C,"kontrak, baru",2024-01-04\n'
        b"D,asesmen,2024-01-05\n"
    )
    log = load_bytes(tmp_path, body, stage_map={"kontrak, baru": "intervensi"})
    assert_accounted(log)
    assert list(log.events["case_id"]) == ["A", "C", "D"]
    assert issue(log, 3)["reason"] == "field_count"
    assert "2" in str(issue(log, 3)["detail"])
    assert issue(log, 4)["reason"] == "field_count"
    assert "5" in str(issue(log, 4)["detail"])


def test_line_numbers_count_lines_of_quoted_multiline_fields(tmp_path: Path) -> None:
    body = b"case_id,stage,timestamp,note\n" + (
        b'A,proses_awal,2024-01-01,"two\nlines"\nB,asesmen,2024-01-02,x,extra\n'
    )
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    found = issue(log, 3)
    assert found["reason"] == "field_count"
    assert "line 4" in str(found["detail"])


# ------------------------------------------------------------------------------ 3. encodings
def test_one_cp1252_row_does_not_garble_the_utf8_rows(tmp_path: Path) -> None:
    body = (
        b"case_id,stage,timestamp,worker\n"
        + "A,proses_awal,2024-01-02,Séñor Ñoño\n".encode()
        + "B,asesmen,2024-01-03,Pérez\n".encode("cp1252")
        + "C,asesmen,2024-01-04,Dwi – Ayu\n".encode()
    )
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    workers = dict(zip(log.events["case_id"], log.events["worker"], strict=True))
    assert workers == {"A": "Séñor Ñoño", "B": "Pérez", "C": "Dwi – Ayu"}
    found = issue(log, 3)
    assert found["status"] == "repaired" and found["reason"] == "decoded_cp1252"
    assert log.report.n_repaired == 1


def test_bytes_that_are_neither_utf8_nor_cp1252_reject_the_row(tmp_path: Path) -> None:
    body = HEADER + b"A,asesmen,2024-01-02\nB\x81\x8d,asesmen,2024-01-02\n"
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    assert list(log.events["case_id"]) == ["A"]
    assert issue(log, 3)["reason"] == "undecodable_text"


# ------------------------------------------------------------------------------ 4. dates
@pytest.mark.parametrize("when", ["1900-01-01", "2200-01-01", "1989-12-31"])
def test_implausible_dates_are_rejected(tmp_path: Path, when: str) -> None:
    body = HEADER + f"A,proses_awal,2024-01-02\nB,asesmen,{when}\n".encode()
    log = load_bytes(tmp_path, body)
    assert_accounted(log)
    assert list(log.events["case_id"]) == ["A"]
    found = issue(log, 3)
    assert found["status"] == "rejected" and found["reason"] == "implausible_date"
    assert when[:4] in str(found["detail"]) and "timestamp" in str(found["detail"])


def test_plausible_window_edges_load() -> None:
    now = pd.Timestamp.now(tz="UTC")
    df = pd.DataFrame(
        {
            "case_id": ["A", "B"],
            "stage": ["asesmen", "asesmen"],
            "timestamp": [pd.Timestamp("1990-01-01 00:00", tz="Asia/Jakarta"), now],
        }
    )
    assert load_events(df).report.n_rejected == 0


# ------------------------------------------------------------------------------ 5. header
def test_duplicate_column_names_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_bytes(b"case_id,stage,timestamp,note,note\nA,asesmen,2024-01-02,x,y\n")
    with pytest.raises(pk.EventLogError, match="'note'") as info:
        load_events(path)
    assert "note.1" not in str(info.value)
    with pytest.raises(pk.EventLogError, match="'stage'"):
        load_bytes(tmp_path, b"case_id,stage,stage,timestamp\nA,asesmen,intervensi,2024-01-02\n")


def test_duplicate_column_names_in_excel_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.xlsx"
    df = pd.DataFrame([["A", "asesmen", "2024-01-02", "x"]])
    df.columns = ["case_id", "stage", "timestamp", "case_id"]
    df.to_excel(path, index=False)
    with pytest.raises(pk.EventLogError, match="'case_id'"):
        load_events(path)


# ------------------------------------------------------------------------------ 6. XES
def test_xes_event_outside_a_trace_is_an_event_log_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xes"
    path.write_text(
        '<log xes.version="1.0">\n'
        '  <event><string key="concept:name" value="asesmen"/></event>\n'
        "  <trace>\n"
        '    <string key="concept:name" value="A"/>\n'
        '    <event><string key="concept:name" value="asesmen"/>'
        '<date key="time:timestamp" value="2024-01-02T00:00:00+07:00"/></event>\n'
        "  </trace>\n"
        "</log>\n",
        encoding="utf-8",
    )
    with pytest.raises(pk.EventLogError, match="trace") as info:
        load_events(path)
    assert "line 2" in str(info.value)


# ------------------------------------------------------------------------------ 8. time zone
@pytest.mark.parametrize("name", ["WITA", "Asia/Makassar"])
def test_load_events_keeps_its_time_zone(name: str) -> None:
    df = pd.DataFrame({"case_id": ["A"], "stage": ["asesmen"], "timestamp": ["2024-01-02 08:00"]})
    log = load_events(df, tz=name)
    assert log.tz == "Asia/Makassar" == INDONESIAN_TZ["WITA"]
    assert log.events.loc[0, "timestamp"] == pd.Timestamp("2024-01-02 00:00", tz="UTC")
    assert log.report.tz == "Asia/Makassar"
    assert "Asia/Makassar" in log.report._repr_html_()
    assert load_events(df).tz == pk.core.config.DEFAULT_TZ


def test_unknown_time_zone_is_an_event_log_error() -> None:
    df = pd.DataFrame({"case_id": ["A"], "stage": ["asesmen"], "timestamp": ["2024-01-02"]})
    with pytest.raises(pk.EventLogError, match="WITA"):
        load_events(df, tz="Mars/Olympus")


PLAIN_FILES = {
    "comma.csv": (
        "case_id,stage,timestamp,office\n"
        "K-1,Proses Awal,2024-01-02 09:00,Kota\n"
        "K-1,asesmen,03/01/2024,\n"
        " K-2 ,intervensi,45300,Kab\n"
        "K-2,kunjungan,2024-01-05,Kab\n"
        "K-3,,2024-01-05,\n"
        ",,,\n"
        "K-1,asesmen,03/01/2024,Kota\n"
        "K-1,terminasi,2024-01-09T10:00:00+07:00,NA\n"
    ),
    "semicolon.csv": "case_id;stage;timestamp\r\nA;asesmen;2024-02-01\r\nA;ditutup;2024-02-03\r\n",
    "tabs.tsv": "case_id\tstage\ttimestamp\nA\tasesmen\t2024-02-01\nB\tx\t2099-01-01\n",
}
NOT_PLAIN_FILES = {
    "quoted.csv": 'case_id,stage,timestamp\n"A","asesmen","2024-02-01"\nA,ditutup,2024-02-03\n',
    "short_row.csv": "case_id,stage,timestamp\nA,asesmen,2024-02-01\nA,ditutup\n",
    "blank_line.csv": "case_id,stage,timestamp\nA,asesmen,2024-02-01\n\nA,ditutup,2024-02-03\n",
}


@pytest.mark.parametrize("name", sorted(PLAIN_FILES) + sorted(NOT_PLAIN_FILES))
def test_the_fast_reader_gives_what_the_row_by_row_reader_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes({**PLAIN_FILES, **NOT_PLAIN_FILES}[name].encode("utf-8"))
    taken: list[bool] = []
    fast_reader = readers._read_plain

    def spy(*args: object) -> pd.DataFrame | None:
        out = fast_reader(*args)  # type: ignore[arg-type]
        taken.append(out is not None)
        return out

    monkeypatch.setattr(readers, "_read_plain", spy)
    fast = load_events(path)
    assert taken == [name in PLAIN_FILES]
    monkeypatch.setattr(readers, "_read_plain", lambda *args: None)
    slow = load_events(path)
    pd.testing.assert_frame_equal(fast.events, slow.events)
    pd.testing.assert_frame_equal(fast.report.issues, slow.report.issues)
    assert fast.report.notes == slow.report.notes
    assert fast.report.n_read == slow.report.n_read
    assert fast.report.n_kept + fast.report.n_rejected == fast.report.n_read
