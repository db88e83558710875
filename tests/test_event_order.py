"""The order of events is decided once, by the stay engine's SQL, for every analysis.

``sorted_events`` (case states, process maps, case durations, stage deviations) and
``skipped_analysis`` read events in the order of the engine's ``ranked`` query: by case, time,
the documented tie rank (:func:`pekso_toolkit.events.eventlog.tie_rank`), then row. The checks
here compare that order with a plain Python sort, on arbitrary events with equal times,
closures and reopenings at one instant, and stage models with and without the closed and
reopened states in any position.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pekso_toolkit as pk
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import EventLog, tie_rank
from pekso_toolkit.stays.durations import sorted_events, time_in_stage
from pekso_toolkit.stays.supervision import skipped_analysis

STAYS = Path(__file__).resolve().parents[1] / "pekso_toolkit" / "stays"
DEFAULT = StageModel.default()
BASE = pd.Timestamp("2024-01-01", tz="UTC")

#: Functions of pekso_toolkit/stays that read events in case/time/tie order.
ORDERING_FUNCTIONS = {
    "durations.py": ("sorted_events", "case_states"),
    "process.py": ("__init__",),
    "conformance.py": ("_stage_deviations",),
    "supervision.py": ("skipped_analysis",),
}


def _calls(node: ast.AST) -> set[str]:
    """Names of the functions and methods called in ``node`` (``np.lexsort`` -> ``lexsort``)."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute):
                out.add(func.attr)
            elif isinstance(func, ast.Name):
                out.add(func.id)
    return out


