"""time_in_stage against a plain per-case reference on arbitrary logs (hypothesis).

The reference below walks each case's events one by one, the way the stay rules are written in
the time_in_stage docstring; the vectorised implementation must agree with it on every log,
whatever the row order, including rework, closure, reopening and same-time events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import EventLog
from pekso_toolkit.stays.durations import time_in_stage

MODEL = StageModel.default()
HELPING = [s.id for s in MODEL.helping_stages]
CLOSED, REOPENED = MODEL.closed_id, MODEL.reopened_id
ORDER = {s: i for i, s in enumerate(MODEL.ids)}
BASE = pd.Timestamp("2024-01-01", tz="UTC")
AS_OF = BASE + pd.Timedelta(days=40)


@st.composite
def case_events(
    draw: st.DrawFn,
    case_id: str,
    stages: tuple[str, ...] = tuple(HELPING),
    tie_reopen: bool = False,
) -> list[tuple[str, str, pd.Timestamp]]:
    """A valid history: stages in any order (rework, skips, repeats), perhaps closed, perhaps
    reopened after a closure; small day steps so that equal times are common.

    ``stages`` are the helping stages drawn from. With ``tie_reopen`` a reopening may share the
    instant of its closure (and the next stage may follow at that instant too); otherwise it
    comes at least a day after.
    """
    rows = []
    day = draw(st.integers(0, 5))
    closed = False
    reopened_on = closed_on = -1
    for _ in range(draw(st.integers(1, 8))):
        day += draw(st.sampled_from([0, 0, 1, 2, 7, 30]))
        if closed:
            if not draw(st.booleans()):
                break
            at_closure = draw(st.booleans()) if tie_reopen else False
            day = closed_on if at_closure else day + 1
            rows.append((case_id, REOPENED, BASE + pd.Timedelta(days=day)))
            reopened_on = day
            closed = False
            continue
        stage = draw(st.sampled_from([*stages, *stages, CLOSED]))
        if stage == CLOSED and day == reopened_on:
            day += 1  # a closure never shares its time with the reopening before it
        rows.append((case_id, stage, BASE + pd.Timedelta(days=day)))
        closed = stage == CLOSED
        closed_on = day
    return rows


@st.composite
def event_logs(
    draw: st.DrawFn,
    stages: tuple[str, ...] = tuple(HELPING),
    tie_reopen: bool = False,
) -> pd.DataFrame:
    n_cases = draw(st.integers(1, 12))
    ids = draw(
        st.lists(
            st.text("Kk0129-é", min_size=1, max_size=10),
            min_size=n_cases,
            max_size=n_cases,
            unique=True,
        )
    )
    rows = [row for case_id in ids for row in draw(case_events(case_id, stages, tie_reopen))]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame = frame.astype({"case_id": "string", "stage": MODEL.dtype})
    perm = draw(st.permutations(range(len(frame))))
    return frame.iloc[list(perm)].reset_index(drop=True)


def tie_rank(stages: list[str]) -> list[float]:
    """The documented rank of the events of one case at one instant (see eventlog.tie_rank):
    model order; a reopening first, unless a closure shares the instant: then the closure, the
    reopening, then the other stages in model order."""
    closed, reopened = CLOSED in stages, REOPENED in stages
    ranks = []
    for stage in stages:
        code = float(ORDER[stage])
        if stage == REOPENED:
            code = ORDER[CLOSED] + 0.5 if closed else -1.0
        elif closed and reopened and stage != CLOSED:
            code += len(MODEL.ids)
        ranks.append(code)
    return ranks


def documented_order(case: pd.DataFrame) -> list[tuple[pd.Timestamp, str]]:
    """One case's events (timestamp, stage) in the documented order: time, then tie rank."""
    out: list[tuple[pd.Timestamp, str]] = []
    for when in sorted(set(case["timestamp"])):
        at = [str(s) for s, t in zip(case["stage"], case["timestamp"]) if t == when]
        out += [(when, s) for _, s in sorted(zip(tie_rank(at), at))]
    return out


