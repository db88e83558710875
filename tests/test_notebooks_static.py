"""Checks on the committed notebooks beyond nbval: stored outputs, parameters, privacy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pekso_toolkit.report import REPORT_NOTEBOOKS, find_parameters_cell

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_catat_kasus.ipynb",
    "02_waktu_per_tahap.ipynb",
    "03_bottleneck_supervisor.ipynb",
    "04_kategori_masalah.ipynb",
    "05_data_anda.ipynb",
]


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def test_every_notebook_is_there() -> None:
    present = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert present == EXPECTED
    assert set(REPORT_NOTEBOOKS) <= set(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_with_outputs(name: str) -> None:
    cells = [c for c in _load(name)["cells"] if c["cell_type"] == "code" and "".join(c["source"])]
    assert cells, "a notebook without code"
    not_run = [i for i, c in enumerate(cells) if c.get("execution_count") is None]
    assert not_run == [], "code cells without stored outputs: re-run `make notebooks`"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(counts) + 1)), "cells were not run top to bottom"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_has_a_parameters_cell_with_an_explicit_as_of(name: str) -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = nb.cells[find_parameters_cell(nb)]
    assert "parameters" in cell.metadata.get("tags", [])
    assert re.search(r"^AS_OF\s*=\s*['\"]\d{4}-\d{2}-\d{2}['\"]", cell.source, flags=re.M)
    if name != "01_catat_kasus.ipynb":
        assert re.search(r"^EVENTS_PATH\s*=", cell.source, flags=re.M)


#: client references that the record-a-case notebook types in; none may reach an output
_CLIENT_PATTERNS = [r"klien-\d+", r"KLIEN[-_ ]?\d+", r"NIK\s*\d{6,}", r"\b\d{16}\b"]


@pytest.mark.parametrize("name", EXPECTED)
def test_no_client_reference_in_outputs(name: str) -> None:
    outputs = json.dumps([c.get("outputs", []) for c in _load(name)["cells"]])
    for pattern in _CLIENT_PATTERNS:
        assert not re.search(pattern, outputs), f"{pattern!r} appears in the outputs of {name}"


def _outputs(name: str) -> list[tuple[int, dict]]:
    return [
        (i, out)
        for i, cell in enumerate(_load(name)["cells"])
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
    ]


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_outputs_hold_no_error_warning_temp_path_or_raw_missing_value(name: str) -> None:
    """What a reader sees: no traceback, no warning box, no /tmp path, no raw <NA> or NaT."""
    problems = []
    for i, out in _outputs(name):
        if out["output_type"] == "error":
            problems.append((i, "error", out.get("ename")))
        text = "".join(out.get("text", [])) if out["output_type"] == "stream" else ""
        if out.get("name") == "stderr" or "Warning" in text:
            problems.append((i, "stderr/warning", text[:120]))
        page = "".join(out.get("data", {}).get("text/html", []))
        shown = text + page + "".join(out.get("data", {}).get("text/plain", []))
        if re.search(r"/tmp/|/var/folders/|tmp[a-z0-9_]{6,}/", shown):
            problems.append((i, "temporary path", re.search(r"\S*tmp\S*", shown).group(0)))
        if re.search(r"&lt;NA&gt;|>NaT<|>NaN<|>None<", page):
            problems.append((i, "raw missing value in a table", page[:80]))
    assert problems == []
