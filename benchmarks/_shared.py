"""Helpers shared by the benchmark scripts: the machine's CPU name and the test suite's
simulated-log builder (``tests/simlog.py``), loaded without making ``tests`` a package."""

from __future__ import annotations

import importlib.util
import platform
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_simlog() -> ModuleType:
    """``tests/simlog.py``: simulated logs with known effects."""
    spec = importlib.util.spec_from_file_location("simlog", ROOT / "tests" / "simlog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
