"""Seeded event logs with known per-stage duration distributions, for tests and benchmarks.

Every case starts at a uniformly drawn time, passes the five helping stages in order (each stay
drawn from the stage's distribution below) and is closed (``ditutup``) after the last one. Events
after ``as_of`` are kept in ``events`` so tests can check that they are ignored; ``truth`` has the
uncensored stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pekso_toolkit.core.stages import StageModel

STAGES = ("proses_awal", "asesmen", "analisa_masalah", "intervensi", "terminasi")

#: stage -> (distribution, true median in days, shape parameter)
DISTRIBUTIONS: dict[str, tuple[str, float, float]] = {
    "proses_awal": ("lognormal", 5.0, 0.6),
    "asesmen": ("exponential", 10.0, 1.0),
    "analisa_masalah": ("weibull", 6.0, 1.5),
    "intervensi": ("lognormal", 40.0, 0.5),
    "terminasi": ("weibull", 20.0, 2.0),
}

OFFICES = ("Jakarta Timur", "Bandung", "Surabaya", "Makassar")
CATEGORIES = ("AT", "KTK", "FM", "PM", "LU")
NS_PER_DAY = 86_400 * 10**9


def draw_days(rng: np.random.Generator, stage: str, n: int) -> np.ndarray:
    """``n`` durations in days from the stage's distribution (true median as in DISTRIBUTIONS)."""
    kind, median, shape = DISTRIBUTIONS[stage]
    if kind == "lognormal":
        return np.exp(np.log(median) + shape * rng.standard_normal(n))
    if kind == "exponential":
        return median / np.log(2) * rng.standard_exponential(n)
    if kind == "weibull":
        scale = median / np.log(2) ** (1 / shape)
        return scale * rng.weibull(shape, n)
    raise ValueError(kind)


@dataclass
class SimLog:
    events: pd.DataFrame
    truth: pd.DataFrame
    as_of: pd.Timestamp


