"""Start JupyterLab or Voilà and headless Chromium for real-browser tests.

Every test gets a fresh server on a free port, rooted in a temporary directory that holds a
*copy* of the notebook (JupyterLab may write to the files it opens). Servers are stopped by their
process id; SIGTERM also ends their kernels.

Used by ``tests/browser/conftest.py``; the functions are plain so other browser tests (e.g. a
Voilà dashboard test) can reuse them::

    from harness import start_voila, launch_chromium
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Where Debian's chromium package puts the browser.
CHROMIUM = "/usr/bin/chromium"
#: Flags that make Chromium quiet and reliable in a container (no sandbox: tests run as root).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)
#: JupyterLab settings: no news, no update check, no autosave of the notebook copy.
LAB_OVERRIDES: dict[str, Any] = {
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}
BIN = Path(sys.executable).parent


def chromium_path() -> str | None:
    """Path of the Chromium executable, or None when it is not installed."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def require_chromium() -> str:
    """The Chromium path; fails the test under ``CI`` when it is missing, else skips it."""
    path = chromium_path()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is not None:
        return path
    reason = (
        "Chromium (/usr/bin/chromium) and the Python package playwright are needed for the "
        "browser tests; install them with `apt-get install -y chromium` and "
        "`pip install playwright` (do not run `playwright install`)"
    )
    if running_in_ci():
        pytest.fail(f"CI is set and the browser test cannot run: {reason}")
    pytest.skip(reason)


def running_in_ci() -> bool:
    """True on the CI machine (``CI`` set to 1/true/yes), where browser tests must not skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running Jupyter server process (JupyterLab or Voilà)."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    log_path: Path
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "", **query: str) -> str:
        """Address of ``path`` on the server, with the token (and ``query``) attached."""
        params = dict(query)
        if self.token:
            params["token"] = self.token
        text = "&".join(f"{k}={v}" if v else k for k, v in params.items())
        return f"{self.base}/{path.lstrip('/')}" + (f"?{text}" if text else "")

    def log(self) -> str:
        """What the server printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server (its kernels end with it); SIGKILL if it does not stop."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _env(root: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    """Environment of a server: the test's Python first on PATH, Jupyter state under ``root``."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    state = root.parent / f".{root.name}-jupyter"
    env["JUPYTER_RUNTIME_DIR"] = str(state / "runtime")
    env["JUPYTER_CONFIG_DIR"] = str(state / "config")
    env["IPYTHONDIR"] = str(state / "ipython")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("JUPYTER_PLATFORM_DIRS", None)
    if extra:
        env.update(extra)
    return env


def _wait_ready(server: Server, probe: str | None, timeout: float) -> None:
    """Wait until ``probe`` answers 200 (None: until the port accepts connections)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with code {server.process.returncode}:\n{server.log()[-4000:]}"
            )
        try:
            if probe is None:
                with socket.create_connection(("127.0.0.1", server.port), timeout=2):
                    return
            with urllib.request.urlopen(server.url(probe), timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server not ready after {timeout:.0f} s ({last}):\n{server.log()[-4000:]}")


def start_lab(root: Path, *, env: Mapping[str, str] | None = None, timeout: float = 60.0) -> Server:
    """Start a fresh JupyterLab server serving ``root`` on a free port of 127.0.0.1.

    ``root`` should hold copies of the notebooks. Settings (news, update checks, autosave off)
    and workspaces live in a directory beside ``root``. The page exposes ``window.jupyterapp``
    so tests can run commands such as ``notebook:run-all-cells``.
    """
    root = Path(root)
    state = root.parent / f".{root.name}-jupyter"
    settings = state / "app-settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=1))
    token = os.urandom(12).hex()
    port = free_port()
    log_path = state / "lab.log"
    cmd = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.disable_check_xsrf=False",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.app_settings_dir={settings}",
        f"--LabApp.user_settings_dir={state / 'user-settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        "--LabApp.news_url=",
        "--LanguageServerManager.autodetect=False",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=_env(root, env), stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(proc, port, token, root, log_path)
    _wait_ready(server, "api/status", timeout)
    return server


def start_voila(
    notebook: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    extra_args: tuple[str, ...] = (),
) -> Server:
    """Start Voilà serving ``notebook`` on a free port of 127.0.0.1 (no token).

    Pass a copy of the notebook in a temporary directory. The page is ``server.url()``;
    widgets appear once the notebook has run (about 6 s for a small one).
    """
    notebook = Path(notebook)
    root = notebook.parent
    state = root.parent / f".{root.name}-jupyter"
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = state / "voila.log"
    cmd = [
        str(BIN / "voila"),
        str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=_env(root, env), stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(proc, port, "", root, log_path)
    # a page request would run the notebook once more: wait for the port only
    _wait_ready(server, None, timeout)
    return server


def launch_chromium(playwright: Any, executable: str | None = None) -> Any:
    """A headless Chromium browser (Playwright ``Browser``) from the system's Chromium."""
    return playwright.chromium.launch(
        executable_path=executable or chromium_path() or CHROMIUM,
        headless=True,
        args=list(CHROMIUM_ARGS),
    )


def open_notebook(page: Any, server: Server, name: str, *, timeout: float = 60.0) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is connected and idle."""
    page.goto(server.url(f"lab/tree/{name}", reset=""), wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']",
        state="attached",
        timeout=timeout * 1000,
    )
    page.wait_for_function(_KERNEL_IDLE, arg=name, timeout=timeout * 1000)


#: True once the notebook panel of the given file has a connected, idle kernel.
_KERNEL_IDLE = """(name) => {
    const w = window.jupyterapp.shell.currentWidget;
    if (!w || !w.sessionContext || !w.context || w.context.path !== name) return false;
    if (!w.context.isReady || !w.sessionContext.isReady) return false;
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


def run_all_cells(page: Any, *, timeout: float = 120.0) -> list[int | None]:
    """Run every cell of the open notebook, wait until all ran and the kernel is idle again.

    Returns the execution count of each code cell (None for one that did not run).
    """
    page.set_default_timeout(timeout * 1000)
    page.evaluate("async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            return cells.every(c => c.executionCount !== null) && !!k && k.status === 'idle';
        }""",
        timeout=timeout * 1000,
    )
    counts: list[int | None] = page.evaluate(
        """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
            .filter(c => c.type === 'code').map(c => c.executionCount)"""
    )
    return counts


def cell_errors(page: Any) -> list[str]:
    """Text of every error output shown in the notebook (empty when all cells ran cleanly)."""
    return list(
        page.eval_on_selector_all(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']",
            "els => els.map(e => e.textContent)",
        )
    )
