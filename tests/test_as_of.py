"""``as_of`` is optional everywhere: read from ``stays.attrs["as_of"]`` when omitted."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from simlog import simulate

import pekso_toolkit as pk
from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.stays.asof import recorded_as_of

AS_OF = "2024-06-30"

#: These read every event when as_of is None (they need no analysis date); functions of a case
#: store read it as it stands now (the store's own clock).
NO_DATE_NEEDED = {
    "transitions",
    "deviations",
    "process_map",
    "plot_process_map",
    "plot_dotted_chart",
}
STORE_FIRST = {"store"}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return simulate(200, seed=5, as_of=AS_OF, span_days=120).events


@pytest.fixture(scope="module")
def stays(events: pd.DataFrame) -> pd.DataFrame:
    return pk.time_in_stage(events, as_of=AS_OF)


def functions_with_as_of() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for name in sorted(pk.__all__):
        obj = getattr(pk, name, None)
        if inspect.isfunction(obj) and "as_of" in inspect.signature(obj).parameters:
            found.append((name, obj))
    return found


def test_the_functions_with_as_of_are_found() -> None:
    names = {n for n, _ in functions_with_as_of()}
    assert {"time_in_stage", "bottlenecks", "overdue_cases", "wip", "skipped_analysis"} <= names


@pytest.mark.parametrize("name", [n for n, _ in functions_with_as_of()])
def test_as_of_defaults_to_none(name: str) -> None:
    assert inspect.signature(getattr(pk, name)).parameters["as_of"].default is None


@pytest.mark.parametrize(
    "name",
    [
        n
        for n, f in functions_with_as_of()
        if n not in NO_DATE_NEEDED
        and next(iter(inspect.signature(f).parameters)) not in STORE_FIRST
    ],
)
def test_without_any_date_the_error_says_how_to_give_it(
    name: str, events: pd.DataFrame, stays: pd.DataFrame
) -> None:
    func = getattr(pk, name)
    first = next(iter(inspect.signature(func).parameters))
    data = events if first == "log" else stays.copy()
    data.attrs = {}
    with pytest.raises(pk.AnalysisError) as caught:
        func(data)
    error = caught.value
    assert isinstance(error, PeksoError) and isinstance(error, ValueError)
    assert error.field == "as_of"
    assert "as_of=" in error.message("id") and "as_of=" in error.message("en")
    assert error.message("id") != error.message("en")
    assert "Tanggal analisis" in error.message_id and "analysis date" in error.message_en


def test_bottlenecks_and_overdue_read_the_date_of_the_stays(stays: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(pk.bottlenecks(stays), pk.bottlenecks(stays, as_of=AS_OF))
    pd.testing.assert_frame_equal(pk.overdue_cases(stays), pk.overdue_cases(stays, as_of=AS_OF))


def test_wip_of_stays_reads_their_date(stays: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(pk.wip(stays), pk.wip(stays, as_of=AS_OF))


def test_a_given_date_wins(stays: pd.DataFrame) -> None:
    assert recorded_as_of(stays, "2024-01-01") == "2024-01-01"
    assert recorded_as_of(stays) == stays.attrs["as_of"]
    # a different date than the stays were made with is still refused, as before
    with pytest.raises(ValueError):
        pk.bottlenecks(stays, as_of="2024-01-01")


def test_time_in_stage_reads_a_date_recorded_on_the_events(events: pd.DataFrame) -> None:
    dated = events.copy()
    dated.attrs = {"as_of": AS_OF}
    pd.testing.assert_frame_equal(pk.time_in_stage(dated), pk.time_in_stage(events, as_of=AS_OF))
