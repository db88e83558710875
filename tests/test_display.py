"""Tables for people: bilingual labels, local times, no raw <NA>, escaped and uncut texts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.publish.display import COLUMN_LABELS

AS_OF = "2025-06-30"


def test_times_are_local_missing_values_a_dash_and_text_escaped() -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["A-1", "A-2"],
            "entered_at": pd.to_datetime(["2025-06-29 17:00", None], utc=True),
            "median_days": [1.234, float("nan")],
            "n_open": pd.array([3, pd.NA], dtype="Int64"),
            "reason": ["<b>x</b> & " + "panjang " * 40, None],
            "observed": [True, False],
        }
    )
    table = pk.show_table(frame)
    cells = table.frame
    assert list(cells.columns) == [
        "Kasus / Case",
        "Masuk tahap / Entered",
        "Median hari / Median days",
        "Masih terbuka / Still open",
        "Alasan / Reason",
        "Selesai / Finished",
    ]
    # 17:00 UTC on 29 June is midnight of 30 June in Jakarta
    assert cells.iloc[0, 1] == "2025-06-30"
    assert cells.iloc[1].tolist()[1:5] == ["—", "—", "—", "—"]
    assert cells.iloc[0, 2] == "1.23"
    assert cells.iloc[0, 5] == "ya" and cells.iloc[1, 5] == "tidak"
    page = table._repr_html_()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt; &amp;" in page
    assert "panjang " * 40 in page.replace("&amp;", "&")  # never cut
    assert "<NA>" not in page and "NaN" not in page and "NaT" not in page


def test_time_zone_comes_from_the_frame_or_argument() -> None:
    frame = pd.DataFrame({"opened_at": pd.to_datetime(["2025-06-29 22:30"], utc=True)})
    frame.attrs["tz"] = "Asia/Jayapura"
    assert pk.show_table(frame).frame.iloc[0, 0] == "2025-06-30 07:30"
    assert pk.show_table(frame, tz="Asia/Jakarta").frame.iloc[0, 0] == "2025-06-30 05:30"


def test_unknown_columns_keep_their_name_and_duplicate_labels_stay_apart() -> None:
    frame = pd.DataFrame({"left_at": [pd.NaT], "exited_at": [pd.NaT], "my_col": [1]})
    columns = list(pk.show_table(frame).frame.columns)
    assert columns == ["Keluar tahap / Left", "Keluar tahap / Left (exited_at)", "my col"]


@pytest.mark.slow
def test_every_column_of_the_supervisor_analyses_has_a_label() -> None:
    log = pk.load_events(pk.datasets.sample_events_path())
    stays = pk.join_categories(pk.time_in_stage(log, as_of=AS_OF))
    store = pk.datasets.synthesize_store(
        Path(tempfile.mkdtemp()) / "s.sqlite", 120, seed=7, as_of=AS_OF
    )
    deviations = pk.deviations(store, as_of=AS_OF)
    frames = {
        "bottlenecks": pk.bottlenecks(stays, by="office", as_of=AS_OF),
        "stage_summary": pk.stage_summary(stays, by="office"),
        "overdue_by_office": pk.overdue_cases(stays, as_of=AS_OF, by="office", min_count=11),
        "overdue_cases": pk.overdue_cases(stays, as_of=AS_OF),
        "skipped_analysis": pk.skipped_analysis(log, as_of=AS_OF),
        "forgotten_summary": pk.forgotten_summary(pk.forgotten_steps(store, as_of=AS_OF)),
        "contract_checks": pk.deviation_summary(
            pk.contract_checks(store, as_of=AS_OF), by="office"
        ),
        "deviations": deviations,
        "deviation_summary": pk.deviation_summary(deviations),
        "stage_drivers": pk.stage_drivers(stays, stage="asesmen", covariates=["office"]),
        "compare_groups": pk.compare_groups(stays, by="office", stage="asesmen"),
        "worklist": pk.worklist(store, as_of=AS_OF),
        "transitions": pk.transitions(log),
        "process_map": pk.process_map(log),
        "case_durations": pk.case_durations(log, as_of=AS_OF),
        "censoring_bias": pk.censoring_bias(stays),
        "stage_exits": pk.stage_exits(stays),
    }
    missing = {
        name: [c for c in frame.columns if c not in COLUMN_LABELS] for name, frame in frames.items()
    }
    assert {name: cols for name, cols in missing.items() if cols} == {}


def test_meaningful_index_is_shown_and_long_tables_say_what_is_left_out() -> None:
    described = pd.DataFrame({"days": [1.0, 2.0, 4.0]}).describe()
    cells = pk.show_table(described).frame
    assert cells.iloc[:, 0].tolist()[:3] == ["count", "mean", "std"]
    long = pd.DataFrame({"n": range(100)})
    table = pk.show_table(long, max_rows=10)
    assert table.frame["Jumlah / Number"].tolist() == [
        "0",
        "1",
        "2",
        "3",
        "4",
        *map(str, range(95, 100)),
    ]
    assert "90 baris lagi" in table._repr_html_()


def test_readable_tables_formats_every_dataframe_in_a_notebook_until_turned_off() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    frame = pd.DataFrame({"office": ["Kota Bandung"], "n_open": pd.array([pd.NA], dtype="Int64")})
    try:
        pk.readable_tables()
        shown = shell.display_formatter.format(frame)[0]["text/html"]
        assert "Kantor / Office" in shown and "<NA>" not in shown and "—" in shown
        pk.readable_tables(enable=False)
        shown = shell.display_formatter.format(frame)[0]["text/html"]
        assert "Kantor / Office" not in shown and "office" in shown
    finally:
        pk.readable_tables(enable=False)
        InteractiveShell.clear_instance()


def test_row_numbers_left_from_filtering_are_not_shown() -> None:
    frame = pd.DataFrame({"office": ["A", "B", "C"], "n": [1, 2, 3]}).query("n > 1")
    assert list(pk.show_table(frame).frame.columns) == ["Kantor / Office", "Jumlah / Number"]


def test_cells_holding_several_values_are_shown_as_they_are() -> None:
    import numpy as np

    frame = pd.DataFrame({"in_scope": [("P1", "P3"), np.array([1, 2]), {"P2"}, None]})
    assert pk.show_table(frame).frame.iloc[:, 0].tolist() == [
        "('P1', 'P3')",
        "[1 2]",
        "{'P2'}",
        "—",
    ]
