"""The harness itself: what happens without a browser, and ports."""

from __future__ import annotations

import socket

import harness
import pytest


def test_missing_browser_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "chromium_path", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        harness.require_chromium()


def test_missing_browser_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "chromium_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        harness.require_chromium()


def test_free_port_can_be_bound() -> None:
    port = harness.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_server_url_carries_the_token(tmp_path) -> None:
    server = harness.Server(None, 8899, "abc", tmp_path, tmp_path / "log")  # type: ignore[arg-type]
    assert server.url("lab/tree/x.ipynb", reset="") == (
        "http://127.0.0.1:8899/lab/tree/x.ipynb?reset&token=abc"
    )
