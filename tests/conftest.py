"""Test fixtures shared by the whole suite."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.widgets.explorer import WARM_UP_THREAD

#: ../shared beside the checkout: domain references and real event logs (absent on users' clones)
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Every test starts in Bahasa Indonesia and leaves no open figure behind."""
    set_language("id")
    yield
    # a bottleneck explorer's background warm-up must not run into the next test (where it
    # would call that test's monkeypatched functions)
    for thread in threading.enumerate():
        if thread.name == WARM_UP_THREAD:
            thread.join(timeout=120)
    set_language("id")
    plt.close("all")


@pytest.fixture
def shared_data() -> Path:
    """The folder of real event logs; the test is skipped when it is absent."""
    folder = SHARED / "data"
    if not folder.is_dir():
        pytest.skip(f"real event logs not found at {folder} (they sit beside the project checkout)")
    return folder


def running_in_ci() -> bool:
    """True on the CI machine, where tests that need a browser must not skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
