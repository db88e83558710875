"""Properties of load_events on arbitrary messy exports (hypothesis)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events import readers
from pekso_toolkit.events.eventlog import REASONS, load_events

MODEL = StageModel.default()
CLOSED, REOPENED = "ditutup", "dibuka_kembali"

_NAMES = sorted(
    {s.id for s in MODEL.stages}
    | {s.label_id for s in MODEL.stages}
    | {s.label_en for s in MODEL.stages}
    | {a for s in MODEL.stages for a in s.aliases}
)
# closures and reopenings are drawn often, so their rules and ties are exercised
_STATES = [CLOSED, REOPENED, "Closed", "reopened", "Dibuka Kembali", "selesai"]
_GARBAGE = ["kunjungan", "asesmenx", "T02 Check", "-", "0", "<b>x</b>"]

_CASES: list[Callable[[str], str]] = [str, str.upper, str.lower, str.title]

case_ids = st.one_of(
    st.sampled_from(["A", "B", "K-1", "k-1", " A", "B  ", "", "   ", "10", "9"]),
    st.none(),
    st.text(alphabet="AB -_\t", max_size=3),
)


@st.composite
def stage_names(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["name", "name", "state", "state", "garbage", "none", "blank"]))
    if kind == "none":
        return None
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t"]))
    name = draw(st.sampled_from({"name": _NAMES, "state": _STATES, "garbage": _GARBAGE}[kind]))
    case = draw(st.sampled_from(_CASES))
    name = case(name).replace(" ", draw(st.sampled_from([" ", "  ", " \t"])))
    return draw(st.sampled_from(["", " ", "  "])) + name + draw(st.sampled_from(["", " "]))


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    # few distinct days and hours, so equal times (ties) are common
    day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 6)))
    hour = draw(st.sampled_from([None, None, 9, 14]))
    when = day if hour is None else day + pd.Timedelta(hours=hour)
    form = draw(
        st.sampled_from(
            ["iso", "iso", "iso", "iso_tz", "dayfirst", "serial", "serial_text", "junk", "none"]
        )
    )
    if form == "iso":
        return f"{when:%Y-%m-%d}" if hour is None else f"{when:%Y-%m-%d %H:%M}"
    if form == "iso_tz":
        sep = draw(st.sampled_from(["T", " "]))
        offset = draw(st.sampled_from(["+07:00", "Z", "+01:00", "+07", "-0500", " +07:00"]))
        return f"{when:%Y-%m-%d}{sep}{when:%H:%M:%S}{offset}"
    if form == "dayfirst":
        return f"{when:%d/%m/%Y}" if hour is None else f"{when:%d/%m/%Y %H:%M}"
    serial = (when - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    if form == "serial":
        return draw(st.sampled_from([serial, int(serial), 12.5, 99999]))
    if form == "serial_text":
        return f"{serial:g}"
    if form == "junk":
        return draw(st.sampled_from(["kemarin", "12/31/2024", "2024-13-01", "", " ", "45-45"]))
    return None


@st.composite
def exports(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    rows = [(draw(case_ids), draw(stage_names()), draw(timestamps())) for _ in range(n)]
    # sometimes a closure, a reopening and a stage at one time (an export with dates only)
    for _ in range(draw(st.integers(0, 2))):
        case, when = draw(case_ids), draw(timestamps())
        rows += [(case, CLOSED, when), (case, REOPENED, when), (case, draw(stage_names()), when)]
    rows = draw(st.permutations(rows))
    n = len(rows)
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    # unique but unordered row labels; the label is also kept as a column to follow each row
    labels = draw(st.permutations(list(range(100, 100 + n))))
    frame.index = pd.Index(labels)
    frame["row_label"] = labels
    return frame


def tie_rank(stages: list[str]) -> list[float]:
    """The documented rank of events sharing a case and a time (see eventlog.tie_rank)."""
    closed, reopened = CLOSED in stages, REOPENED in stages
    ranks = []
    for stage in stages:
        code = float(MODEL.ids.index(stage))
        if stage == REOPENED:
            code = MODEL.ids.index(CLOSED) + 0.5 if closed else -1.0
        elif closed and reopened and stage != CLOSED:
            code += len(MODEL.ids)  # closed, reopened, then the stage entered
        ranks.append(code)
    return ranks


def _runs(keys: list[Any]) -> list[slice]:
    """Slices of consecutive equal keys."""
    if not keys:
        return []
    bounds = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]] + [len(keys)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_every_row_is_accounted_for_and_the_log_is_canonical(raw: pd.DataFrame) -> None:
    log = load_events(raw)
    report, ev = log.report, log.events

    # every row read is kept or rejected, once
    assert report.n_read == len(raw)
    assert report.n_kept + report.n_rejected == report.n_read
    assert len(ev) == report.n_kept
    issues = report.issues
    assert issues["row"].is_unique
    assert set(issues["row"]) <= set(raw.index)
    assert set(issues["status"]) <= {"repaired", "rejected"}
    assert set(issues["reason"].str.split(", ").explode()) <= set(REASONS)
    rejected = set(report.rejected["row"])
    kept = set(ev["row_label"])
    assert not kept & rejected
    assert kept | rejected == set(raw.index)
    assert set(report.repaired["row"]) <= kept

    # canonical columns and dtypes
    assert list(ev.columns) == ["case_id", "stage", "timestamp", "row_label"]
    assert ev["case_id"].dtype == pd.StringDtype()
    assert ev["stage"].dtype == MODEL.dtype
    assert str(ev["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert list(ev.index) == list(range(len(ev)))
    assert ev["case_id"].notna().all() and ev["stage"].notna().all()
    assert ev["timestamp"].notna().all()

    # kept rows carry their own case id, trimmed
    source = raw.set_index("row_label")
    assert list(ev["case_id"]) == [str(source.at[r, "case_id"]).strip() for r in ev["row_label"]]

    # sorted: case id (as text), time, then the documented stage order for equal times
    cases = list(ev["case_id"])
    stamps = pd.DatetimeIndex(ev["timestamp"]).asi8.tolist()
    stages = [str(x) for x in ev["stage"]]
    assert list(zip(cases, stamps)) == sorted(zip(cases, stamps))
    for run in _runs(list(zip(cases, stamps))):
        ranks = tie_rank(stages[run])
        assert ranks == sorted(ranks), stages[run]

    # no duplicate events; closures are only ever followed by a reopening
    assert len(set(zip(cases, stamps, stages))) == len(ev)
    for run in _runs(cases):
        story = stages[run]
        assert story[0] != REOPENED, story
        for before, after in zip(story, story[1:]):
            assert (before == CLOSED) == (after == REOPENED), story


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports(), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_a_csv_export_reads_the_same_by_the_fast_and_the_row_by_row_reader(
    raw: pd.DataFrame, sep: str, crlf: bool
) -> None:
    text = raw.to_csv(index=False, sep=sep, lineterminator="\r\n" if crlf else "\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("export.tsv" if sep == "\t" else "export.csv")
        path.write_text(text, encoding="utf-8")
        fast = load_events(path)
        plain = readers._read_plain
        readers._read_plain = lambda *args: None  # type: ignore[assignment]
        try:
            slow = load_events(path)
        finally:
            readers._read_plain = plain
    pd.testing.assert_frame_equal(fast.events, slow.events)
    pd.testing.assert_frame_equal(fast.report.issues, slow.report.issues)
    assert fast.report.notes == slow.report.notes
    assert fast.report.n_read == slow.report.n_read == len(raw)
    assert fast.report.n_kept + fast.report.n_rejected == len(raw)
