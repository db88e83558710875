"""The README's tour runs as written (on the bundled example export)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk

ROOT = Path(__file__).resolve().parents[1]


def run_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Run the README's python blocks in order, in ``tmp_path`` beside the example export;
    return their namespace."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no python example"
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "contoh_ekspor_dinas.csv", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    return namespace


def test_readme_python_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = run_readme(tmp_path, monkeypatch)
    summary = namespace["summary"]
    assert isinstance(summary, pd.DataFrame)
    assert {"Kantor", "stage", "median_days", "median_ci_low"} <= set(summary.columns)
    assert (tmp_path / "kasus.sqlite").exists()


def test_readme_large_log_example_gives_the_in_memory_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = run_readme(tmp_path, monkeypatch)
    per_office = namespace["per_office"]
    assert isinstance(per_office, pd.DataFrame)
    stays = pk.time_in_stage(namespace["log"], as_of="2025-06-30")
    expected = pk.stage_summary(stays, by="Kantor")
    pd.testing.assert_frame_equal(per_office, expected, rtol=1e-9)
    assert len(namespace["big_stays"]) == len(stays)
