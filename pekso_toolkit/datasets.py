"""Sample data: a seeded generator of realistic synthetic casework, and the committed sample log.

Everything here is synthetic: no real person, office or case is described. Run
``pekso data`` (or ``make data``) to regenerate the sample files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.times import localise, to_utc
from pekso_toolkit.events.eventlog import EventLog, load_events
from pekso_toolkit.store.casestore import CaseStore

__all__ = [
    "load_problem_statements",
    "SAMPLE_AS_OF",
    "SAMPLE_N_CASES",
    "SAMPLE_SEED",
    "load_sample_events",
    "sample_csv_text",
    "sample_events_path",
    "synthesize",
    "synthesize_frame",
    "synthesize_store",
    "agency_export_frame",
]

#: Parameters of the committed sample (``data/sample_events.csv``).
SAMPLE_N_CASES = 3000
SAMPLE_SEED = 20240817
SAMPLE_AS_OF = "2025-06-30"

OFFICES = ("Kota Bandung", "Kab. Garut", "Kota Bekasi", "Kab. Cianjur")
_OFFICE_CODES = ("BDG", "GRT", "BKS", "CJR")
#: relative caseload of each office
_OFFICE_WEIGHTS = (0.35, 0.2, 0.3, 0.15)
#: office x stage slowness (multiplies the stage's median): Kab. Garut is slow in intervention,
#: Kota Bekasi in assessment
_OFFICE_SLOWNESS = {
    "Kota Bandung": (1.0, 1.0, 1.0, 1.0, 1.0),
    "Kab. Garut": (1.1, 1.0, 1.2, 1.8, 1.0),
    "Kota Bekasi": (1.0, 1.7, 1.0, 1.0, 1.1),
    "Kab. Cianjur": (1.2, 1.1, 1.0, 1.1, 1.3),
}
HELPING = ("proses_awal", "asesmen", "analisa_masalah", "intervensi", "terminasi")
#: median days per helping stage (calendar days) and log-normal spread: long right tails
STAGE_MEDIAN_DAYS = (5.0, 12.0, 6.0, 45.0, 20.0)
STAGE_SIGMA = (0.7, 0.8, 0.8, 0.7, 0.8)

#: PPKS categories and their share of cases (a plausible Dinas Sosial caseload)
CATEGORY_WEIGHTS: dict[str, float] = {
    "AT": 6,
    "ABT": 2,
    "ABH": 5,
    "AJ": 4,
    "ADK": 4,
    "AKTK": 8,
    "AMPK": 3,
    "LUT": 9,
    "PD": 7,
    "TS": 1,
    "GLD": 3,
    "PGM": 3,
    "PML": 2,
    "KM": 1,
    "BWBLP": 2,
    "ODHA": 2,
    "NAPZA": 3,
    "KTR": 2,
    "KTK": 6,
    "PMBS": 2,
    "KBA": 3,
    "KBS": 1,
    "PRSE": 4,
    "FM": 10,
    "KBSP": 6,
    "KAT": 1,
}
#: categories whose interventions take longer (multiplier on the intervention stage)
_CATEGORY_SLOWNESS = {"ODHA": 1.5, "NAPZA": 1.6, "KTR": 1.4, "ADK": 1.3, "PD": 1.3, "KAT": 1.5}


@dataclass(frozen=True)
class _Rates:
    skip_analysis: float = 0.15  # moves from assessment straight to intervention
    rework: float = 0.08  # back from intervention to assessment once
    dropout: float = 0.05  # closed early, from assessment or intervention
    reopen: float = 0.06  # closed cases reopened later
    date_only: float = 0.45  # cases recorded with dates only (no time of day)
    same_day_intake: float = 0.2  # intake and assessment on the same day


def synthesize_frame(
    n_cases: int, *, seed: int, as_of: str | pd.Timestamp, years: float = 2.0
) -> pd.DataFrame:
    """Generate a raw agency-style export of synthetic casework (one row per stage entry).

    Parameters
    ----------
    n_cases : int
        Number of cases.
    seed : int
        Random seed: the same arguments always give the same frame.
    as_of : str or Timestamp
        Extract date: cases are opened during the ``years`` before it, and nothing after it is
        recorded, so cases still in progress on that date are open.
    years : float
        Span of case openings before ``as_of``.

    Returns
    -------
    pandas.DataFrame
        ``case_id, stage, timestamp, office, worker, category, risk``. ``timestamp`` is local
        (Asia/Jakarta) text as agencies export it: ``YYYY-MM-DD HH:MM``, or ``YYYY-MM-DD`` for cases
        recorded with dates only. ``category`` is a PPKS code; ``risk`` is tinggi / sedang / rendah.
    """
    if n_cases < 1:
        raise ValueError("n_cases must be at least 1")
    rng = np.random.default_rng(seed)
    rates = _Rates()
    end = to_utc(as_of, tz=DEFAULT_TZ).tz_convert(DEFAULT_TZ)
    start = (end - pd.Timedelta(days=365.25 * years)).normalize()
    span_days = (end - start).days

    office_idx = rng.choice(len(OFFICES), size=n_cases, p=_OFFICE_WEIGHTS)
    cats = np.array(list(CATEGORY_WEIGHTS))
    weights = np.array(list(CATEGORY_WEIGHTS.values()), dtype=float)
    category = rng.choice(cats, size=n_cases, p=weights / weights.sum())
    risk = rng.choice(["tinggi", "sedang", "rendah"], size=n_cases, p=[0.2, 0.5, 0.3])
    worker_no = rng.integers(1, 5, size=n_cases)  # 4 workers per office
    opened_day = np.sort(rng.uniform(0, span_days, size=n_cases))
    date_only = rng.random(n_cases) < rates.date_only

    rows: list[tuple[str, str, pd.Timestamp, int, str, str, bool]] = []
    width = len(str(n_cases))
    for i in range(n_cases):
        office = OFFICES[office_idx[i]]
        case_id = f"{_OFFICE_CODES[office_idx[i]]}-{i + 1:0{width}d}"
        slow = _OFFICE_SLOWNESS[office]
        # working hours: 08:00-16:00 local
        t = start + pd.Timedelta(days=float(np.floor(opened_day[i])), hours=8 + 8 * rng.random())

        def dwell(
            stage_pos: int, factor: float = 1.0, _i: int = i, _slow: tuple[float, ...] = slow
        ) -> pd.Timedelta:
            median = STAGE_MEDIAN_DAYS[stage_pos] * _slow[stage_pos] * factor
            if stage_pos == 3:
                median *= _CATEGORY_SLOWNESS.get(str(category[_i]), 1.0)
            if risk[_i] == "tinggi" and stage_pos == 0:
                median *= 0.5
            days = rng.lognormal(np.log(median), STAGE_SIGMA[stage_pos])
            return pd.Timedelta(days=float(days))

        path: list[str] = ["proses_awal", "asesmen"]
        if rng.random() >= rates.skip_analysis:
            path.append("analisa_masalah")
        path.append("intervensi")
        if rng.random() < rates.rework:
            path += ["asesmen", "analisa_masalah", "intervensi"]
        path.append("terminasi")
        if rng.random() < rates.dropout:
            cut = int(rng.integers(2, len(path)))
            path = path[:cut]
        path.append("ditutup")
        if rng.random() < rates.reopen:
            path += ["dibuka_kembali", "asesmen", "intervensi", "terminasi", "ditutup"]

        visits: dict[str, int] = {}
        for pos, stage in enumerate(path):
            rows.append(
                (
                    case_id,
                    stage,
                    t,
                    int(office_idx[i]),
                    str(category[i]),
                    str(risk[i]),
                    date_only[i],
                )
            )
            if stage == "ditutup":
                if pos + 1 < len(path):  # a reopening follows after a quiet period
                    t = t + pd.Timedelta(days=float(rng.uniform(20, 120)))
                continue
            if stage == "dibuka_kembali":
                continue  # the next stage is entered the same day
            visits[stage] = visits.get(stage, 0) + 1
            k = HELPING.index(stage)
            if stage == "proses_awal" and rng.random() < rates.same_day_intake:
                step = pd.Timedelta(hours=float(rng.uniform(0.5, 3)))
            else:
                step = dwell(k, factor=0.6 if visits[stage] > 1 else 1.0)
            t = t + step
            if t.hour >= 16 or t.hour < 8:  # work happens in office hours
                t = t.normalize() + pd.Timedelta(days=1, hours=8 + float(rng.uniform(0, 2)))

    frame = pd.DataFrame(
        rows, columns=["case_id", "stage", "time", "office_idx", "category", "risk", "date_only"]
    )
    frame = frame[frame["time"] <= end].reset_index(drop=True)
    frame["office"] = np.array(OFFICES)[frame["office_idx"].to_numpy()]
    # the worker is fixed per case
    case_worker = pd.Series(worker_no, index=[f"{i + 1:0{width}d}" for i in range(n_cases)])
    numbers = frame["case_id"].str.split("-").str[1]
    codes = np.array(_OFFICE_CODES)[frame["office_idx"].to_numpy()]
    frame["worker"] = [f"PS-{c}-{w:02d}" for c, w in zip(codes, case_worker.loc[numbers])]
    local = frame["time"].dt.tz_convert(DEFAULT_TZ)
    frame["timestamp"] = np.where(
        frame["date_only"], local.dt.strftime("%Y-%m-%d"), local.dt.strftime("%Y-%m-%d %H:%M")
    )
    return frame[["case_id", "stage", "timestamp", "office", "worker", "category", "risk"]]


def synthesize(
    n_cases: int, *, seed: int, as_of: str | pd.Timestamp, years: float = 2.0
) -> EventLog:
    """Generate synthetic casework as a canonical :class:`EventLog`.

    The cases come from four offices (each with four workers), carry one PPKS problem category
    each, and show what real casework shows: stage durations with long right tails (log-normal),
    one office slow in assessment and another in intervention, skipped analysis (about 15%),
    rework back to assessment (about 8%), early closures, reopened cases, cases recorded with dates
    only (so several events share a day), and cases still open at ``as_of``.

    Parameters
    ----------
    n_cases : int
        Number of cases.
    seed : int
        Random seed.
    as_of : str or Timestamp
        Extract date (read in Asia/Jakarta when naive).
    years : float
        Span of case openings before ``as_of``.

    Returns
    -------
    EventLog
        Columns ``case_id, stage, timestamp, office, worker, category, risk``.
    """
    return load_events(synthesize_frame(n_cases, seed=seed, as_of=as_of, years=years))


_REFERRALS = ("Puskesmas", "Kelurahan", "Sekolah", "Kepolisian", "Keluarga", "Datang sendiri")
_SECOND_PROBLEM = {"AT": "FM", "AJ": "AT", "LUT": "FM", "KTK": "KBSP", "AKTK": "KBSP", "PD": "FM"}


def synthesize_store(
    path: str | Path,
    n_cases: int = 400,
    *,
    seed: int,
    as_of: str | pd.Timestamp,
    years: float = 1.5,
) -> CaseStore:
    """Record synthetic casework into a new :class:`~pekso_toolkit.store.CaseStore`.

    The cases follow the same generator as :func:`synthesize_frame` (stage paths, durations,
    offices, workers, PPKS categories), and are recorded through the store's own recording API
    the way a worker would: intake, problems (texts from the bundled problem statements),
    the service contract, checklist ticks, stage changes, amendments, referrals, closures with a
    termination contract and reopenings. Some workers forget what the practice says is often
    forgotten: about 12% of cases leave intake without a signed contract, analysis items are left
    unticked in about 20% of analyses, and the termination-contract item is left unticked in
    about 15% of closures; so :meth:`CaseStore.flags` has something to count.

    Parameters
    ----------
    path : str or Path
        The new store file (must not exist yet; ``":memory:"`` for a throw-away store).
    n_cases : int
        Number of cases (about 60 recording calls per second per case are needed; 400 cases take
        a few seconds).
    seed : int
        Random seed.
    as_of : str or Timestamp
        The store's clock: nothing is recorded after this moment.
    years : float
        Span of case openings before ``as_of``.

    Returns
    -------
    CaseStore
        The store, open.
    """
    if str(path) != ":memory:" and Path(path).exists():
        raise FileExistsError(f"{path} exists already; synthesize_store only fills a new store")
    frame = synthesize_frame(n_cases, seed=seed, as_of=as_of, years=years)
    rng = np.random.default_rng(seed + 1)
    end = to_utc(as_of, tz=DEFAULT_TZ).tz_convert(DEFAULT_TZ)
    end_utc = to_utc(end).to_pydatetime()
    statements = load_problem_statements()
    statements = statements[statements["split"] == "train"]
    texts = {code: list(grp["text"]) for code, grp in statements.groupby("code")}
    store = CaseStore(path, clock=lambda: end_utc)
    when = localise(pd.to_datetime(frame["timestamp"], format="ISO8601"), DEFAULT_TZ)
    frame["when"] = when.dt.tz_convert(DEFAULT_TZ)
    model = store.model
    stage_items = {s.id: [i.id for i in s.checklist] for s in model.helping_stages}

    def moment(t: pd.Timestamp) -> datetime:
        return min(t, end).floor("s").to_pydatetime()

    for case_no, (_, events) in enumerate(frame.groupby("case_id", sort=False)):
        first = events.iloc[0]
        whens = list(events["when"])
        stages = list(events["stage"])
        category = str(first["category"])
        case_id = store.open_case(
            f"klien-{case_no + 1:05d}",
            office=str(first["office"]),
            worker=str(first["worker"]),
            risk=str(first["risk"]),
            referral_source=str(rng.choice(_REFERRALS)),
            story="(cerita sintetis / synthetic story)",
            at=moment(whens[0]),
            by=str(first["worker"]),
        )
        by = str(first["worker"])
        codes = [category]
        if rng.random() < 0.5:
            codes.append(_SECOND_PROBLEM.get(category, "FM" if category != "FM" else "KBSP"))
        problems = []
        for code in codes:
            pool = texts.get(code) or ["(masalah)"]
            problems.append(
                store.add_problem(
                    case_id,
                    str(rng.choice(pool)),
                    category=code,
                    severity=str(rng.choice(["tinggi", "sedang", "rendah"])),
                    at=moment(whens[0]),
                    by=by,
                )
            )
        forget_contract = rng.random() < 0.12
        forget_analysis = 0.0 if rng.random() < 0.2 else 0.95
        ticked: set[str] = set()
        signed = False
        in_scope: list[str] = []
        for pos, stage in enumerate(stages):
            t0 = whens[pos]
            t1 = whens[pos + 1] if pos + 1 < len(whens) else end
            if t0 > end:
                break
            if stage in stage_items:
                if pos > 0:
                    store.enter_stage(case_id, stage, at=moment(t0), by=by)
                span = max((t1 - t0).total_seconds(), 60.0)
                at = t0 + pd.Timedelta(seconds=float(rng.uniform(0.1, 0.9)) * span)
                if stage == "proses_awal" and not forget_contract:
                    store.sign_contract(
                        case_id,
                        in_scope=problems[:1],
                        out_of_scope=problems[1:],
                        capacity_note="Kapasitas cukup untuk masalah utama",
                        at=moment(at),
                        by=by,
                    )
                    signed, in_scope = True, problems[:1]
                    for problem in problems[1:]:
                        if rng.random() < 0.6:
                            store.refer(
                                case_id, problem, to="Dinas Kesehatan", at=moment(at), by=by
                            )
                if stage == "asesmen" and not signed:
                    store.sign_contract(
                        case_id,
                        in_scope=problems,
                        capacity_note="Kontrak ditandatangani terlambat",
                        at=moment(at),
                        by=by,
                    )
                    signed, in_scope = True, list(problems)
                if stage == "analisa_masalah" and len(in_scope) < len(problems):
                    if rng.random() < 0.3:
                        store.amend_contract(
                            case_id,
                            add=problems[1:],
                            client_agreed=True,
                            reason="Klien setuju menambah masalah kedua ke cakupan",
                            at=moment(at),
                            by=by,
                        )
                        in_scope = list(problems)
                for item in stage_items[stage]:
                    if item in ticked:
                        continue
                    _, spec = model.item(item)
                    if spec.forgotten is None:
                        p = 0.5  # routine items: recorded about half the time
                    elif spec.forgotten == "contract_boundaries":
                        p = 0.0 if forget_contract else 0.95
                    elif spec.forgotten == "analysis":
                        p = forget_analysis
                    else:
                        p = 0.85
                    if rng.random() < p:
                        store.tick(case_id, item, at=moment(at), by=by)
                        ticked.add(item)
            elif stage == "ditutup":
                store.close_case(
                    case_id,
                    termination_contract="Kontrak pengakhiran layanan ditandatangani",
                    reason="Tujuan layanan tercapai",
                    at=moment(t0),
                    by=by,
                )
            elif stage == "dibuka_kembali":
                store.reopen(case_id, reason="Masalah muncul kembali", at=moment(t0), by=by)
    return store


#: How a typical agency names things in its own export (for the bring-your-own-data example).
AGENCY_COLUMNS = {"case_id": "No. Kasus", "stage": "Tahapan", "timestamp": "Tanggal"}
AGENCY_STAGE_NAMES = {
    "proses_awal": "Penjangkauan",
    "asesmen": "Asesmen ",
    "analisa_masalah": "Analisis Kebutuhan",
    "intervensi": "Rencana Kasus",
    "terminasi": "Terminasi",
    "ditutup": "Kasus Ditutup",
    "dibuka_kembali": "dibuka kembali",
}


def agency_export_frame(
    n_cases: int = 600, *, seed: int, as_of: str | pd.Timestamp
) -> pd.DataFrame:
    """A synthetic export the way agencies send them: their own names, dates and mistakes.

    Columns are named ``No. Kasus, Tahapan, Tanggal, Kantor, Petugas, Kategori``; stages use the
    agency's own words (some match the stage model's aliases, others need a ``stage_map``);
    dates are day-first (``DD/MM/YYYY``, some with ``HH:MM``); and a few rows carry what real
    exports carry: a copied row, a blank case number, a stage nobody knows, an impossible date.
    """
    frame = synthesize_frame(n_cases, seed=seed, as_of=as_of)
    rng = np.random.default_rng(seed + 2)
    when = pd.to_datetime(frame["timestamp"], format="ISO8601")
    has_time = frame["timestamp"].str.len() > 10
    out = pd.DataFrame(
        {
            "No. Kasus": frame["case_id"],
            "Tahapan": frame["stage"].map(AGENCY_STAGE_NAMES),
            "Tanggal": np.where(
                has_time, when.dt.strftime("%d/%m/%Y %H:%M"), when.dt.strftime("%d/%m/%Y")
            ),
            "Kantor": frame["office"],
            "Petugas": frame["worker"],
            "Kategori": frame["category"],
        }
    )
    picks = rng.choice(len(out), size=4, replace=False)
    broken = out.iloc[picks].copy()
    broken.iloc[0, 1] = "Konsultasi"  # a stage that is not in the model
    broken.iloc[1, 0] = ""  # the case number was not filled in
    broken.iloc[2, 2] = "31/02/2024"  # no such day
    out = pd.concat([out, broken, out.iloc[[int(picks[3])]]], ignore_index=True)  # + a copy
    return out.sort_values("No. Kasus", kind="stable").reset_index(drop=True)


def sample_events_path() -> Path:
    """Path of the committed sample export shipped with the package (a CSV file)."""
    return Path(str(resources.files("pekso_toolkit").joinpath("data/sample_events.csv")))


def load_sample_events() -> EventLog:
    """The committed synthetic sample log (3,000 cases extracted on 2025-06-30) as an EventLog.

    The same file is ``data/sample_events.csv`` in the repository; it is made by
    :func:`synthesize_frame` with ``SAMPLE_N_CASES``, ``SAMPLE_SEED`` and ``SAMPLE_AS_OF``.
    """
    return load_events(sample_events_path())


def sample_csv_text() -> str:
    """The sample export as CSV text, exactly as committed."""
    frame = synthesize_frame(SAMPLE_N_CASES, seed=SAMPLE_SEED, as_of=SAMPLE_AS_OF)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def agency_export_text() -> str:
    """The bring-your-own-data example (``data/contoh_ekspor_dinas.csv``), ``;``-separated."""
    frame = agency_export_frame(600, seed=SAMPLE_SEED + 1, as_of=SAMPLE_AS_OF)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, sep=";", lineterminator="\n")
    return buf.getvalue()


def write_sample_files(root: Path) -> list[Path]:
    """Write the sample files under ``root/data`` (and the package copy); return their paths."""
    text = sample_csv_text()
    written = []
    for path in (root / "data" / "sample_events.csv", sample_events_path()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    agency = root / "data" / "contoh_ekspor_dinas.csv"
    agency.write_text(agency_export_text(), encoding="utf-8", newline="")
    written.append(agency)
    return written


def load_problem_statements() -> pd.DataFrame:
    """The bundled labelled problem statements (written for this toolkit; no real clients).

    Returns
    -------
    DataFrame
        752 rows: ``statement_id``, ``text`` (Bahasa Indonesia incl. informal and regional
        spellings, or English), ``code`` (PPKS leaf code), ``alt_code`` (a second acceptable code
        or <NA>), ``lang`` (``"id"`` or ``"en"``), ``split`` (``"train"`` / ``"test"``, fixed:
        156 test statements, 30 % of the first 494 stratified by code; the later statements
        ``ps495``-``ps752`` extend the training data). All columns have the pandas ``"string"``
        dtype.
    """
    path = resources.files("pekso_toolkit") / "data" / "problem_statements.csv"
    with path.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype="string", keep_default_na=False)
    frame["alt_code"] = frame["alt_code"].mask(frame["alt_code"] == "")
    return frame