def test_no_stays_module_ranks_ties_itself() -> None:
    """The tie rule lives in the engine's SQL: no stays module uses eventlog.tie_rank."""
    users = []
    for path in sorted(STAYS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = (
                (isinstance(node, ast.Name) and node.id == "tie_rank")
                or (isinstance(node, ast.Attribute) and node.attr == "tie_rank")
                or (isinstance(node, ast.alias) and node.name == "tie_rank")
            )
            if named:
                users.append(f"{path.name}:{getattr(node, 'lineno', '?')}")
    assert users == []


def test_no_analysis_sorts_events_in_numpy_or_pandas() -> None:
    found = {}
    for name, functions in ORDERING_FUNCTIONS.items():
        tree = ast.parse((STAYS / name).read_text(encoding="utf-8"))
        defs = {
            n.name: n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for function in functions:
            assert function in defs, f"{name}: {function} not found"
            sorting = _calls(defs[function]) & {
                "lexsort",
                "argsort",
                "sort_values",
                "groupby",
                "cummax",
                "factorize",
            }
            if sorting:
                found[f"{name}:{function}"] = sorted(sorting)
    assert found == {}


# ----------------------------------------------------------------------------- property tests
@st.composite
def stage_models(draw: st.DrawFn) -> StageModel:
    """The default stages in any order, perhaps without the closed and/or reopened state."""
    stages = list(DEFAULT.stages)
    if draw(st.booleans()):
        stages = [s for s in stages if s.kind != "closed"]
    if draw(st.booleans()):
        stages = [s for s in stages if s.kind != "reopened"]
    order = draw(st.permutations(range(len(stages))))
    return StageModel(name="drawn", stages=tuple(stages[i] for i in order))


@st.composite
def tied_events(draw: st.DrawFn, model: StageModel) -> pd.DataFrame:
    """Events of a few cases at a few instants (many ties), any stage, rows in any order."""
    n = draw(st.integers(0, 40))
    case_ids = st.text("Kk0129-é", min_size=1, max_size=4)
    ids = draw(st.lists(case_ids, min_size=1, max_size=5, unique=True))
    rows = [
        (
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(model.ids)),
            BASE + pd.Timedelta(hours=draw(st.integers(0, 3))),
        )
        for _ in range(n)
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    return frame.astype({"case_id": "string", "stage": model.dtype}).astype(
        {"timestamp": "datetime64[ns, UTC]"}
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sorted_events_is_a_plain_sort_by_case_time_tie_rank_and_row(data: st.DataObject) -> None:
    model = data.draw(stage_models())
    frame = data.draw(tied_events(model))
    hours = data.draw(st.one_of(st.none(), st.integers(-1, 3)))
    as_of_ns = None if hours is None else (BASE + pd.Timedelta(hours=hours)).value

    ts = frame["timestamp"].array.asi8
    keep = [i for i in range(len(frame)) if as_of_ns is None or ts[i] <= as_of_ns]
    cases = [str(c) for c in frame["case_id"]]
    codes = frame["stage"].cat.codes.to_numpy().astype(np.int64)
    number = {c: i for i, c in enumerate(sorted({cases[i] for i in keep}))}
    kept_case = np.array([number[cases[i]] for i in keep], dtype=np.int64)
    rank = dict(zip(keep, tie_rank(codes[keep], kept_case, ts[keep], model).tolist(), strict=True))
    expected = sorted(keep, key=lambda i: (cases[i], int(ts[i]), rank[i], i))

    ev = sorted_events(frame, as_of_ns, model)
    assert ev.n == len(expected)
    assert ev.rows.tolist() == expected
    assert ev.ts.tolist() == [int(ts[i]) for i in expected]
    assert ev.stage.tolist() == [int(codes[i]) for i in expected]
    assert ev.case_code.tolist() == [number[cases[i]] for i in expected]


def _skipped_reference(
    frame: pd.DataFrame, as_of: pd.Timestamp, model: StageModel
) -> dict[str, bool]:
    """Walk each case's events in the loader's order: a new episode at each reopening; a case
    skipped the analysis when the first intervention of some episode had no analysis before
    it in that episode."""
    out: dict[str, bool] = {}
    for case_id, case in EventLog(events=frame, model=model).events.groupby("case_id", sort=True):
        seen = entered = False
        verdicts = []
        for stage, when in zip(case["stage"], case["timestamp"], strict=True):
            if when > as_of:
                continue
            if stage == model.reopened_id:
                seen = entered = False
            if stage == "analisa_masalah":
                seen = True
            if stage == "intervensi" and not entered:
                entered = True
                verdicts.append(not seen)
        if verdicts:
            out[str(case_id)] = any(verdicts)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_skipped_analysis_agrees_with_a_walk_through_each_case(data: st.DataObject) -> None:
    model = DEFAULT if data.draw(st.booleans()) else data.draw(stage_models())
    frame = data.draw(tied_events(model))
    frame["office"] = frame["case_id"].map(lambda c: f"office {len(c)}").astype("string")
    as_of = BASE + pd.Timedelta(hours=data.draw(st.integers(0, 3)))
    log = frame if model is DEFAULT else EventLog(events=frame, model=model)
    got = skipped_analysis(log, as_of=as_of)
    expected = _skipped_reference(frame, as_of, model)
    assert got["case_id"].tolist() == sorted(expected)
    assert dict(zip(got["case_id"], got["skipped_analysis"].tolist(), strict=True)) == expected
    assert got["office"].tolist() == [f"office {len(c)}" for c in got["case_id"]]
    assert list(got.columns) == ["case_id", "skipped_analysis", "office"]
    assert got["skipped_analysis"].dtype == bool
    assert got["case_id"].dtype == "string"


# ----------------------------------------------------------------------------- one tie rule
def test_time_in_stage_ranks_a_reopening_first_in_a_model_without_closure() -> None:
    """With a reopened state but no closed one, a reopening ranks before the stage entered at
    its instant (eventlog.tie_rank), in the stays as in the loader's order."""
    model = StageModel(
        name="no closure", stages=tuple(s for s in DEFAULT.stages if s.kind != "closed")
    )
    frame = pd.DataFrame(
        {
            "case_id": ["A", "A", "A"],
            "stage": ["asesmen", "intervensi", "dibuka_kembali"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-05"], utc=True),
        }
    )
    log = pk.load_events(frame, model=model)
    assert log.events["stage"].astype(str).tolist() == ["asesmen", "dibuka_kembali", "intervensi"]
    stays = time_in_stage(log, as_of="2024-01-10")
    assert stays["stage"].astype(str).tolist() == ["asesmen", "intervensi"]
    assert stays["next_stage"].iloc[0] == "dibuka_kembali"
    assert pd.isna(stays["next_stage"].iloc[1])
    assert stays["observed"].tolist() == [True, False]
