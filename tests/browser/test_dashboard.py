"""`make dashboard`: the supervisor notebook served by Voilà, used in headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from harness import free_port

REPO = Path(__file__).resolve().parents[2]
WAIT_MS = 180_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "make dashboard stopped before serving"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def _make_dashboard(tmp_path: Path, *variables: str) -> Iterator[int]:
    """``make dashboard`` with ``variables`` on a free port; yields the port once it listens."""
    port = free_port()
    log = (tmp_path / "voila.log").open("wb")
    proc = subprocess.Popen(
        [
            "make",
            "-s",
            "dashboard",
            *variables,
            f"DASHBOARD_ARGS=--port={port} --Voila.port_retries=0",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, proc)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_make_dashboard_explorer_reacts_to_a_new_grouping(page: Any, tmp_path: Path) -> None:
    with _make_dashboard(tmp_path) as port:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        header = page.locator(".pekso-explorer .pekso-field-table th").first
        header.wait_for(state="visible", timeout=WAIT_MS)
        first = header.inner_text()
        grouping = page.locator(".pekso-explorer .pekso-field-grouping select")
        labels = [o.strip() for o in grouping.locator("option").all_inner_texts()]
        other = next(label for label in labels if label != first)
        grouping.select_option(label=other)
        page.wait_for_function(
            """(want) => {
                const th = document.querySelector('.pekso-explorer .pekso-field-table th');
                return th && th.textContent.trim() === want;
            }""",
            arg=other,
            timeout=WAIT_MS,
        )
        rows = page.locator(".pekso-explorer .pekso-field-table tbody tr")
        assert rows.count() > 0
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        assert page.dialogs == []


def test_make_dashboard_on_the_users_own_export_and_store(page: Any, tmp_path: Path) -> None:
    """EVENTS=, AS_OF=, STORE= give the supervisor page on those files: no sample-data label,
    the store's sections shown, bilingual headers, and a threshold no viewer can lower."""
    import shutil

    import pekso_toolkit as pk

    events = tmp_path / "ekspor_lembaga.csv"
    shutil.copy(pk.datasets.sample_events_path(), events)
    store = tmp_path / "kasus_lembaga.sqlite"
    pk.datasets.synthesize_store(store, 120, seed=3, as_of="2025-06-30").close()
    own = (f"EVENTS={events}", "AS_OF=2025-06-30", f"STORE={store}", f"OUT={tmp_path / 'out'}")
    with _make_dashboard(tmp_path, *own) as port:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        threshold = page.locator(".pekso-explorer .pekso-field-min_count input")
        threshold.wait_for(state="visible", timeout=WAIT_MS)
        text = page.locator("body").inner_text()
        assert "ekspor_lembaga.csv" in text
        assert "contoh sintetis" not in text.lower() and "synthetic" not in text.lower()
        assert "Terlupa / Forgotten" in text  # the store's forgotten-steps table is there
        assert "Kantor / Office" in text and "<NA>" not in text
        threshold.fill("1")
        threshold.press("Enter")
        page.wait_for_timeout(1000)
        assert int(threshold.input_value()) >= 11
        assert page.dialogs == []
