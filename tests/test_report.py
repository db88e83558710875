"""`pekso report` and `make report`: notebooks 02-04 run on a given log and become HTML reports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from pekso_toolkit.cli import main
from pekso_toolkit.datasets import synthesize_frame
from pekso_toolkit.report import REPORT_NOTEBOOKS, ReportError, build_reports

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "kecil.csv"
    synthesize_frame(160, seed=5, as_of="2025-03-31").to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_make_report_writes_html_with_the_summary_table(small_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "laporan"
    done = subprocess.run(
        ["make", "-s", "report", f"EVENTS={small_log}", "AS_OF=2025-03-31", f"OUT={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in REPORT_NOTEBOOKS:
        page = out / name.replace(".ipynb", ".html")
        assert page.exists(), page
        html = page.read_text(encoding="utf-8")
        assert "Traceback" not in html
        assert "2025-03-31" in html  # the injected analysis date was used
    waktu = (out / "02_waktu_per_tahap.html").read_text(encoding="utf-8")
    # the stage summary table, with its Kaplan-Meier columns under readable bilingual labels
    assert "Median: batas bawah 95% / Median: lower 95%" in waktu and "<table" in waktu
    assert "Proporsi lewat target / Share overdue" in waktu
    assert "<th>median_ci_low</th>" not in waktu and "<td>&lt;NA&gt;</td>" not in waktu
    # the report ran on the small log (160 cases), not on the sample data (figures are embedded
    # as base64 images, whose text can hold any digits: look at the rest)
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", waktu)
    assert "160" in text and "3000" not in text


def test_bad_parameters_are_refused_before_any_notebook_runs(
    small_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ReportError, match="not a date"):
        build_reports(small_log, as_of="31/03/2025", out=tmp_path)
    with pytest.raises(ReportError, match="file not found"):
        build_reports(tmp_path / "nope.csv", as_of="2025-03-31", out=tmp_path)
    with pytest.raises(ReportError, match="before the first event"):
        build_reports(small_log, as_of="2001-01-01", out=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was written
    code = main(["report", "--events", str(small_log), "--as-of", "kemarin", "--out", "x"])
    assert code == 2
    assert "--as-of" in capsys.readouterr().err


def test_an_unreadable_export_is_refused_with_the_loader_message(tmp_path: Path) -> None:
    broken = tmp_path / "rusak.csv"
    broken.write_text("no_kasus,tahap\n1,asesmen\n", encoding="utf-8")
    with pytest.raises(Exception, match="no column 'case_id'"):
        build_reports(broken, as_of="2025-03-31", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("case_id,stage,timestamp,office\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_dates_outside_the_data_are_refused_in_one_paragraph(
    small_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for as_of, words in (("2999-01-01", "more than a year"), ("2026-09-01", "more than a year")):
        with pytest.raises(ReportError, match=words):
            build_reports(small_log, as_of=as_of, out=tmp_path / "out")
    code = main(["report", "--events", str(small_log), "--as-of", "2999-01-01", "--out", "x"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and "\x1b[" not in err
    assert "lebih dari setahun" in err and "more than a year" not in err  # Indonesian first
    code = main(
        ["report", "--events", str(small_log), "--as-of", "2999-01-01", "--out", "x"]
        + ["--lang", "en"]
    )
    assert code != 0 and "more than a year" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_log_without_closed_cases_or_usable_rows_is_refused(tmp_path: Path) -> None:
    never = _write(
        tmp_path / "terbuka.csv",
        [f"K{i},proses_awal,2025-01-0{1 + i % 5} 09:00,A" for i in range(30)],
    )
    with pytest.raises(ReportError, match="was ever closed"):
        build_reports(never, as_of="2025-03-31", out=tmp_path / "out")
    rejected = _write(
        tmp_path / "ditolak.csv", [f"K{i},proses_awal,bukan tanggal,A" for i in range(5)]
    )
    with pytest.raises(Exception, match="rejected|no usable|ditolak"):
        build_reports(rejected, as_of="2025-03-31", out=tmp_path / "out")
    with pytest.raises(ReportError, match="--demo"):
        build_reports(None, as_of=None, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_published_report_on_small_offices_shows_no_small_count_case_id_or_sample_label(
    tmp_path: Path,
) -> None:
    """A real-shaped export with several offices of fewer than 11 cases, reported without
    --internal and --demo: no case id, no count 1-10 in a count column, no sample-data label."""
    frame = synthesize_frame(160, seed=5, as_of="2025-03-31")
    cases = sorted(frame["case_id"].unique())
    small = {case: f"Kantor Kecil {i % 5}" for i, case in enumerate(cases[:40])}  # 8 each
    frame["office"] = frame["case_id"].map(small).fillna(frame["office"])
    frame["case_id"] = "RAHASIA-" + frame["case_id"].astype(str)
    path = tmp_path / "ekspor.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "laporan"
    build_reports(path, as_of="2025-03-31", out=out, progress=False)
    for name in REPORT_NOTEBOOKS:
        html = (out / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", html)
        assert "RAHASIA-" not in text, name  # no case id in text, tables or alt text
        assert not re.search(r"sintetis|synthetic", text, re.IGNORECASE), name
        assert "Traceback" not in text and "Warning" not in text, name
        for label, values in _count_columns(text):
            small_counts = [v for v in values if 1 <= v <= 10]
            assert not small_counts, (name, label, small_counts)


#: Count columns that count parts of the taxonomy, not cases or events of people.
NOT_PEOPLE = frozenset({"n_leaves", "n_children", "n_codes", "n_categories", "n_keywords"})


def _count_columns(html: str) -> list[tuple[str, list[float]]]:
    """(header, numbers) of every table column whose header is a count (``n``, ``n_...``)."""
    found = []
    for table in BeautifulSoup(html, "html.parser").find_all("table"):
        header_rows = table.find("thead").find_all("tr") if table.find("thead") else []
        if not header_rows:
            continue
        headers = [th.get_text(strip=True) for th in header_rows[0].find_all(["th", "td"])]
        body = table.find("tbody") or table
        rows = [
            [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
            for tr in body.find_all("tr")
        ]
        for j, head in enumerate(headers):
            if not re.match(r"^n(_|$)", head) or head in NOT_PEOPLE:
                continue
            numbers = pd.to_numeric(
                pd.Series([r[j] for r in rows if len(r) == len(headers)]), errors="coerce"
            ).dropna()
            found.append((head, numbers.tolist()))
    return found
