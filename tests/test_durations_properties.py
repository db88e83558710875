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
def case_events(draw: st.DrawFn, case_id: str) -> list[tuple[str, str, pd.Timestamp]]:
    """A valid history: stages in any order (rework, skips, repeats), perhaps closed, perhaps
    reopened after a closure; small day steps so that equal times are common."""
    rows = []
    day = draw(st.integers(0, 5))
    closed = False
    reopened_on = -1
    for _ in range(draw(st.integers(1, 8))):
        day += draw(st.sampled_from([0, 0, 1, 2, 7, 30]))
        if closed:
            if not draw(st.booleans()):
                break
            day += 1  # a reopening never shares its time with a closure here
            rows.append((case_id, REOPENED, BASE + pd.Timedelta(days=day)))
            reopened_on = day
            closed = False
            continue
        stage = draw(st.sampled_from([*HELPING, *HELPING, CLOSED]))
        if stage == CLOSED and day == reopened_on:
            day += 1
        rows.append((case_id, stage, BASE + pd.Timedelta(days=day)))
        closed = stage == CLOSED
    return rows


@st.composite
def event_logs(draw: st.DrawFn) -> pd.DataFrame:
    n_cases = draw(st.integers(1, 12))
    ids = draw(
        st.lists(
            st.text("Kk0129-é", min_size=1, max_size=10),
            min_size=n_cases,
            max_size=n_cases,
            unique=True,
        )
    )
    rows = [row for case_id in ids for row in draw(case_events(case_id))]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    frame = frame.astype({"case_id": "string", "stage": MODEL.dtype})
    perm = draw(st.permutations(range(len(frame))))
    return frame.iloc[list(perm)].reset_index(drop=True)


def reference(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    out = []
    kept = events[events["timestamp"] <= as_of]
    for case_id in sorted(kept["case_id"].unique()):
        case = kept[kept["case_id"] == case_id]
        # same-time events: a reopening first (it never shares its time with a closure
        # here), then the stages in model order
        evs = sorted(
            (
                (t, -1 if s == REOPENED else ORDER[str(s)], str(s))
                for t, s in zip(case["timestamp"], case["stage"])
            ),
            key=lambda e: (e[0], e[1]),
        )
        runs: list[tuple[pd.Timestamp, str]] = []
        for when, _, stage in evs:
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.integers(0, 60))
def test_time_in_stage_agrees_with_a_per_case_reference(events: pd.DataFrame, cut: int) -> None:
    as_of = BASE + pd.Timedelta(days=cut)
    expected = reference(events, as_of)
    for source in (events, EventLog.from_frame(events)):
        got = time_in_stage(source, as_of=as_of, carry=[])
        assert len(got) == len(expected)
        if not len(got):
            continue
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
