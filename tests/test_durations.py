"""time_in_stage: stays, censoring, ties, working days, and a cross-check on a real log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simlog import HAND, make_events, simulate

from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.events.eventlog import EventLog, load_events
from pekso_toolkit.stays.durations import STAY_COLUMNS, time_in_stage, to_utc, working_days

MODEL = StageModel.default()
TZ = "Asia/Jakarta"

#: The 27 activities of the WABO receipt log (receipt.xes.gz) mapped onto the five stages:
#: receiving and confirming the application = intake; advice on stopping = assessment;
#: deciding whether to stop = analysis; document X / holding the request = intervention;
#: report Y on stopping = termination.
STAGE_MAP = {
    "Confirmation of receipt": "proses_awal",
    "T02 Check confirmation of receipt": "proses_awal",
    "T03 Adjust confirmation of receipt": "proses_awal",
    "T04 Determine confirmation of receipt": "proses_awal",
    "T05 Print and send confirmation of receipt": "proses_awal",
    "T06 Determine necessity of stop advice": "asesmen",
    "T07-1 Draft intern advice aspect 1": "asesmen",
    "T07-2 Draft intern advice aspect 2": "asesmen",
    "T07-3 Draft intern advice hold for aspect 3": "asesmen",
    "T07-4 Draft internal advice to hold for type 4": "asesmen",
    "T07-5 Draft intern advice aspect 5": "asesmen",
    "T08 Draft and send request for advice": "asesmen",
    "T09-1 Process or receive external advice from party 1": "asesmen",
    "T09-2 Process or receive external advice from party 2": "asesmen",
    "T09-3 Process or receive external advice from party 3": "asesmen",
    "T09-4 Process or receive external advice from party 4": "asesmen",
    "T10 Determine necessity to stop indication": "analisa_masalah",
    "T11 Create document X request unlicensed": "intervensi",
    "T12 Check document X request unlicensed": "intervensi",
    "T13 Adjust document X request unlicensed": "intervensi",
    "T14 Determine document X request unlicensed": "intervensi",
    "T15 Print document X request unlicensed": "intervensi",
    "T16 Report reasons to hold request": "intervensi",
    "T17 Check report Y to stop indication": "terminasi",
    "T18 Adjust report Y to stop indicition": "terminasi",
    "T19 Determine report Y to stop indication": "terminasi",
    "T20 Print report Y to stop indication": "terminasi",
}


AS_OF = "2024-03-10"


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def test_hand_made_log_gives_the_stays_worked_out_by_hand() -> None:
    stays = time_in_stage(make_events(HAND), as_of=AS_OF)
    expected = pd.DataFrame(
        [
            # case, stage, visit, entered, left, next, days, observed
            ("A", "proses_awal", 1, "2024-03-01 09:00", "2024-03-04 09:00", "asesmen", 3.0, True),
            ("A", "asesmen", 1, "2024-03-04 09:00", None, None, 5.625, False),
            ("B", "proses_awal", 1, "2024-03-01 00:00", "2024-03-02 00:00", "asesmen", 1.0, True),
            ("B", "asesmen", 1, "2024-03-02 00:00", "2024-03-05 00:00", "proses_awal", 3.0, True),
            ("B", "proses_awal", 2, "2024-03-05 00:00", "2024-03-06 00:00", "asesmen", 1.0, True),
            ("B", "asesmen", 2, "2024-03-06 00:00", None, None, 4.0, False),
            ("C", "intervensi", 1, "2024-02-01 00:00", "2024-02-11 00:00", "ditutup", 10.0, True),
            ("C", "intervensi", 2, "2024-03-03 00:00", None, None, 7.0, False),
            ("D", "terminasi", 1, "2024-01-01 00:00", "2024-01-05 00:00", "ditutup", 4.0, True),
        ],
        columns=["case_id", "stage", "visit", "entered", "left", "next", "days", "observed"],
    )
    assert stays["case_id"].tolist() == expected["case_id"].tolist()
    assert stays["stage"].astype(str).tolist() == expected["stage"].tolist()
    assert stays["visit"].tolist() == expected["visit"].tolist()
    assert stays["entered_at"].tolist() == [local(t) for t in expected["entered"]]
    left = [pd.NaT if t is None else local(t) for t in expected["left"]]
    assert [x if pd.notna(x) else pd.NaT for x in stays["left_at"]] == left
    assert stays["next_stage"].astype(object).where(stays["next_stage"].notna(), None).tolist() == (
        expected["next"].tolist()
    )
    np.testing.assert_allclose(stays["days"], expected["days"])
    assert stays["observed"].tolist() == expected["observed"].tolist()
    # types of the contract
    assert stays["case_id"].dtype == "string"
    assert stays["stage"].dtype == MODEL.dtype
    assert str(stays["entered_at"].dtype) == "datetime64[ns, UTC]"
    assert stays["days"].dtype == float and stays["observed"].dtype == bool
    assert stays.attrs["as_of"] == to_utc(AS_OF)


def test_events_after_as_of_are_ignored() -> None:
    events = make_events(HAND)
    cut = to_utc(AS_OF)
    full = time_in_stage(events, as_of=AS_OF)
    known = time_in_stage(events[events["timestamp"] <= cut], as_of=AS_OF)
    pd.testing.assert_frame_equal(full, known)
    # A's assessment stay ended after as_of (closure on the 11th): open at as_of
    a = full[(full.case_id == "A") & (full.stage == "asesmen")].iloc[0]
    assert not a.observed and pd.isna(a.left_at)
    later = time_in_stage(events, as_of="2024-03-12")
    a = later[(later.case_id == "A") & (later.stage == "asesmen")].iloc[0]
    assert a.observed and a.days == pytest.approx(7.5)


def test_row_order_does_not_matter_and_eventlog_gives_the_same() -> None:
    sim = simulate(400, seed=11, span_days=150, date_only=True)
    shuffled = sim.events.sample(frac=1.0, random_state=5).reset_index(drop=True)
    a = time_in_stage(sim.events, as_of=sim.as_of)
    b = time_in_stage(shuffled, as_of=sim.as_of)
    pd.testing.assert_frame_equal(a, b)
    c = time_in_stage(EventLog.from_frame(shuffled), as_of=sim.as_of)
    pd.testing.assert_frame_equal(a, c)


def test_sorting_is_exact_for_nanosecond_gaps_over_decades() -> None:
    # 24 years of timestamps in one log; two events 1 ns apart, a move back, must still come
    # out in time order
    base = pd.Timestamp("2024-01-01", tz="UTC")
    rows = [
        ("old", "proses_awal", pd.Timestamp("2000-01-01", tz="UTC")),
        ("old", "ditutup", pd.Timestamp("2000-01-02", tz="UTC")),
        ("b", "proses_awal", base),
        ("c", "proses_awal", base),
        ("x", "proses_awal", base),
        ("x", "asesmen", base + pd.Timedelta(8, "ns")),
        ("x", "proses_awal", base + pd.Timedelta(9, "ns")),
    ]
    events = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"]).iloc[::-1]
    events = events.astype({"case_id": "string", "stage": MODEL.dtype})
    stays = time_in_stage(events, as_of="2024-02-01")
    x = stays[stays.case_id == "x"]
    assert x.stage.astype(str).tolist() == ["proses_awal", "asesmen", "proses_awal"]
    assert x.visit.tolist() == [1, 1, 2]
    assert x.days.iloc[1] == pytest.approx(1e-9 / 86400)


def test_closed_cases_without_rework_add_up_to_their_lifetime() -> None:
    sim = simulate(600, seed=4, span_days=300)
    stays = time_in_stage(sim.events, as_of=sim.as_of)
    events = sim.events[sim.events.timestamp <= sim.as_of]
    closed_at = events[events.stage == "ditutup"].set_index("case_id")["timestamp"]
    first = events.groupby("case_id")["timestamp"].min()
    lifetime = ((closed_at - first.loc[closed_at.index]).dt.total_seconds() / 86400).sort_index()
    assert len(lifetime) > 100
    mine = stays[stays.case_id.isin(closed_at.index)]
    assert (mine.visit == 1).all()
    total = mine.groupby("case_id", observed=True)["days"].sum().sort_index()
    np.testing.assert_allclose(total.to_numpy(), lifetime.to_numpy(), rtol=1e-9)


def test_stays_match_the_simulated_truth() -> None:
    sim = simulate(300, seed=8, span_days=200)
    stays = time_in_stage(sim.events, as_of=sim.as_of)
    truth = sim.truth[sim.truth.entered_at <= sim.as_of]
    merged = stays.merge(truth, on=["case_id", "stage", "entered_at"], suffixes=("", "_true"))
    assert len(merged) == len(stays) == len(truth)
    done = merged.left_at_true <= sim.as_of
    np.testing.assert_allclose(merged.days[done], merged.days_true[done])
    assert (merged.observed == done).all()
    # open stays are censored: their days so far are shorter than their true length
    assert (merged.days[~done] < merged.days_true[~done]).all()


def test_same_day_events_never_make_backward_moves() -> None:
    sim = simulate(500, seed=2, span_days=200, date_only=True)
    shuffled = sim.events.sample(frac=1.0, random_state=1).reset_index(drop=True)
    assert shuffled.groupby(["case_id", "timestamp"]).size().max() > 1, (
        "the date-only log must have same-day events for this test to mean anything"
    )
    stays = time_in_stage(shuffled, as_of=sim.as_of)
    assert (stays.visit == 1).all()
    assert (stays.days >= 0).all()
    # a file listing same-day events in reverse order: still a forward path
    rows = [
        ("X", "asesmen", "2024-05-02"),
        ("X", "proses_awal", "2024-05-02"),
        ("X", "analisa_masalah", "2024-05-02"),
    ]
    stays = time_in_stage(make_events(rows), as_of="2024-05-10")
    assert stays.stage.astype(str).tolist() == ["proses_awal", "asesmen", "analisa_masalah"]
    assert stays.visit.tolist() == [1, 1, 1]
    # ... but a real move back on a later day is rework
    rows.append(("X", "asesmen", "2024-05-03"))
    stays = time_in_stage(make_events(rows), as_of="2024-05-10")
    assert stays.stage.astype(str).tolist()[-1] == "asesmen"
    assert stays.visit.tolist()[-1] == 2


def test_reopening_on_the_day_of_closure_is_read_in_the_right_order() -> None:
    rows = [
        ("R", "terminasi", "2024-05-01"),
        ("R", "asesmen", "2024-05-06"),  # listed first: same day as closure and reopening
        ("R", "dibuka_kembali", "2024-05-06"),
        ("R", "ditutup", "2024-05-06"),
    ]
    stays = time_in_stage(make_events(rows), as_of="2024-05-10")
    assert stays.stage.astype(str).tolist() == ["terminasi", "asesmen"]
    assert stays.next_stage.astype(object).tolist()[0] == "ditutup"
    assert stays.observed.tolist() == [True, False]
    assert stays.days.tolist() == [5.0, 4.0]


def test_case_columns_are_the_last_known_at_the_end_of_each_stay() -> None:
    rows = [
        ("W", "proses_awal", "2024-01-01", "Ani", None),
        ("W", "asesmen", "2024-01-03", None, "AT"),
        ("W", "asesmen", "2024-01-05", "Budi", None),  # handed over during the assessment
        ("W", "analisa_masalah", "2024-01-09", None, None),
        ("V", "proses_awal", "2024-01-02", None, None),
    ]
    stays = time_in_stage(make_events(rows, ["worker", "category"]), as_of="2024-01-20")
    assert stays.case_id.tolist() == ["V", "W", "W", "W"]
    w = stays[stays.case_id == "W"]
    assert w.worker.tolist() == ["Ani", "Budi", "Budi"]
    assert pd.isna(w.category.iloc[0])
    assert w.category.tolist()[1:] == ["AT", "AT"]
    assert pd.isna(stays.worker.iloc[0])  # V never had a worker; W's is not borrowed
    only = time_in_stage(make_events(rows, ["worker", "category"]), as_of="2024-01-20", carry=[])
    assert list(only.columns) == list(STAY_COLUMNS)


def test_working_days_with_an_indonesian_holiday() -> None:
    # Wed 16 Aug 2023 12:00 -> Mon 21 Aug 06:00 (WIB). 17 Aug (Thursday) is Independence Day.
    # Wed: 12/24 = 0.5; Thu: holiday; Fri: 1; Sat, Sun: 0; Mon: 6/24 = 0.25  => 1.75
    start, end = "2023-08-16 12:00", "2023-08-21 06:00"
    assert working_days(start, end)[0] == pytest.approx(1.75)
    assert working_days(start, end, holidays=None)[0] == pytest.approx(2.75)
    assert working_days(start, end, holidays=["2023-08-17", "2023-08-18"])[0] == pytest.approx(0.75)
    # Friday 15:00 to Monday 09:00: 9/24 + 9/24
    assert working_days("2023-08-11 15:00", "2023-08-14 09:00")[0] == pytest.approx(0.75)
    # the same day, and a weekend day alone
    assert working_days("2023-08-15 08:00", "2023-08-15 14:00")[0] == pytest.approx(0.25)
    assert working_days("2023-08-19 08:00", "2023-08-19 14:00")[0] == 0.0
    # times with an offset are counted in Jakarta local time: 05:00Z = 12:00 WIB
    assert working_days(
        pd.Timestamp("2023-08-16 05:00", tz="UTC"), pd.Timestamp("2023-08-20 23:00", tz="UTC")
    )[0] == pytest.approx(1.75)
    # time_in_stage uses the same counting
    rows = [("H", "asesmen", start), ("H", "analisa_masalah", end)]
    stays = time_in_stage(make_events(rows), as_of="2023-09-01", days="working")
    assert stays.days.iloc[0] == pytest.approx(1.75)
    assert stays.attrs["days"] == "working"


def test_working_days_are_at_most_calendar_days_and_vectorised() -> None:
    sim = simulate(300, seed=5, span_days=400)
    cal = time_in_stage(sim.events, as_of=sim.as_of)
    work = time_in_stage(sim.events, as_of=sim.as_of, days="working")
    assert (work.days <= cal.days + 1e-9).all()
    assert (work.days >= 0).all()
    # about 5/7 of the time, minus holidays
    assert 0.6 < work.days.sum() / cal.days.sum() < 5 / 7
    np.testing.assert_allclose(
        work.days.to_numpy(),
        working_days(cal.entered_at, cal.left_at.fillna(sim.as_of)),
    )


def test_working_days_agree_with_a_day_by_day_count() -> None:
    # independent count: walk the local calendar one day at a time with the holidays package
    import datetime as dt

    import holidays as holidays_lib

    rng = np.random.default_rng(3)
    starts = pd.Timestamp("2023-12-20", tz=TZ) + pd.to_timedelta(rng.uniform(0, 400, 150), unit="D")
    ends = starts + pd.to_timedelta(rng.exponential(20, 150), unit="D")
    ends = ends.where(np.arange(150) % 10 != 0, starts)  # some empty intervals
    calendar = holidays_lib.country_holidays("ID", years=range(2023, 2026))

    def by_hand(a: pd.Timestamp, b: pd.Timestamp) -> float:
        total = 0.0
        day = a.normalize()
        while day < b:
            nxt = day + pd.Timedelta(days=1)
            date: dt.date = day.date()
            if date.weekday() < 5 and date not in calendar:
                overlap = min(b, nxt) - max(a, day)
                total += overlap / pd.Timedelta(days=1)
            day = nxt
        return total

    expected = [by_hand(a, b) for a, b in zip(starts, ends)]
    np.testing.assert_allclose(working_days(starts, ends), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(working_days(ends, starts), -np.array(expected), atol=1e-9)


def test_as_of_forms_and_naive_times_are_jakarta() -> None:
    stamp = to_utc("2024-06-30")
    assert stamp == pd.Timestamp("2024-06-29 17:00", tz="UTC")
    assert to_utc(pd.Timestamp("2024-06-30").date()) == stamp
    assert to_utc(pd.Timestamp("2024-06-30 00:00", tz=TZ)) == stamp
    with pytest.raises(ValueError, match="as_of"):
        to_utc("not a date")


def test_bad_input_gets_a_clear_error() -> None:
    events = make_events(HAND)
    with pytest.raises(EventLogError, match="timestamp"):
        time_in_stage(events.drop(columns="timestamp"), as_of=AS_OF)
    odd = events.assign(stage=events.stage.astype(str).replace({"asesmen": "assessmen"}))
    with pytest.raises(EventLogError, match="assessmen"):
        time_in_stage(odd, as_of=AS_OF)
    with pytest.raises(ValueError, match="working"):
        time_in_stage(events, as_of=AS_OF, days="weekdays")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EventLog"):
        time_in_stage([1, 2, 3], as_of=AS_OF)
    assert time_in_stage(events.iloc[:0], as_of=AS_OF).empty


def _receipt_path() -> Path:
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "receipt.xes.gz"
    if not path.exists():
        pytest.skip(f"real event log not found at {path} (it sits beside the project checkout)")
    return path


def test_receipt_log_matches_an_independent_computation() -> None:
    """Real WABO receipt log: stays summed per case and stage equal event-to-event gaps."""
    path = _receipt_path()
    log = load_events(path, stage_map=STAGE_MAP)
    as_of = "2012-06-01"
    stays = time_in_stage(log, as_of=as_of)
    ev = log.events
    assert ev.case_id.nunique() == 1434 and len(ev) == 8577

    # independent: plain pandas on the parsed events, sorted by case, time, stage order
    order = {s: i for i, s in enumerate(MODEL.ids)}
    plain = pd.DataFrame(
        {
            "case": ev.case_id.astype(str).to_numpy(),
            "stage": ev.stage.astype(str).to_numpy(),
            "t": ev.timestamp.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(),
        }
    )
    plain["rank"] = plain.stage.map(order)
    plain = plain.sort_values(["case", "t", "rank"], kind="stable")
    nxt = plain.groupby("case")["t"].shift(-1)
    end = nxt.fillna(pd.Timestamp(as_of, tz=TZ).tz_convert("UTC").tz_localize(None))
    plain["gap"] = (end - plain["t"]).dt.total_seconds() / 86400
    plain["last"] = nxt.isna()
    expected = plain.groupby(["case", "stage"])["gap"].sum()
    got = stays.assign(case=stays.case_id.astype(str), st=stays.stage.astype(str))
    got = got.groupby(["case", "st"])["days"].sum()
    got.index.names = ["case", "stage"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-9
    )
    # one stay per run of same-stage events
    new_run = plain.stage != plain.groupby("case")["stage"].shift()
    assert len(stays) == int(new_run.sum())
    # finished stays only: drop each case's last stage, which is open (no closure in this log)
    last_stage = plain[plain["last"]].set_index("case")["stage"]
    finished = stays[stays.observed]
    assert len(finished) == len(stays) - stays.case_id.nunique()
    open_stays = stays[~stays.observed].set_index(stays[~stays.observed].case_id.astype(str))
    assert (open_stays.stage.astype(str) == last_stage.loc[open_stays.index]).all()


def test_working_days_are_counted_in_the_local_calendar_of_the_log() -> None:
    """The same instants read in WIT (UTC+9) and WIB (UTC+7): a stay boundary at 16:00 UTC on a
    Friday is Friday 23:00 in Jakarta but Saturday 01:00 in Jayapura, so the working days differ
    exactly for the stays with a boundary on another local date; the others count the same."""
    rows = [
        # case A: intervensi is entered on Friday 2024-03-08 16:00 UTC
        ("A", "asesmen", "2024-03-04T02:00:00Z"),  # Monday
        ("A", "intervensi", "2024-03-08T16:00:00Z"),  # Friday (WIB) / Saturday (WIT)
        ("A", "terminasi", "2024-03-12T02:00:00Z"),  # Tuesday
        ("A", "ditutup", "2024-03-13T02:00:00Z"),  # Wednesday
        # case B: every boundary falls on the same local working date in both zones
        ("B", "asesmen", "2024-03-04T02:00:00Z"),
        ("B", "intervensi", "2024-03-06T05:00:00Z"),
        ("B", "terminasi", "2024-03-07T03:00:00Z"),
        ("B", "ditutup", "2024-03-08T04:00:00Z"),
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    as_of = "2024-03-20T00:00:00Z"
    stays = {}
    for tz in ("Asia/Jakarta", "Asia/Jayapura"):
        log = load_events(frame, tz=tz)
        assert log.tz == tz and log.report.n_kept == len(rows)
        for days in ("calendar", "working"):
            stays[tz, days] = time_in_stage(log, as_of=as_of, days=days, holidays=None, carry=[])
    wib, wit = stays["Asia/Jakarta", "working"], stays["Asia/Jayapura", "working"]
    # the same stays and instants: only the local calendar differs
    for column in ("case_id", "stage", "entered_at", "left_at"):
        assert wib[column].tolist() == wit[column].tolist()
    np.testing.assert_allclose(
        stays["Asia/Jakarta", "calendar"]["days"], stays["Asia/Jayapura", "calendar"]["days"]
    )

    def local_dates(column: str, tz: str) -> list[object]:
        return list(wib[column].dt.tz_convert(tz).dt.date)

    moved = [
        a != b or c != d
        for a, b, c, d in zip(
            local_dates("entered_at", "Asia/Jakarta"),
            local_dates("entered_at", "Asia/Jayapura"),
            local_dates("left_at", "Asia/Jakarta"),
            local_dates("left_at", "Asia/Jayapura"),
            strict=True,
        )
    ]
    assert moved == [True, True, False, False, False, False]
    differs = ~np.isclose(wib["days"], wit["days"], rtol=0, atol=1e-9)
    assert differs.tolist() == moved
    # asesmen of A: Monday 09:00 WIB to Friday 23:00 WIB = 15/24 + 3 + 23/24 working days;
    # Monday 11:00 WIT to Saturday 01:00 WIT = 13/24 + 4 (Saturday does not count)
    assert wib["days"].iloc[0] == pytest.approx(3 + 38 / 24)
    assert wit["days"].iloc[0] == pytest.approx(4 + 13 / 24)
    # intervensi of A: Friday 23:00 WIB to Tuesday 09:00 WIB = 1/24 + 1 + 9/24;
    # Saturday 01:00 WIT to Tuesday 11:00 WIT = 1 + 11/24
    assert wib["days"].iloc[1] == pytest.approx(1 + 10 / 24)
    assert wit["days"].iloc[1] == pytest.approx(1 + 11 / 24)
