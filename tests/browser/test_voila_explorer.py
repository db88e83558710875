"""The bottleneck explorer served by Voilà, driven in headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from harness import start_voila

HERE = Path(__file__).resolve().parent
WAIT_MS = 90_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_explorer_in_voila(page: Any, tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(HERE / "explorer.ipynb", root / "explorer.ipynb")
    server = start_voila(root / "explorer.ipynb")
    try:
        page.goto(server.url(), wait_until="domcontentloaded")
        table = page.locator(".pekso-explorer .pekso-field-table table")
        table.wait_for(state="visible", timeout=WAIT_MS)
        assert table.locator("th").first.inner_text() == "Kantor"
        image = page.locator(".pekso-explorer .pekso-field-plot")
        before = image.get_attribute("src")
        assert before is not None and before.startswith(("blob:", "data:"))

        page.locator(".pekso-explorer .pekso-field-grouping select").select_option(label="Peksos")
        page.wait_for_function(
            """() => {
                const th = document.querySelector('.pekso-explorer .pekso-field-table th');
                return th && th.textContent === 'Peksos';
            }""",
            timeout=WAIT_MS,
        )
        page.wait_for_function(
            "(old) => document.querySelector('.pekso-explorer .pekso-field-plot').src !== old",
            arg=before,
            timeout=WAIT_MS,
        )
        page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
        assert page.dialogs == []
    finally:
        server.stop()
