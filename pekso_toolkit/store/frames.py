"""Analysis tables of the case store, computed with SQL and pandas over all cases at once.

These functions read a store connection and never the ``clients`` table. They agree with
:func:`pekso_toolkit.store.fold.fold` case by case (the tests check that), but do not replay each
case in Python, so they stay fast on large imported logs.
"""

from __future__ import annotations

import json
import sqlite3
from itertools import groupby
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.errors import StoreError
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store.fold import analysis_stage, fold, forgotten_item_ids
from pekso_toolkit.store.records import Event
from pekso_toolkit.store.schema import iso_to_series, series_to_iso

__all__ = ["case_frame", "flag_frame", "import_payloads", "problem_frame", "stage_frame"]

#: Events that are not voided by a correction.
NOT_VOIDED = "event_id NOT IN (SELECT voids FROM main.events WHERE voids IS NOT NULL)"
EVENT_COLUMNS = "event_id, case_id, kind, at, recorded_at, recorded_by, payload, stage, voids"
_PROBLEM_KINDS = (
    "problem_added",
    "problem_referred",
    "contract_signed",
    "contract_amended",
    "contract_followed_up",
    "event_corrected",
)


def _string(values: Any) -> pd.Series:
    return pd.Series(values, dtype="string")


def stage_frame(
    conn: sqlite3.Connection, model: StageModel, *, event_ids: bool = True
) -> pd.DataFrame:
    """Every stage entry that is not voided, in ``case_id, event_id`` order.

    Columns: ``event_id`` (int64, only with ``event_ids=True``), ``case_id`` (string), ``stage``
    (ordered Categorical), ``timestamp`` (datetime64[ns, UTC]), ``imported`` (bool: a
    ``stage_imported`` event), ``office``, ``worker``, ``category`` (string; carried by imported
    events only, NA for recorded ones).

    Built for speed on large logs: the case id comes from one row per case, stage codes and the
    import payloads (few distinct ones) are decoded once per distinct value.
    """
    ids = list(model.ids)
    code = "CASE stage " + " ".join(f"WHEN ? THEN {i}" for i in range(len(ids))) + " ELSE -1 END"
    where = f"stage IS NOT NULL AND {NOT_VOIDED}"
    counts = conn.execute(
        f"SELECT case_id, COUNT(*) FROM good_events WHERE {where} "  # noqa: S608 (constant SQL)
        "GROUP BY case_id ORDER BY case_id"
    ).fetchall()
    rows = conn.execute(
        f"SELECT {code}, substr(at, 1, 26), "  # noqa: S608 (constant SQL, values bound)
        "CASE WHEN kind = 'stage_imported' THEN payload END"
        + (", event_id" if event_ids else "")
        + f" FROM good_events WHERE {where} ORDER BY case_id, event_id",
        ids,
    ).fetchall()
    n = len(rows)
    table = np.array(rows, dtype=object).reshape(n, 4 if event_ids else 3)
    del rows
    cols = [table[:, i] for i in range(table.shape[1])]
    case_col, per_case = (list(zip(*counts)) if counts else [(), ()])[:2]
    if sum(per_case) != n:  # pragma: no cover - both queries read one snapshot
        raise StoreError(
            "basis data berubah saat dibaca; coba lagi",
            "the store changed while it was read; try again",
        )
    codes = np.asarray(cols[0], dtype=np.int16)
    if (codes < 0).any():
        stored = conn.execute("SELECT DISTINCT stage FROM good_events WHERE stage IS NOT NULL")
        unknown = sorted(set(r[0] for r in stored) - set(ids))
        raise StoreError(
            f"Basis data memuat tahap yang tidak ada di model tahapan: {unknown[:5]}; buka "
            "dengan model yang dipakai saat mencatat",
            "The store holds stages that are not in the "
            f"stage model: {unknown[:5]}; open it with the model used when recording",
        )
    stamps = cols[1].astype("datetime64[us]")
    payload_codes, payloads = pd.factorize(pd.Series(cols[2], dtype=object))
    parsed = [json.loads(p) for p in payloads]
    frame = pd.DataFrame(
        {
            "case_id": pd.array(
                np.repeat(np.asarray(case_col, dtype=object), np.asarray(per_case, dtype=np.int64)),
                dtype="string",
            ),
            "stage": pd.Categorical.from_codes(codes, dtype=model.dtype),
            "timestamp": pd.DatetimeIndex(stamps.astype("datetime64[ns]")).tz_localize("UTC"),
            "imported": payload_codes >= 0,
        }
    )
    for key in ("office", "worker", "category"):
        values = np.asarray([_text_or_none(p.get(key)) for p in parsed] + [None], dtype=object)
        frame[key] = pd.array(values[payload_codes], dtype="string")
    if event_ids:
        frame.insert(0, "event_id", np.asarray(cols[3], dtype=np.int64))
    return frame


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _events(conn: sqlite3.Connection, where: str, params: tuple[Any, ...] = ()) -> list[Event]:
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM good_events WHERE {where} ORDER BY case_id, event_id",  # noqa: S608
        params,
    ).fetchall()
    return [Event.from_row(r) for r in rows]


