"""`make lab` starts JupyterLab on the notebooks and serves /lab."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_make_lab_serves_jupyterlab_on_the_notebooks() -> None:
    port = _free_port()
    args = f"--no-browser --port {port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token=t"
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=t", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.5)
        assert "<title>JupyterLab" in body
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents?token=t", timeout=5
        ) as r:
            listing = r.read().decode()
        # the server's root is the notebooks folder
        assert '"name": "01_catat_kasus.ipynb"' in listing.replace('":"', '": "')
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
