"""Loading agency exports into the canonical event log, and the data-quality report."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.events.eventlog import REASONS, EventLog, load_events, read_xes

MODEL = pk.StageModel.default()
JAKARTA = "Asia/Jakarta"


def utc(text: str, tz: str = JAKARTA) -> pd.Timestamp:
    """The UTC instant of a local (naive) time text, or of a text with an offset."""
    stamp = pd.Timestamp(text)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    return stamp.tz_convert("UTC")


def frame(rows: list[tuple[Any, ...]], columns: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns or ("case_id", "stage", "timestamp")))


def write_csv(path: Path, rows: list[tuple[Any, ...]], header: str, sep: str = ",") -> Path:
    lines = [header] + [sep.join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_log(tmp_path: Path, rows: list[tuple[Any, ...]], **kwargs: Any) -> EventLog:
    """Load rows written as a CSV file with the header case_id,stage,timestamp."""
    path = write_csv(tmp_path / "export.csv", rows, "case_id,stage,timestamp")
    return load_events(path, **kwargs)


def issue(log: EventLog, row: Any) -> dict[str, Any]:
    """The single report line of one input row."""
    found = log.report.issues[log.report.issues["row"] == row]
    assert len(found) == 1, log.report.issues
    return dict(found.iloc[0])


def assert_accounted(log: EventLog) -> None:
    report = log.report
    assert report.n_kept == len(log.events)
    assert report.n_kept + report.n_rejected == report.n_read
    assert report.issues["row"].is_unique


def stage_list(log: EventLog, case: str | None = None) -> list[str]:
    ev = log.events if case is None else log.events[log.events["case_id"] == case]
    return [str(s) for s in ev["stage"]]


# ------------------------------------------------------------------------------ sources
# one small export, written out in every supported format; times carry offsets so all agree
EXPORT = [
    ("K-2", "asesmen", "2024-01-03T09:00:00+07:00", "PS-02"),
    ("K-1", "proses_awal", "2024-01-02T08:30:00+07:00", "PS-01"),
    ("K-2", "proses_awal", "2024-01-02T23:30:00+00:00", "PS-02"),
    ("K-1", "terminasi", "2024-03-01T10:00:00+07:00", "PS-01"),
    ("K-1", "asesmen", "2024-01-05T15:15:00+07:00", "PS-01"),
    ("K-1", "ditutup", "2024-03-02T10:00:00+07:00", "PS-01"),
    ("K-2", "intervensi", "2024-02-10T09:00:00+07:00", "PS-03"),
]


def expected_export() -> list[tuple[str, str, pd.Timestamp, str]]:
    """The EXPORT sorted independently: case, UTC time, stage order."""
    rows = [(c, s, datetime.fromisoformat(t).astimezone(UTC), w) for c, s, t, w in EXPORT]
    rows.sort(key=lambda r: (r[0], r[2], MODEL.ids.index(r[1])))
    return [(c, s, pd.Timestamp(t), w) for c, s, t, w in rows]


def xes_text(rows: list[tuple[str, str, str, str]]) -> str:
    """A hand-written XES 1.0 log: one trace per case, events in the given order."""
    cases: dict[str, list[tuple[str, str, str]]] = {}
    for case, stage, ts, worker in rows:
        cases.setdefault(case, []).append((stage, ts, worker))
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
        '  <global scope="event"><string key="concept:name" value="UNKNOWN"/></global>',
        '  <string key="concept:name" value="contoh"/>',
    ]
    for case, events in cases.items():
        parts.append("  <trace>")
        parts.append(f'    <string key="concept:name" value={quoteattr(case)}/>')
        parts.append('    <string key="kantor" value="Kota Bandung"/>')
        for stage, ts, worker in events:
            parts += [
                "    <event>",
                f"      <string key='concept:name' value={quoteattr(stage)}/>",
                f'      <date key="time:timestamp" value="{ts}"/>',
                f"      <string key='org:resource' value={quoteattr(worker)}/>",
                '      <string key="lifecycle:transition" value="complete"/>',
                "    </event>",
            ]
        parts.append("  </trace>")
    parts.append("</log>")
    return "\n".join(parts) + "\n"


def _write(fmt: str, folder: Path) -> Path | pd.DataFrame:
    df = frame(EXPORT, ("case_id", "stage", "timestamp", "worker"))
    if fmt == "dataframe":
        return df
    if fmt == "csv":
        return write_csv(folder / "e.csv", EXPORT, "case_id,stage,timestamp,worker")
    if fmt == "csv_semicolon":
        return write_csv(folder / "e.csv", EXPORT, "case_id;stage;timestamp;worker", sep=";")
    if fmt == "tsv":
        return write_csv(folder / "e.tsv", EXPORT, "case_id\tstage\ttimestamp\tworker", sep="\t")
    if fmt == "xlsx":
        df.to_excel(folder / "e.xlsx", index=False, engine="openpyxl")
        return folder / "e.xlsx"
    if fmt == "parquet":
        df.to_parquet(folder / "e.parquet")
        return folder / "e.parquet"
    text = xes_text(EXPORT)
    if fmt == "xes":
        (folder / "e.xes").write_text(text, encoding="utf-8")
        return folder / "e.xes"
    assert fmt == "xes.gz"
    (folder / "e.xes.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    return folder / "e.xes.gz"


@pytest.mark.parametrize(
    "fmt", ["dataframe", "csv", "csv_semicolon", "tsv", "xlsx", "parquet", "xes", "xes.gz"]
)
def test_every_source_gives_the_same_canonical_log(tmp_path: Path, fmt: str) -> None:
    log = load_events(_write(fmt, tmp_path))
    ev = log.events
    assert list(ev.columns[:3]) == ["case_id", "stage", "timestamp"]
    assert ev["case_id"].dtype == pd.StringDtype()
    assert ev["stage"].dtype == MODEL.dtype
    assert str(ev["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert list(ev.index) == list(range(len(EXPORT)))
    worker = "org:resource" if fmt.startswith("xes") else "worker"
    got = list(zip(ev["case_id"], ev["stage"].astype(str), ev["timestamp"], ev[worker].astype(str)))
    assert got == expected_export()
    assert log.report.n_read == len(EXPORT) and log.report.n_rejected == 0
    assert log.report.n_repaired == 0
    if fmt.startswith("xes"):
        assert set(ev["case:kantor"]) == {"Kota Bandung"}
        assert set(ev["lifecycle:transition"]) == {"complete"}
    if fmt == "csv_semicolon":
        assert any("';'" in note for note in log.report.notes)


def test_semicolon_file_with_commas_in_values(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "case_id;stage;timestamp;office;cost\n"
        "A;proses_awal;02/01/2024 09:00;Kab. Garut, Jawa Barat;1.500,50\n"
        "A;asesmen;03/01/2024;Kab. Garut, Jawa Barat;2.000,00\n",
        encoding="utf-8",
    )
    log = load_events(path)
    assert list(log.events["office"]) == ["Kab. Garut, Jawa Barat"] * 2
    assert list(log.events["cost"]) == ["1.500,50", "2.000,00"]
    assert list(log.events["timestamp"]) == [utc("2024-01-02 09:00"), utc("2024-01-03")]


def test_read_xes_flattens_traces_and_skips_globals(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    path.write_text(xes_text(EXPORT), encoding="utf-8")
    flat = read_xes(path)
    assert len(flat) == len(EXPORT)
    assert list(flat["case:concept:name"]) == [r[0] for r in EXPORT if r[0] == "K-2"] + [
        r[0] for r in EXPORT if r[0] == "K-1"
    ]
    assert "UNKNOWN" not in set(flat["concept:name"])
    assert "case:concept:name" in flat and "concept:name" in flat


def test_unreadable_xes_is_an_event_log_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xes"
    path.write_text("<log><trace><event>", encoding="utf-8")
    with pytest.raises(pk.EventLogError, match="not a readable XES"):
        load_events(path)
    empty = tmp_path / "empty.xes"
    empty.write_text('<log xes.version="1.0"></log>', encoding="utf-8")
    with pytest.raises(pk.EventLogError, match="no events"):
        load_events(empty)


def test_xes_rows_are_event_positions(tmp_path: Path) -> None:
    rows = [*EXPORT[:2], ("K-1", "T99 Unknown activity", "2024-01-04T10:00:00+07:00", "PS-01")]
    path = tmp_path / "e.xes"
    path.write_text(xes_text(rows), encoding="utf-8")
    log = load_events(path)
    # traces in file order: K-2 (1 event), then K-1 (2 events): the unknown one is event 3
    assert issue(log, 3)["reason"] == "unknown_stage"
    assert "T99 Unknown activity" in issue(log, 3)["detail"]


def test_other_columns_are_kept_and_clashing_names_renamed() -> None:
    df = frame(
        [("A", "asesmen", "2024-01-02", "Kota Bandung", "x")],
        ("kasus", "tahap", "tanggal", "office", "stage"),
    )
    log = load_events(df, case="kasus", stage="tahap", timestamp="tanggal")
    assert list(log.events.columns) == ["case_id", "stage", "timestamp", "office", "stage_original"]
    assert log.events.loc[0, "office"] == "Kota Bandung"
    assert log.events.loc[0, "stage_original"] == "x"
    assert log.extra_columns == ["office", "stage_original"]


def test_column_names_match_ignoring_case_and_spacing() -> None:
    df = frame([("A", "asesmen", "2024-01-02")], ("Case ID", "STAGE", " Timestamp "))
    log = load_events(df)
    assert log.events.loc[0, "case_id"] == "A"


def test_an_agency_model_gives_its_own_stages() -> None:
    model = pk.StageModel.from_dict(
        {
            "stages": [
                {"id": "registrasi", "aliases": ["pendaftaran"]},
                {"id": "layanan"},
                {"id": "selesai", "kind": "closed"},
            ]
        }
    )
    df = frame(
        [
            ("A", "layanan", "2024-01-03"),
            ("A", "Pendaftaran", "2024-01-03"),
            ("A", "asesmen", "2024-01-04"),
            ("A", "selesai", "2024-01-05"),
            ("A", "layanan", "2024-01-06"),  # no reopened state: a closure is final
        ]
    )
    log = load_events(df, model=model)
    assert log.model is model
    assert log.events["stage"].dtype == model.dtype
    assert stage_list(log) == ["registrasi", "layanan", "selesai"]
    assert issue(log, 2)["reason"] == "unknown_stage"
    assert issue(log, 4)["reason"] == "event_after_closure"
    assert "registrasi, layanan, selesai" in issue(log, 2)["detail"]


# ------------------------------------------------------------------------------ sorting
def test_sorted_by_case_then_time() -> None:
    df = frame(
        [
            ("B", "asesmen", "2024-02-01 10:00"),
            ("A", "intervensi", "2024-03-01 10:00"),
            ("B", "proses_awal", "2024-01-01 10:00"),
            ("A", "proses_awal", "2024-01-01 09:00"),
            ("A", "asesmen", "2024-01-01 11:00"),
        ]
    )
    log = load_events(df)
    assert list(log.events["case_id"]) == ["A", "A", "A", "B", "B"]
    assert stage_list(log) == ["proses_awal", "asesmen", "intervensi", "proses_awal", "asesmen"]
    assert log.events["timestamp"].groupby(log.events["case_id"]).is_monotonic_increasing.all()


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["proses_awal", "asesmen", "analisa_masalah", "ditutup"]))
)
def test_same_day_events_come_out_in_stage_order(order: tuple[str, ...]) -> None:
    """Exports with dates only: same-day rows in any file order never look like backward moves."""
    rows = [("A", s, "2024-01-05") for s in order]
    log = load_events(frame(rows))
    assert stage_list(log) == ["proses_awal", "asesmen", "analisa_masalah", "ditutup"]
    assert log.report.n_rejected == 0


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["ditutup", "dibuka_kembali", "intervensi"]))
)
def test_closure_reopening_and_stage_on_one_day_are_kept_in_order(order: tuple[str, ...]) -> None:
    rows = [("A", "proses_awal", "2024-01-01"), ("A", "asesmen", "2024-01-10")]
    rows += [("A", s, "2024-02-01") for s in order]
    rows += [("A", "terminasi", "2024-03-01"), ("A", "ditutup", "2024-03-02")]
    log = load_events(frame(rows))
    assert log.report.n_rejected == 0
    assert stage_list(log) == [
        "proses_awal",
        "asesmen",
        "ditutup",
        "dibuka_kembali",
        "intervensi",
        "terminasi",
        "ditutup",
    ]


def test_reopening_ranks_before_the_stage_entered_that_day() -> None:
    rows = [
        ("A", "proses_awal", "2024-01-01"),
        ("A", "ditutup", "2024-01-02"),
        ("A", "asesmen", "2024-02-01"),
        ("A", "dibuka_kembali", "2024-02-01"),
    ]
    log = load_events(frame(rows))
    assert stage_list(log) == ["proses_awal", "ditutup", "dibuka_kembali", "asesmen"]
    assert log.report.n_rejected == 0


def test_last_stage_and_closure_on_one_day() -> None:
    rows = [("A", "ditutup", "2024-01-09"), ("A", "terminasi", "2024-01-09")]
    log = load_events(frame(rows))
    assert stage_list(log) == ["terminasi", "ditutup"]


def test_loading_a_canonical_log_again_changes_nothing() -> None:
    from pekso_toolkit.datasets import synthesize

    log = synthesize(150, seed=5, as_of="2025-01-01")
    again = load_events(log.events)
    pd.testing.assert_frame_equal(again.events, log.events)
    assert again.report.issues.empty


def test_from_frame_sorts_without_validating() -> None:
    canonical = load_events(frame([("B", "asesmen", "2024-01-02"), ("A", "asesmen", "2024-01-03")]))
    shuffled = canonical.events.iloc[::-1]
    wrapped = EventLog.from_frame(shuffled)
    assert list(wrapped.events["case_id"]) == ["A", "B"]
    assert wrapped.report.n_read == wrapped.report.n_kept == 2
    assert wrapped.n_cases == 2 and wrapped.n_events == 2 == len(wrapped)


# ------------------------------------------------------------------------------ bad input
def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "kosong.csv"
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(pk.EventLogError, match="empty"):
        load_events(path)
    excel = tmp_path / "kosong.xlsx"
    excel.write_bytes(b"")
    with pytest.raises(pk.EventLogError, match="empty"):
        load_events(excel)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("case_id,stage,timestamp\n\n", encoding="utf-8")
    with pytest.raises(pk.EventLogError, match="no rows"):
        load_events(path)
    with pytest.raises(pk.EventLogError, match="no rows"):
        load_events(frame([]))


def test_wrong_column_names_list_the_columns_there_are(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [("A", "asesmen", "2024-01-01")], "kasus,tahap,tanggal")
    with pytest.raises(pk.EventLogError) as info:
        load_events(path)
    message = str(info.value)
    assert "'case_id'" in message
    for column in ("'kasus'", "'tahap'", "'tanggal'"):
        assert column in message
    assert "case=" in message
    with pytest.raises(pk.EventLogError, match=r"Did you mean 'tanggal_masuk'"):
        load_events(
            frame([("A", "asesmen", "2024-01-01")], ("case_id", "stage", "tanggal_masuk")),
            timestamp="tanggal",
        )


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(pk.EventLogError, match="not found"):
        load_events(tmp_path / "tidak_ada.csv")
    other = tmp_path / "e.json"
    other.write_text("[]", encoding="utf-8")
    with pytest.raises(pk.EventLogError, match="unknown file type"):
        load_events(other)
    with pytest.raises(pk.EventLogError, match="folder"):
        load_events(tmp_path)


def test_mixed_date_formats_are_repaired(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "asesmen", "2024-01-05 10:00"),
            ("A", "analisa_masalah", "07/01/2024"),
            ("A", "intervensi", "2024-01-09"),
        ],
    )
    assert log.report.n_rejected == 0
    line = issue(log, 4)
    assert (line["status"], line["reason"]) == ("repaired", "mixed_date_format")
    assert "07/01/2024" in line["detail"]
    assert log.events.loc[2, "timestamp"] == utc("2024-01-07")


def test_mixed_formats_with_equal_counts_still_flag_the_day_first_one() -> None:
    log = load_events(frame([("A", "proses_awal", "2024-01-02"), ("A", "asesmen", "05/01/2024")]))
    assert issue(log, 1)["reason"] == "mixed_date_format"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/04/2024", "2024-04-03"),
        ("03/04/2024 14:30", "2024-04-03 14:30"),
        ("03-04-2024", "2024-04-03"),
        ("03.04.2024", "2024-04-03"),
        ("3 April 2024", "2024-04-03"),
        ("17 Agustus 2024", "2024-08-17"),
        ("5 Okt 2024 09:15", "2024-10-05 09:15"),
        ("31/12/24", "2024-12-31"),
    ],
)
def test_day_first_dates(text: str, expected: str) -> None:
    log = load_events(frame([("A", "asesmen", text)]))
    assert log.report.n_rejected == 0, log.report.issues
    assert log.events.loc[0, "timestamp"] == utc(expected)


def test_month_first_only_dates_are_rejected_as_ambiguous(tmp_path: Path) -> None:
    log = csv_log(tmp_path, [("A", "proses_awal", "03/04/2024"), ("A", "asesmen", "12/31/2024")])
    line = issue(log, 3)
    assert (line["status"], line["reason"]) == ("rejected", "ambiguous_date_order")
    assert line["timestamp"] == "12/31/2024"
    assert stage_list(log) == ["proses_awal"]
    assert log.events.loc[0, "timestamp"] == utc("2024-04-03")


def test_month_first_files_load_with_dayfirst_false() -> None:
    df = frame([("A", "proses_awal", "03/04/2024"), ("A", "asesmen", "12/31/2024")])
    log = load_events(df, dayfirst=False)
    assert log.report.n_rejected == 0
    assert list(log.events["timestamp"]) == [utc("2024-03-04"), utc("2024-12-31")]


def test_time_zone_mixtures(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-01T10:00:00+07:00"),
            ("A", "asesmen", "2024-01-02T03:00:00Z"),
            ("A", "analisa_masalah", "2024-01-03 10:00"),
            ("A", "intervensi", "2024-01-04T12:00:00+0100"),
        ],
    )
    assert log.report.n_rejected == 0
    assert list(log.events["timestamp"]) == [
        pd.Timestamp("2024-01-01 03:00", tz="UTC"),
        pd.Timestamp("2024-01-02 03:00", tz="UTC"),
        pd.Timestamp("2024-01-03 03:00", tz="UTC"),  # naive: read in Asia/Jakarta
        pd.Timestamp("2024-01-04 11:00", tz="UTC"),
    ]
    line = issue(log, 4)
    assert (line["status"], line["reason"]) == ("repaired", "naive_time_in_mixed_column")
    assert len(log.report.issues) == 1
    assert any(JAKARTA in note for note in log.report.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05T10:00:00+07:00", "2024-01-05 03:00"),
        ("2024-01-05 10:00 +0700", "2024-01-05 03:00"),
        ("2024-01-05T10:00+07", "2024-01-05 03:00"),
        ("2024-01-05T10:00:00-05:00", "2024-01-05 15:00"),
        ("2024-01-05T10:00:00.250Z", "2024-01-05 10:00:00.250"),
    ],
)
def test_offset_forms_beside_naive_times(text: str, expected: str) -> None:
    log = load_events(frame([("A", "proses_awal", text), ("A", "ditutup", "2024-01-06 10:00")]))
    assert log.report.n_rejected == 0
    assert log.events.loc[0, "timestamp"] == pd.Timestamp(expected, tz="UTC")
    assert log.events.loc[1, "timestamp"] == utc("2024-01-06 10:00")


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        (None, "2024-01-05 03:00"),
        ("UTC", "2024-01-05 10:00"),
        ("Europe/Amsterdam", "2024-01-05 09:00"),
    ],
)
def test_naive_times_are_read_in_the_stated_time_zone(tz: str | None, expected: str) -> None:
    df = frame([("A", "asesmen", "2024-01-05 10:00")])
    log = load_events(df) if tz is None else load_events(df, tz=tz)
    assert log.events.loc[0, "timestamp"] == pd.Timestamp(expected, tz="UTC")
    assert any((tz or JAKARTA) in note for note in log.report.notes)


def test_datetime_columns_are_used_as_they_are() -> None:
    naive = frame([("A", "asesmen", pd.Timestamp("2024-01-05 10:00"))])
    naive["timestamp"] = pd.to_datetime(naive["timestamp"])
    assert load_events(naive).events.loc[0, "timestamp"] == utc("2024-01-05 10:00")
    aware = naive.assign(timestamp=naive["timestamp"].dt.tz_localize("Europe/Amsterdam"))
    log = load_events(aware)
    assert log.events.loc[0, "timestamp"] == pd.Timestamp("2024-01-05 09:00", tz="UTC")
    assert not any("zona waktu" in note for note in log.report.notes)


def test_windows_1252_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    text = (
        "case_id,stage,timestamp,worker,note\n"
        "A,proses_awal,2024-01-02,Pérez,Rp 50.000 – transport\n"
        "A,asesmen,2024-01-04,Pérez,ongkos Rp 10.000\n"
    )
    path.write_bytes(text.encode("cp1252"))
    log = load_events(path)
    assert log.report.n_rejected == 0
    assert list(log.events["worker"]) == ["Pérez", "Pérez"]
    assert log.events.loc[0, "note"] == "Rp 50.000 – transport"
    assert any("Windows-1252" in note for note in log.report.notes)
    # an explicit encoding is used as given
    assert load_events(path, encoding="cp1252").events.loc[0, "worker"] == "Pérez"
    with pytest.raises(pk.EventLogError, match="utf-8"):
        load_events(path, encoding="utf-8")


def test_utf8_file_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("case_id,stage,timestamp\nA,asesmen,2024-01-02\n".encode("utf-8-sig"))
    log = load_events(path)
    assert log.events.loc[0, "case_id"] == "A"
    assert not any("Windows-1252" in note for note in log.report.notes)


def test_excel_serial_dates_as_numbers_in_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    df = pd.DataFrame(
        {
            "case_id": ["A", "A", "A"],
            "stage": ["proses_awal", "asesmen", "intervensi"],
            "timestamp": [45292, 45293.75, "2024-01-20 08:00"],
        }
    )
    df.to_excel(path, index=False, engine="openpyxl")
    log = load_events(path)
    assert log.report.n_rejected == 0
    assert issue(log, 2)["reason"] == issue(log, 3)["reason"] == "excel_serial_date"
    assert list(log.events["timestamp"]) == [
        utc("2024-01-01"),
        utc("2024-01-02 18:00"),
        utc("2024-01-20 08:00"),
    ]
    assert any(JAKARTA in note for note in log.report.notes)


def test_excel_serial_dates_as_text_in_csv(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [("A", "proses_awal", "45292"), ("A", "asesmen", "45300.5"), ("A", "terminasi", "123")],
    )
    assert issue(log, 2)["reason"] == "excel_serial_date"
    assert issue(log, 3)["reason"] == "excel_serial_date"
    assert issue(log, 4)["reason"] == "unparseable_timestamp"  # far outside plausible dates
    assert list(log.events["timestamp"]) == [utc("2024-01-01"), utc("2024-01-09 12:00")]


def test_excel_sheet_with_datetime_cells_and_blank_row(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["case_id", "stage", "timestamp"])
    sheet.append(["A", "proses_awal", datetime(2024, 1, 2, 9, 0)])
    sheet.append([])
    sheet.append(["A", "tahap aneh", datetime(2024, 1, 3, 9, 0)])
    book.save(tmp_path / "e.xlsx")
    log = load_events(tmp_path / "e.xlsx")
    assert log.events.loc[0, "timestamp"] == utc("2024-01-02 09:00")
    assert log.report.n_read == 2
    assert issue(log, 4)["reason"] == "unknown_stage"  # spreadsheet row 4, after the blank row


def test_csv_rows_are_spreadsheet_rows_even_after_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "case_id,stage,timestamp\nA,proses_awal,2024-01-01\n\nA,tahap aneh,2024-01-02\n,,\n",
        encoding="utf-8",
    )
    log = load_events(path)
    assert log.report.n_read == 2
    assert issue(log, 4)["reason"] == "unknown_stage"
    assert any("2 empty rows" in note for note in log.report.notes)


def test_duplicate_rows(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02 09:00"),
            ("A", "asesmen", "2024-01-03"),
            ("A", "proses_awal", "2024-01-02 09:00"),
            ("A", "Proses Awal", "2024-01-02 09:00"),
        ],
    )
    assert stage_list(log) == ["proses_awal", "asesmen"]
    for row in (4, 5):
        line = issue(log, row)
        assert (line["status"], line["reason"]) == ("rejected", "duplicate_event")
        assert line["detail"] == "same as row 2"
    assert_accounted(log)


def test_unknown_stage_lists_the_known_stages(tmp_path: Path) -> None:
    log = csv_log(tmp_path, [("A", "proses_awal", "2024-01-02"), ("A", "kunjungan", "2024-01-03")])
    line = issue(log, 3)
    assert (line["status"], line["reason"]) == ("rejected", "unknown_stage")
    assert "'kunjungan'" in line["detail"]
    for stage_id in MODEL.ids:
        assert stage_id in line["detail"]


def test_stage_names_with_stray_spaces_and_capitals_are_folded(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [("A", " Proses_Awal", "2024-01-02"), ("A", "ASESMEN  ", "2024-01-03")],
    )
    assert stage_list(log) == ["proses_awal", "asesmen"]
    for row in (2, 3):
        line = issue(log, row)
        assert (line["status"], line["reason"]) == ("repaired", "stage_name_folded")
    assert "read as 'asesmen'" in issue(log, 3)["detail"]


def test_aliases_and_labels_are_matched(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "Baru", "2024-01-02"),
            ("A", "Penilaian", "2024-01-03"),
            ("A", "Problem analysis", "2024-01-04"),
            ("A", "case_plan", "2024-01-05"),
            ("A", "Layanan telah Dilaksanakan", "2024-01-06"),
            ("A", "Closed", "2024-01-07"),
        ],
    )
    assert stage_list(log) == list(MODEL.ids[:6])
    assert [issue(log, r)["reason"] for r in range(2, 8)] == [
        "stage_alias",
        "stage_alias",
        "stage_label",
        "stage_alias",
        "stage_alias",
        "stage_label",
    ]


def test_stage_map_maps_names_as_written_and_folded() -> None:
    df = frame(
        [
            ("A", "Registrasi Online", "2024-01-02"),
            ("A", "  registrasi   ONLINE", "2024-01-03"),
            ("A", "Telaah", "2024-01-04"),
            ("A", "asesmen", "2024-01-05"),
        ]
    )
    log = load_events(df, stage_map={"Registrasi Online": "proses_awal", "telaah": "asesmen"})
    assert stage_list(log) == ["proses_awal", "proses_awal", "asesmen", "asesmen"]
    assert issue(log, 1)["reason"] == "stage_name_folded"
    assert issue(log, 2)["reason"] == "stage_name_folded"
    assert list(log.report.issues["row"]) == [1, 2]  # the exact key and the id need no repair


def test_stage_map_to_an_unknown_stage_is_refused() -> None:
    with pytest.raises(pk.EventLogError, match=r"'asessmen'.*proses_awal"):
        load_events(frame([("A", "x", "2024-01-02")]), stage_map={"x": "asessmen"})


def test_missing_values_are_rejected(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02"),
            ("", "asesmen", "2024-01-03"),
            ("  ", "asesmen", "2024-01-03"),
            ("A", "", "2024-01-03"),
            ("A", "asesmen", ""),
            ("A", "   ", "   "),
        ],
    )
    expected = {
        3: "missing_case_id",
        4: "missing_case_id",
        5: "missing_stage",
        6: "missing_timestamp",
        7: "missing_stage",  # the first problem is the reason given
    }
    assert {r: issue(log, r)["reason"] for r in expected} == expected
    assert stage_list(log) == ["proses_awal"]
    assert_accounted(log)


def test_missing_values_in_a_dataframe() -> None:
    df = frame([("A", None, "2024-01-02"), (None, "asesmen", "2024-01-02"), ("A", "asesmen", None)])
    df.index = [10, 20, 30]
    log = load_events(df)
    assert [issue(log, r)["reason"] for r in (10, 20, 30)] == [
        "missing_stage",
        "missing_case_id",
        "missing_timestamp",
    ]
    assert log.events.empty and log.report.n_kept == 0


def test_unparseable_dates(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "asesmen", "kemarin"),
            ("A", "intervensi", "2024-13-45"),
            ("A", "terminasi", "31/02/2024"),
        ],
    )
    for row in (3, 4, 5):
        line = issue(log, row)
        assert (line["status"], line["reason"]) == ("rejected", "unparseable_timestamp"), row
    assert issue(log, 3)["detail"] == "'kemarin'"


def test_dashed_day_first_dates_are_not_taken_for_time_zones() -> None:
    log = load_events(frame([("A", "asesmen", "05-01-2024"), ("A", "terminasi", "06-01-2024")]))
    assert log.report.n_rejected == 0
    assert list(log.events["timestamp"]) == [utc("2024-01-05"), utc("2024-01-06")]


def test_case_ids_are_trimmed_and_numbers_kept_as_text() -> None:
    df = frame([(" K-1 ", "asesmen", "2024-01-02"), ("K-1", "terminasi", "2024-01-03")])
    log = load_events(df)
    assert list(log.events["case_id"]) == ["K-1", "K-1"]
    assert issue(log, 0)["reason"] == "case_id_trimmed"
    numbers = frame([(101.0, "asesmen", "2024-01-02"), (9.0, "asesmen", "2024-01-02")])
    log = load_events(numbers)
    assert list(log.events["case_id"]) == ["101", "9"]  # text order, as case ids are text


def test_event_after_closure_is_rejected(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "ditutup", "2024-01-10"),
            ("A", "asesmen", "2024-01-12"),
            ("A", "intervensi", "2024-01-15"),
            ("B", "asesmen", "2024-01-12"),
        ],
    )
    for row in (4, 5):
        line = issue(log, row)
        assert (line["status"], line["reason"]) == ("rejected", "event_after_closure")
        assert "closed" in line["detail"]
    assert stage_list(log, "A") == ["proses_awal", "ditutup"]
    assert stage_list(log, "B") == ["asesmen"]


def test_reopening_without_closure_is_rejected(tmp_path: Path) -> None:
    log = csv_log(
        tmp_path,
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "dibuka_kembali", "2024-01-05"),
            ("A", "asesmen", "2024-01-06"),
            ("A", "ditutup", "2024-02-01"),
            ("A", "dibuka_kembali", "2024-03-01"),
            ("A", "dibuka_kembali", "2024-03-02"),
            ("A", "intervensi", "2024-03-03"),
        ],
    )
    assert issue(log, 3)["reason"] == "reopen_without_closure"
    assert issue(log, 7)["reason"] == "reopen_without_closure"
    assert "not closed" in issue(log, 3)["detail"]
    assert stage_list(log) == ["proses_awal", "asesmen", "ditutup", "dibuka_kembali", "intervensi"]
    assert_accounted(log)


def test_rejected_events_do_not_change_the_closure_state() -> None:
    df = frame(
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "ditutup", "2024-01-03"),
            ("A", "ditutup", "2024-01-04"),  # after closure: rejected
            ("A", "dibuka_kembali", "2024-01-05"),  # reopens the first closure
            ("A", "asesmen", "2024-01-06"),
        ]
    )
    log = load_events(df)
    assert issue(log, 2)["reason"] == "event_after_closure"
    assert stage_list(log) == ["proses_awal", "ditutup", "dibuka_kembali", "asesmen"]


def test_dataframe_with_repeated_index_labels() -> None:
    df = frame(
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "asesmen", "12/31/2024"),
            ("B", "asesmen", "2024-01-02T10:00:00+07:00"),
        ]
    )
    df.index = [7, 8, 7]
    log = load_events(df)
    assert log.report.n_read == 3 and log.report.n_kept == 2
    assert log.report.rejected["row"].tolist() == [8]


# ------------------------------------------------------------------------------ the report
def bad_log() -> EventLog:
    df = frame(
        [
            ("A", "proses_awal", "2024-01-02"),
            ("A", "<script>alert(1)</script>", "2024-01-03"),
            ("A", "Asesmen ", "2024-01-04"),
            ("A", "asesmen", "kemarin"),
        ]
    )
    df.index = [2, 3, 4, 5]
    return load_events(df)


def test_report_accounts_for_every_row() -> None:
    log = bad_log()
    report = log.report
    assert (report.n_read, report.n_kept, report.n_repaired, report.n_rejected) == (4, 2, 1, 2)
    summary = report.summary()
    assert list(summary.columns) == [
        "status",
        "reason",
        "description",
        "n",
        "example_rows",
        "what_to_do",
    ]
    assert summary["n"].sum() == report.n_read
    assert list(summary["status"]) == ["rejected", "rejected", "repaired", "kept"]
    assert set(report.issues["reason"].str.split(", ").explode()) <= set(REASONS)
    assert repr(report) == "LoadReport(read=4, kept=1, repaired=1, rejected=2)"


def test_rejected_frame() -> None:
    rejected = bad_log().report.rejected
    assert list(rejected.columns) == ["row", "reason", "detail", "case", "stage", "timestamp"]
    assert rejected["row"].tolist() == [3, 5]
    assert rejected["reason"].tolist() == ["unknown_stage", "unparseable_timestamp"]
    assert bad_log().report.repaired["row"].tolist() == [4]


def test_raise_if_rejected_names_the_rows() -> None:
    with pytest.raises(pk.EventLogError) as info:
        bad_log().report.raise_if_rejected()
    message = str(info.value)
    assert "2 of 4 rows were rejected" in message
    assert "row 3:" in message and "row 5:" in message
    clean = load_events(frame([("A", "asesmen", "2024-01-02")]))
    clean.report.raise_if_rejected()  # nothing rejected: no error


def test_report_html_shows_counts_and_escapes_user_text() -> None:
    page = bad_log().report._repr_html_()
    assert "4 baris dibaca, 2 dipakai (1 diperbaiki), 2 ditolak" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    pk.set_language("en")
    page = bad_log().report._repr_html_()
    assert "4 rows read, 2 kept (1 repaired), 2 rejected" in page
    assert "Rejected rows (2 of 2)" in page


def test_event_log_html_and_stage_counts() -> None:
    log = bad_log()
    counts = log.stage_counts()
    assert list(counts["stage"].astype(str)) == list(MODEL.ids)
    assert counts.set_index(counts["stage"].astype(str))["n_events"].to_dict()["asesmen"] == 1
    page = log._repr_html_()
    assert "2 kejadian, 1 kasus" in page and "<script>" not in page
    assert repr(log) == "EventLog(2 events, 1 cases, model='default')"


def test_summary_in_english() -> None:
    summary = bad_log().report.summary(lang="en")
    assert "Stage is not in the stage model" in set(summary["description"])


# ------------------------------------------------------------------------------ a real log
#: The 27 activities of the WABO receipt log onto the five helping stages: confirmation of
#: receipt is intake; checking and sending the confirmation is assessment; deciding whether
#: advice is needed (and gathering it) is analysis; the document-X requests are the
#: intervention; report Y closes the work.
RECEIPT_STAGE_MAP = {
    "Confirmation of receipt": "proses_awal",
    "T02 Check confirmation of receipt": "asesmen",
    "T03 Adjust confirmation of receipt": "asesmen",
    "T04 Determine confirmation of receipt": "asesmen",
    "T05 Print and send confirmation of receipt": "asesmen",
    "T06 Determine necessity of stop advice": "analisa_masalah",
    "T07-1 Draft intern advice aspect 1": "analisa_masalah",
    "T07-2 Draft intern advice aspect 2": "analisa_masalah",
    "T07-3 Draft intern advice hold for aspect 3": "analisa_masalah",
    "T07-4 Draft internal advice to hold for type 4": "analisa_masalah",
    "T07-5 Draft intern advice aspect 5": "analisa_masalah",
    "T08 Draft and send request for advice": "analisa_masalah",
    "T09-1 Process or receive external advice from party 1": "analisa_masalah",
    "T09-2 Process or receive external advice from party 2": "analisa_masalah",
    "T09-3 Process or receive external advice from party 3": "analisa_masalah",
    "T09-4 Process or receive external advice from party 4": "analisa_masalah",
    "T10 Determine necessity to stop indication": "intervensi",
    "T11 Create document X request unlicensed": "intervensi",
    "T12 Check document X request unlicensed": "intervensi",
    "T13 Adjust document X request unlicensed": "intervensi",
    "T14 Determine document X request unlicensed": "intervensi",
    "T15 Print document X request unlicensed": "intervensi",
    "T16 Report reasons to hold request": "intervensi",
    "T17 Check report Y to stop indication": "terminasi",
    "T18 Adjust report Y to stop indicition": "terminasi",
    "T19 Determine report Y to stop indication": "terminasi",
    "T20 Print report Y to stop indication": "terminasi",
}


def test_real_permit_log(shared_data: Path) -> None:
    path = shared_data / "receipt.xes.gz"
    if not path.exists():
        pytest.skip(f"{path} not found (the real logs sit beside the project checkout)")
    raw = read_xes(path)
    assert set(raw["concept:name"]) == set(RECEIPT_STAGE_MAP)  # all 27, no more
    log = load_events(path, stage_map=RECEIPT_STAGE_MAP)
    report = log.report
    assert report.n_read == 8577
    assert report.n_kept + report.n_rejected == 8577
    assert log.n_events == report.n_kept
    assert log.n_cases == 1434
    assert report.n_rejected == 0, report.summary()
    ev = log.events
    assert "org:resource" in ev.columns and ev["org:resource"].notna().all()
    # activity counts survive the mapping: each stage has as many events as its activities
    per_stage = raw["concept:name"].map(RECEIPT_STAGE_MAP).value_counts()
    assert ev["stage"].astype(str).value_counts().to_dict() == per_stage.to_dict()
    # offsets of both seasons are converted: one known event of each
    for instance, text in (
        ("task-42933", "2011-10-11T13:45:40.276+02:00"),
        ("task-42957", "2011-11-24T15:36:51.302+01:00"),
    ):
        row = ev[(ev["case_id"] == "case-10011") & (ev["concept:instance"] == instance)]
        assert len(row) == 1
        assert raw.loc[raw["concept:instance"] == instance, "time:timestamp"].iloc[0] == text
        expected = datetime.fromisoformat(text).astimezone(UTC)
        assert row["timestamp"].iloc[0] == pd.Timestamp(expected)
    # 105 cases had no end date when the log was extracted
    assert ev.groupby("case_id")["case:enddate"].first().isna().sum() == 105