def problem_frame(
    conn: sqlite3.Connection, model: StageModel, *, text: bool = False
) -> pd.DataFrame:
    """One row per problem (see :meth:`CaseStore.problems`)."""
    kinds = ", ".join(f"'{k}'" for k in _PROBLEM_KINDS)
    events = _events(
        conn,
        f"kind IN ({kinds}) AND case_id IN "  # noqa: S608 (constant SQL, values bound)
        "(SELECT case_id FROM good_events WHERE kind = 'problem_added')",
    )
    records = []
    for case_id, group in groupby(events, key=lambda e: e.case_id):
        state = fold(group, model)
        for p in state.problems:
            records.append(
                (
                    case_id,
                    p.problem_id,
                    p.category,
                    p.severity,
                    p.scope,
                    p.referred_to,
                    p.n_amendments,
                    p.text,
                )
            )
    columns = [
        "case_id",
        "problem_id",
        "category",
        "severity",
        "scope",
        "referred_to",
        "n_amendments",
        "text",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for col in columns:
        frame[col] = frame[col].astype("int64" if col == "n_amendments" else "string")
    if len(frame):
        number = frame["problem_id"].str.slice(1).astype("int64")
        frame = (
            frame.assign(_n=number)
            .sort_values(["case_id", "_n"], kind="stable")
            .drop(columns="_n")
            .reset_index(drop=True)
        )
    return frame if text else frame.drop(columns="text")


def primary_categories(problems: pd.DataFrame) -> pd.Series:
    """Case id -> category of the main problem: the first in-scope problem with a category, else
    the first problem with a category (problems in recording order)."""
    with_cat = problems[problems["category"].notna()]
    in_scope = (
        with_cat[with_cat["scope"] == "in"].groupby("case_id", sort=False)["category"].first()
    )
    anyone = with_cat.groupby("case_id", sort=False)["category"].first()
    return in_scope.combine_first(anyone)


def _counts(conn: sqlite3.Connection, where: str) -> pd.Series:
    rows = conn.execute(
        f"SELECT case_id, COUNT(*) FROM good_events WHERE {where} GROUP BY case_id"  # noqa: S608
    ).fetchall()
    return pd.Series(dict(rows), dtype="int64")


def recorded_attrs(conn: sqlite3.Connection) -> pd.DataFrame:
    """Office, worker, risk and referral source given at opening: one row per recorded case,
    indexed by case id, with ``opened_at`` and ``event_id``."""
    rows = conn.execute(
        "SELECT case_id, event_id, at, json_extract(payload, '$.office'), "
        "json_extract(payload, '$.worker'), json_extract(payload, '$.risk'), "
        "json_extract(payload, '$.referral_source') FROM good_events WHERE kind = 'case_opened'"
    ).fetchall()
    cols = list(zip(*rows)) if rows else [()] * 7
    return pd.DataFrame(
        {
            "event_id": np.asarray(cols[1], dtype=np.int64),
            "opened_at": iso_to_series(cols[2]).array,
            "office": _string(cols[3]).array,
            "worker": _string(cols[4]).array,
            "risk": _string(cols[5]).array,
            "referral_source": _string(cols[6]).array,
        },
        index=pd.Index(pd.array(cols[0], dtype="string"), name="case_id"),
    )


def case_frame(
    conn: sqlite3.Connection,
    model: StageModel,
    stages: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per case (see :meth:`CaseStore.cases`)."""
    stages = stage_frame(conn, model) if stages is None else stages
    problems = problem_frame(conn, model) if problems is None else problems
    base = conn.execute("SELECT case_id, source FROM live_cases ORDER BY case_id").fetchall()
    ids = pd.Index(pd.array([r[0] for r in base], dtype="string"), name="case_id")
    out = pd.DataFrame({"source": _string([r[1] for r in base]).to_numpy()}, index=ids)
    opened = recorded_attrs(conn)
    # office / worker: given at opening (recorded cases; an import never changes them), else the
    # latest value carried by an import
    imported = stages[stages["imported"]]
    unrecorded = imported[~imported["case_id"].isin(opened.index)]
    who = pd.concat(
        [
            opened[["event_id", "office", "worker"]].reset_index(),
            unrecorded[["case_id", "event_id", "office", "worker"]],
        ],
        ignore_index=True,
    ).sort_values("event_id", kind="stable")
    latest = who.groupby("case_id", sort=False)[["office", "worker"]].last()
    out["office"] = latest["office"].reindex(ids).astype("string")
    out["worker"] = latest["worker"].reindex(ids).astype("string")
    out["risk"] = opened["risk"].reindex(ids)
    out["referral_source"] = opened["referral_source"].reindex(ids)
    by_case = stages.groupby("case_id", sort=False, observed=True)
    last = by_case.tail(1).set_index("case_id")
    first = by_case.head(1).set_index("case_id")
    out["stage"] = last["stage"].reindex(ids)
    out["opened_at"] = opened["opened_at"].reindex(ids).fillna(first["timestamp"].reindex(ids))
    out["stage_entered_at"] = last["timestamp"].reindex(ids)
    out["closed_at"] = out["stage_entered_at"].where(out["stage"] == model.closed_id)
    cats = primary_categories(problems)
    imported_cat = imported.groupby("case_id", sort=False)["category"].last()
    out["primary_category"] = cats.reindex(ids).fillna(imported_cat.reindex(ids)).astype("string")
    out["n_problems"] = _counts(conn, f"kind = 'problem_added' AND {NOT_VOIDED}").reindex(ids)
    out["n_contracts"] = _counts(
        conn, f"kind IN ('contract_signed', 'contract_followed_up') AND {NOT_VOIDED}"
    ).reindex(ids)
    out["n_amendments"] = _counts(conn, f"kind = 'contract_amended' AND {NOT_VOIDED}").reindex(ids)
    reopened = stages[stages["stage"] == model.reopened_id] if model.reopened_id else stages[:0]
    out["n_reopened"] = reopened.groupby("case_id", sort=False).size().reindex(ids)
    out["n_events"] = _counts(conn, "1").reindex(ids)
    for col in ("n_problems", "n_contracts", "n_amendments", "n_reopened", "n_events"):
        out[col] = out[col].fillna(0).astype("int64")
    out = out.reset_index()
    return out[
        [
            "case_id",
            "source",
            "office",
            "worker",
            "risk",
            "referral_source",
            "stage",
            "opened_at",
            "stage_entered_at",
            "closed_at",
            "n_problems",
            "primary_category",
            "n_contracts",
            "n_amendments",
            "n_reopened",
            "n_events",
        ]
    ]


# ------------------------------------------------------------------------------------- flags
def _state_at(moments: pd.DataFrame, ticks: pd.DataFrame, item: str) -> np.ndarray:
    """Whether ``item`` was ticked just before each ``(case_id, event_id)`` of ``moments``."""
    sub = ticks[ticks["item"] == item][["case_id", "event_id", "value"]]
    if not len(moments):
        return np.zeros(0, dtype=bool)
    left = moments[["case_id", "event_id"]].reset_index(drop=True)
    left["_pos"] = np.arange(len(left))
    left = left.sort_values("event_id")
    merged = pd.merge_asof(
        left,
        sub.sort_values("event_id"),
        on="event_id",
        by="case_id",
        allow_exact_matches=False,
        direction="backward",
    )
    value = merged.sort_values("_pos")["value"].to_numpy()
    return np.asarray(pd.Series(value).fillna(0).to_numpy() == 1)


def flag_frame(conn: sqlite3.Connection, model: StageModel) -> pd.DataFrame:
    """Often-forgotten steps per case (see :meth:`CaseStore.flags`)."""
    stages = stage_frame(conn, model)
    cases = case_frame(conn, model, stages=stages)
    recorded = set(
        r[0] for r in conn.execute("SELECT case_id FROM good_events WHERE kind = 'case_opened'")
    )
    stages = stages[stages["case_id"].isin(recorded)]
    rows = conn.execute(
        "SELECT case_id, event_id, json_extract(payload, '$.item'), "  # noqa: S608 (constant SQL, values bound)
        f"kind = 'item_ticked' FROM good_events WHERE kind IN ('item_ticked', 'item_unticked') "
        f"AND {NOT_VOIDED}"
    ).fetchall()
    ticks = pd.DataFrame(rows, columns=["case_id", "event_id", "item", "value"])
    ticks["case_id"] = ticks["case_id"].astype("string")
    ticks["event_id"] = ticks["event_id"].astype("int64")
    ticks["value"] = ticks["value"].astype("float64")
    first = model.helping_stages[0].id
    analysis, intervention, analysis_items = analysis_stage(model)
    forgotten = forgotten_item_ids(model)

    # no_contract_scope: left the first stage before any contract was signed
    leave = stages[~stages["stage"].isin([first, model.reopened_id])]
    first_leave = leave.groupby("case_id", sort=False)["event_id"].min()
    contracts = conn.execute(
        "SELECT case_id, MIN(event_id) FROM good_events WHERE kind IN "  # noqa: S608 (constant SQL, values bound)
        f"('contract_signed', 'contract_followed_up') AND {NOT_VOIDED} "
        "GROUP BY case_id"
    ).fetchall()
    first_contract = pd.Series(dict(contracts), dtype="float64").reindex(first_leave.index)
    no_scope = first_leave.index[~(first_contract < first_leave).fillna(False).to_numpy()]

    # skipped_analysis: entered the stage after the analysis stage without analysis recorded
    skipped: set[str] = set()
    if intervention is not None:
        entries = stages[stages["stage"] == intervention][["case_id", "event_id"]]
        first_analysis = (
            stages[stages["stage"] == analysis].groupby("case_id", sort=False)["event_id"].min()
        )
        before = first_analysis.reindex(entries["case_id"]).to_numpy() < entries["event_id"]
        ticked = np.zeros(len(entries), dtype=bool)
        for item in analysis_items:
            ticked |= _state_at(entries, ticks, item)
        ok = np.asarray(before) & ticked
        skipped = set(entries["case_id"][~ok])

    # closed_without_termination_items: closings with unticked often-forgotten items
    closings = stages[stages["stage"] == model.closed_id][["case_id", "event_id"]]
    closings = closings.reset_index(drop=True)
    missing = pd.DataFrame({item: ~_state_at(closings, ticks, item) for item in forgotten})
    bad = closings[missing.any(axis=1).to_numpy()] if len(forgotten) else closings[:0]
    last_bad = bad.groupby("case_id", sort=False)["event_id"].idxmax()
    items = {
        case: ";".join(i for i in forgotten if missing.at[pos, i]) for case, pos in last_bad.items()
    }

    out = cases[["case_id", "office", "worker", "stage"]].copy()
    out["closed"] = out["stage"] == model.closed_id
    is_rec = out["case_id"].isin(recorded).to_numpy()
    for name, hit in (
        ("no_contract_scope", set(no_scope)),
        ("skipped_analysis", skipped),
        ("closed_without_termination_items", set(items)),
    ):
        values = out["case_id"].isin(hit).to_numpy()
        out[name] = pd.array(np.where(is_rec, values, False), dtype="boolean")
        out.loc[~is_rec, name] = pd.NA
    out["unticked_at_close"] = out["case_id"].map(items).astype("string")
    out["n_flags"] = (
        out[["no_contract_scope", "skipped_analysis", "closed_without_termination_items"]]
        .fillna(False)
        .astype("int64")
        .sum(axis=1)
    )
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------- import
def _json_values(values: pd.Series) -> np.ndarray:
    """JSON literals of a column (``null`` for missing values), vectorised over unique values."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        filled = values.astype("boolean")
        out = np.where(filled.fillna(False).to_numpy(dtype=bool), "true", "false").astype(object)
        out[filled.isna().to_numpy()] = "null"
        return out
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        text = series_to_iso(values.dt.tz_localize("UTC") if values.dt.tz is None else values)
        out = np.asarray([f'"{t}"' for t in text], dtype=object)
        out[values.isna().to_numpy()] = "null"
        return out
    if pd.api.types.is_numeric_dtype(values.dtype):
        num = values.astype("float64").to_numpy()
        finite = np.isfinite(num)
        out = np.full(n, "null", dtype=object)
        if pd.api.types.is_integer_dtype(values.dtype):
            out[finite] = values[finite].astype("int64").astype(str).to_numpy()
        else:
            out[finite] = [repr(float(x)) for x in num[finite]]
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    literals = np.array(
        [json.dumps(str(u), ensure_ascii=False) for u in uniques] + ["null"], dtype=object
    )
    return literals[codes]


def import_payloads(frame: pd.DataFrame) -> list[str]:
    """JSON payloads of imported events: every column besides ``case_id, stage, timestamp``.

    Rows with the same values share one payload, so the JSON is built once per distinct row.
    """
    extra = [c for c in frame.columns if c not in ("case_id", "stage", "timestamp")]
    if not extra:
        return ["{}"] * len(frame)
    try:
        codes = (
            frame[extra].groupby(extra, dropna=False, sort=False, observed=True).ngroup().to_numpy()
        )
    except TypeError:  # unhashable values: one payload per row
        codes = np.arange(len(frame))
    _, first = np.unique(codes, return_index=True)
    distinct = frame[extra].iloc[first]
    payload: np.ndarray = np.full(len(distinct), "{", dtype=object)
    for i, col in enumerate(extra):
        key = ("," if i else "") + json.dumps(str(col), ensure_ascii=False) + ":"
        payload = payload + key + _json_values(distinct[col])
    payload = payload + "}"
    return list(payload[codes].tolist())