def simulate(
    n_cases: int,
    *,
    seed: int,
    as_of: str = "2024-06-30",
    span_days: float = 365.0,
    date_only: bool = False,
    shuffle: bool = False,
) -> SimLog:
    """Simulate ``n_cases`` linear cases starting uniformly in the ``span_days`` before ``as_of``.

    ``date_only`` floors every timestamp to local (Asia/Jakarta) midnight, as in exports that
    keep dates only. ``shuffle`` returns the event rows in random order.
    """
    rng = np.random.default_rng(seed)
    as_of_ts = pd.Timestamp(as_of).tz_localize("Asia/Jakarta").tz_convert("UTC")
    end = as_of_ts.value
    begin = end - int(span_days * NS_PER_DAY)
    start = rng.integers(begin, end, n_cases)
    durations = np.column_stack([draw_days(rng, s, n_cases) for s in STAGES])
    offsets = np.zeros((n_cases, len(STAGES) + 1))
    offsets[:, 1:] = np.cumsum(durations, axis=1)
    times = start[:, None] + (offsets * NS_PER_DAY).astype(np.int64)
    if date_only:
        local = times + 7 * 3600 * 10**9  # Asia/Jakarta is UTC+7 all year
        times = (local // NS_PER_DAY) * NS_PER_DAY - 7 * 3600 * 10**9
    n_stages = len(STAGES) + 1
    codes = np.tile(np.arange(n_stages), n_cases)  # default model: ditutup is code 5
    case_num = np.repeat(np.arange(n_cases), n_stages)
    width = max(6, len(str(n_cases)))
    case_ids = np.array([f"K{i:0{width}d}" for i in range(n_cases)], dtype=object)
    model = StageModel.default()
    office = rng.integers(0, len(OFFICES), n_cases)
    category = rng.integers(0, len(CATEGORIES), n_cases)
    worker = office * 10 + rng.integers(0, 10, n_cases)
    events = pd.DataFrame(
        {
            "case_id": pd.array(case_ids[case_num], dtype="string"),
            "stage": pd.Categorical.from_codes(codes, dtype=model.dtype),
            "timestamp": pd.DatetimeIndex(times.ravel().view("datetime64[ns]")).tz_localize("UTC"),
            "office": pd.Categorical.from_codes(office[case_num], categories=list(OFFICES)),
            "worker": pd.Categorical.from_codes(
                worker[case_num], categories=[f"P{i:02d}" for i in range(10 * len(OFFICES))]
            ),
            "category": pd.Categorical.from_codes(category[case_num], categories=list(CATEGORIES)),
        }
    )
    if shuffle:
        events = events.iloc[rng.permutation(len(events))].reset_index(drop=True)
    stay_times = times[:, :-1].ravel()
    stay_left = times[:, 1:].ravel()
    truth = pd.DataFrame(
        {
            "case_id": pd.array(np.repeat(case_ids, len(STAGES)), dtype="string"),
            "stage": pd.Categorical(np.tile(STAGES, n_cases), dtype=model.dtype),
            "entered_at": pd.DatetimeIndex(stay_times.view("datetime64[ns]")).tz_localize("UTC"),
            "left_at": pd.DatetimeIndex(stay_left.view("datetime64[ns]")).tz_localize("UTC"),
            "days": (stay_left - stay_times) / NS_PER_DAY,
        }
    )
    return SimLog(events=events, truth=truth, as_of=as_of_ts)


def make_events(rows: list[tuple], extra: list[str] | None = None) -> pd.DataFrame:
    """Canonical events from (case, stage, local time[, extra values...]) tuples."""
    extra = extra or []
    frame = pd.DataFrame(rows, columns=["case_id", "stage", "when", *extra])
    when = pd.to_datetime(frame["when"], format="ISO8601")
    return pd.DataFrame(
        {
            "case_id": frame["case_id"].astype("string"),
            "stage": pd.Categorical(frame["stage"], dtype=StageModel.default().dtype),
            "timestamp": when.dt.tz_localize("Asia/Jakarta").dt.tz_convert("UTC"),
            **{c: frame[c] for c in extra},
        }
    )


#: A small log whose stays are worked out by hand in the tests (times in Asia/Jakarta).
HAND = [
    # A: repeated intake events merge; closed after assessment
    ("A", "proses_awal", "2024-03-01 09:00"),
    ("A", "proses_awal", "2024-03-02 09:00"),
    ("A", "asesmen", "2024-03-04 09:00"),
    ("A", "ditutup", "2024-03-11 21:00"),
    # B: rework back to intake, assessment again, still open
    ("B", "proses_awal", "2024-03-01 00:00"),
    ("B", "asesmen", "2024-03-02 00:00"),
    ("B", "proses_awal", "2024-03-05 00:00"),
    ("B", "asesmen", "2024-03-06 00:00"),
    # C: closed, reopened, then intervention (open)
    ("C", "intervensi", "2024-02-01 00:00"),
    ("C", "ditutup", "2024-02-11 00:00"),
    ("C", "dibuka_kembali", "2024-03-01 00:00"),
    ("C", "intervensi", "2024-03-03 00:00"),
    # D: reopened, no stage yet: nothing open
    ("D", "terminasi", "2024-01-01 00:00"),
    ("D", "ditutup", "2024-01-05 00:00"),
    ("D", "dibuka_kembali", "2024-03-08 00:00"),
]


def simulate_effect(
    n_cases: int,
    *,
    seed: int,
    ratio: float = 2.0,
    distribution: str = "exponential",
    shape: float = 1.5,
    median: float = 10.0,
    rework: float = 0.0,
    as_of: str = "2024-06-30",
    span_days: float = 365.0,
) -> SimLog:
    """Cases whose assessment (``asesmen``) time depends on a known covariate.

    Each case has ``risk`` (tinggi 30 %, sedang 40 %, rendah 30 %) and ``shift`` (pagi / sore,
    half each, no effect). Assessment times are exponential or Weibull (``shape``) with median
    ``median`` days, multiplied by ``ratio`` for risk ``tinggi``: the true median ratio
    tinggi / rendah is ``ratio`` and, as a change of time scale, the effect is proportional
    hazards (hazard ratio ``ratio ** -shape``; ``shape`` 1 for exponential). A share ``rework``
    of cases goes back to intake once and has a second assessment stay (same distribution).
    Other stages follow DISTRIBUTIONS; cases start uniformly in the ``span_days`` before
    ``as_of`` and are censored there. ``truth`` has one row per case (risk, shift, the drawn
    assessment days of the first stay).
    """
    rng = np.random.default_rng(seed)
    as_of_ts = pd.Timestamp(as_of).tz_localize("Asia/Jakarta").tz_convert("UTC")
    end = as_of_ts.value
    start = rng.integers(end - int(span_days * NS_PER_DAY), end, n_cases)
    risk = rng.choice(np.array(["tinggi", "sedang", "rendah"]), n_cases, p=[0.3, 0.4, 0.3])
    shift = rng.choice(np.array(["pagi", "sore"]), n_cases)
    k = 1.0 if distribution == "exponential" else shape
    scale = median / np.log(2) ** (1 / k) * np.where(risk == "tinggi", ratio, 1.0)

    def assess() -> np.ndarray:
        return scale * rng.weibull(k, n_cases)

    first = assess()
    redo = rng.random(n_cases) < rework
    second = assess()
    plan = [
        ("proses_awal", draw_days(rng, "proses_awal", n_cases), np.ones(n_cases, bool)),
        ("asesmen", first, np.ones(n_cases, bool)),
        ("proses_awal", draw_days(rng, "proses_awal", n_cases), redo),
        ("asesmen", second, redo),
        ("analisa_masalah", draw_days(rng, "analisa_masalah", n_cases), np.ones(n_cases, bool)),
        ("intervensi", draw_days(rng, "intervensi", n_cases), np.ones(n_cases, bool)),
        ("terminasi", draw_days(rng, "terminasi", n_cases), np.ones(n_cases, bool)),
    ]
    clock = start.astype(np.int64)
    parts = []
    for stage, days, used in plan:
        parts.append((stage, clock.copy(), used))
        clock = clock + np.where(used, (days * NS_PER_DAY).astype(np.int64), 0)
    parts.append(("ditutup", clock.copy(), np.ones(n_cases, bool)))
    model = StageModel.default()
    width = max(6, len(str(n_cases)))
    case_ids = np.array([f"K{i:0{width}d}" for i in range(n_cases)], dtype=object)
    frames = []
    for order, (stage, when, used) in enumerate(parts):
        idx = np.flatnonzero(used)
        frames.append(
            pd.DataFrame(
                {
                    "case_num": idx,
                    "order": order,
                    "stage": stage,
                    "t": when[idx],
                }
            )
        )
    ev = pd.concat(frames, ignore_index=True).sort_values(["case_num", "order"], kind="stable")
    ev = ev[ev["t"] <= end]  # the future is not in the log
    num = ev["case_num"].to_numpy()
    events = pd.DataFrame(
        {
            "case_id": pd.array(case_ids[num], dtype="string"),
            "stage": pd.Categorical(ev["stage"].to_numpy(), dtype=model.dtype),
            "timestamp": pd.DatetimeIndex(ev["t"].to_numpy().view("datetime64[ns]")).tz_localize(
                "UTC"
            ),
            "risk": pd.array(risk[num], dtype="string"),
            "shift": pd.array(shift[num], dtype="string"),
        }
    ).reset_index(drop=True)
    truth = pd.DataFrame(
        {
            "case_id": pd.array(case_ids, dtype="string"),
            "risk": risk,
            "shift": shift,
            "assessment_days": first,
        }
    )
    return SimLog(events=events, truth=truth, as_of=as_of_ts)