def reference(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    out = []
    kept = events[events["timestamp"] <= as_of]
    for case_id in sorted(kept["case_id"].unique()):
        case = kept[kept["case_id"] == case_id]
        # same-time events in the documented tie order
        runs: list[tuple[pd.Timestamp, str]] = []
        for when, stage in documented_order(case):
            if not runs or runs[-1][1] != stage:
                runs.append((when, stage))
        visits: dict[str, int] = {}
        for i, (entered, stage) in enumerate(runs):
            if stage not in HELPING:
                continue
            visits[stage] = visits.get(stage, 0) + 1
            following = runs[i + 1] if i + 1 < len(runs) else None
            left = following[0] if following else pd.NaT
            end = following[0] if following else as_of
            out.append(
                {
                    "case_id": case_id,
                    "stage": stage,
                    "visit": visits[stage],
                    "entered_at": entered,
                    "left_at": left,
                    "next_stage": following[1] if following else None,
                    "days": (end - entered) / pd.Timedelta(days=1),
                    "observed": following is not None,
                }
            )
    return pd.DataFrame(out, columns=list(out[0]) if out else None)


def assert_same_stays(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """``time_in_stage`` output ``got`` holds the reference's stays, value for value."""
    assert len(got) == len(expected)
    if not len(got):
        return
    assert got["case_id"].tolist() == expected["case_id"].tolist()
    assert got["stage"].astype(str).tolist() == expected["stage"].tolist()
    assert got["visit"].tolist() == expected["visit"].tolist()
    assert got["entered_at"].tolist() == expected["entered_at"].tolist()
    left = got["left_at"]
    assert left.isna().tolist() == expected["left_at"].isna().tolist()
    assert left.dropna().tolist() == expected["left_at"].dropna().tolist()
    got_next = [None if pd.isna(v) else str(v) for v in got["next_stage"]]
    assert got_next == expected["next_stage"].tolist()
    np.testing.assert_allclose(got["days"], expected["days"], rtol=0, atol=1e-9)
    assert got["observed"].tolist() == expected["observed"].tolist()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.integers(0, 60))
def test_time_in_stage_agrees_with_a_per_case_reference(events: pd.DataFrame, cut: int) -> None:
    as_of = BASE + pd.Timedelta(days=cut)
    expected = reference(events, as_of)
    for source in (events, EventLog.from_frame(events)):
        assert_same_stays(time_in_stage(source, as_of=as_of, carry=[]), expected)


def sorted_reference(events: pd.DataFrame) -> pd.DataFrame:
    """The events in the documented order, by a plain loop: case id (as text), time, tie rank."""
    rows = [
        (case_id, stage, when)
        for case_id in sorted(set(events["case_id"]))
        for when, stage in documented_order(events[events["case_id"] == case_id])
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return frame.astype({"case_id": "string", "stage": MODEL.dtype})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(tie_reopen=True), st.integers(0, 60))
def test_row_order_changes_neither_the_log_nor_the_stays(events: pd.DataFrame, cut: int) -> None:
    ordered = sorted_reference(events)
    shuffled_log = EventLog(events=events)
    sorted_log = EventLog(events=ordered)
    pd.testing.assert_frame_equal(shuffled_log.events, ordered)
    pd.testing.assert_frame_equal(sorted_log.events, ordered)
    as_of = BASE + pd.Timedelta(days=cut)
    for days in ("calendar", "working"):
        from_shuffled = time_in_stage(shuffled_log, as_of=as_of, days=days, carry=[])
        from_sorted = time_in_stage(sorted_log, as_of=as_of, days=days, carry=[])
        pd.testing.assert_frame_equal(from_shuffled, from_sorted)
    raw = time_in_stage(events, as_of=as_of, carry=[])
    pd.testing.assert_frame_equal(raw, time_in_stage(sorted_log, as_of=as_of, carry=[]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(HELPING), max_size=len(HELPING) - 1, unique=True).flatmap(
        lambda used: event_logs(stages=tuple(used))
    ),
    st.integers(0, 60),
)
def test_stages_that_never_occur_change_no_stay(events: pd.DataFrame, cut: int) -> None:
    assert set(events["stage"].astype(str)) < set(MODEL.ids)  # some stage never occurs
    as_of = BASE + pd.Timedelta(days=cut)
    expected = reference(events, as_of)
    for source in (events, EventLog.from_frame(events)):
        got = time_in_stage(source, as_of=as_of, carry=[])
        assert_same_stays(got, expected)
        assert list(got["stage"].cat.categories) == list(MODEL.ids)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(tie_reopen=True), st.integers(0, 60))
def test_closure_and_reopening_at_one_instant(events: pd.DataFrame, cut: int) -> None:
    as_of = BASE + pd.Timedelta(days=cut)
    expected = reference(events, as_of)
    for source in (events, EventLog.from_frame(events)):
        got = time_in_stage(source, as_of=as_of, carry=[])
        assert_same_stays(got, expected)
        assert (got["days"] >= 0).all()
        working = time_in_stage(source, as_of=as_of, days="working", holidays=None, carry=[])
        assert (working["days"] >= 0).all()
        assert (working["days"] <= got["days"] + 1e-9).all()


def test_a_closure_reopening_and_stage_at_one_instant_in_the_documented_order() -> None:
    t = [BASE + pd.Timedelta(days=d) for d in (0, 3, 5)]
    rows = [
        ("K1", "intervensi", t[0]),
        ("K1", "asesmen", t[1]),  # given first, read after the closure and the reopening
        ("K1", REOPENED, t[1]),
        ("K1", CLOSED, t[1]),
        ("K1", CLOSED, t[2]),
        ("K1", "terminasi", t[2]),  # entered and closed at one instant: a stay of 0 days
    ]
    events = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    log = EventLog(events=events)
    assert [str(s) for s in log.events["stage"]] == [
        "intervensi",
        CLOSED,
        REOPENED,
        "asesmen",
        "terminasi",
        CLOSED,
    ]
    stays = time_in_stage(log, as_of=BASE + pd.Timedelta(days=10), carry=[])
    assert stays["stage"].astype(str).tolist() == ["intervensi", "asesmen", "terminasi"]
    assert stays["next_stage"].astype(str).tolist() == [CLOSED, "terminasi", CLOSED]
    assert stays["days"].tolist() == [3.0, 2.0, 0.0]
    assert stays["observed"].tolist() == [True, True, True]
