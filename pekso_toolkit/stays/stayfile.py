"""Stays kept in a Parquet file: what ``time_in_stage(..., to=...)`` writes and reads back.

A stays file holds the columns of :func:`pekso_toolkit.stays.durations.time_in_stage` (stage ids
as text, times as UTC) and, in the file's key-value metadata under :data:`METADATA_KEY`, the
``attrs`` of the stays table (``as_of``, ``days``, ``tz``, ``stages``, ``targets``,
``target_unit``) and the stage model's ids, so a summary of the file knows what the in-memory
table would know. Summaries read such a file through the engine, aggregated, never one row per
stay (:func:`pekso_toolkit.stays.summary.stage_summary`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from pekso_toolkit.core.errors import AnalysisError

__all__ = ["METADATA_KEY", "StaysFile", "encode_attrs", "read_stays", "stays_file"]

#: Key of the stays' attrs in the Parquet file's key-value metadata.
METADATA_KEY = "pekso_toolkit.stays"


def encode_attrs(attrs: dict[str, Any], ids: list[str]) -> str:
    """The JSON text kept under :data:`METADATA_KEY`."""
    return json.dumps(
        {
            "as_of": pd.Timestamp(attrs["as_of"]).isoformat(),
            "days": attrs["days"],
            "tz": attrs["tz"],
            "stages": list(attrs["stages"]),
            "targets": {str(k): float(v) for k, v in attrs["targets"].items()},
            "target_unit": attrs["target_unit"],
            "ids": list(ids),
        }
    )


@dataclass(frozen=True)
class StaysFile:
    """A stays file: its path, columns, ``attrs`` and the stage model's ids."""

    path: Path
    columns: list[str]
    attrs: dict[str, Any]
    ids: list[str]

    @property
    def stage_dtype(self) -> pd.CategoricalDtype:
        """The dtype of ``stage`` / ``next_stage`` in memory (every id of the model)."""
        return pd.CategoricalDtype(self.ids, ordered=True)

    def sql(self) -> str:
        """SQL that reads the file."""
        return "read_parquet('" + os.fspath(self.path).replace("'", "''") + "')"


def _not_stays(path: Path, why: str) -> AnalysisError:
    return AnalysisError(
        f"Berkas {path} bukan tabel lama tinggal buatan pk.time_in_stage(..., to=...) ({why}); "
        "buat ulang dengan pk.time_in_stage(kejadian, as_of=..., to='lama_tinggal.parquet').",
        f"The file {path} is not a stays table written by pk.time_in_stage(..., to=...) "
        f"({why}); make it with pk.time_in_stage(events, as_of=..., to='stays.parquet').",
        field="stays",
    )


def stays_file(path: str | os.PathLike[str]) -> StaysFile:
    """Open the description of a stays file (its schema and metadata, not its rows)."""
    where = Path(path)
    if not where.is_file():
        raise AnalysisError(
            f"Berkas lama tinggal {where} tidak ditemukan; periksa jalurnya.",
            f"The stays file {where} was not found; check the path.",
            field="stays",
        )
    try:
        schema = pq.read_schema(where)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise _not_stays(where, f"not Parquet: {exc}") from exc
    raw = (schema.metadata or {}).get(METADATA_KEY.encode())
    if raw is None:
        raise _not_stays(where, "no stays metadata")
    meta = json.loads(raw)
    ids = [str(i) for i in meta.pop("ids")]
    meta["as_of"] = pd.Timestamp(meta["as_of"]).tz_convert("UTC")
    return StaysFile(where, list(schema.names), meta, ids)


def read_stays(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a stays file written by ``time_in_stage(..., to=path)`` into memory.

    Parameters
    ----------
    path : str or path-like
        The Parquet file.

    Returns
    -------
    pandas.DataFrame
        The stays with the columns, dtypes and ``attrs`` documented in
        :func:`pekso_toolkit.stays.durations.time_in_stage` (rows in the file's order). For
        summaries of large files pass the path itself to :func:`stage_summary`, which
        aggregates in the engine instead.
    """
    info = stays_file(path)
    frame = pq.read_table(info.path).to_pandas()
    frame["case_id"] = frame["case_id"].astype("string")
    for col in ("stage", "next_stage"):
        frame[col] = pd.Categorical(frame[col].astype(object), dtype=info.stage_dtype)
    for col in ("entered_at", "left_at"):
        times = pd.to_datetime(frame[col])
        if times.dt.tz is None:
            times = times.dt.tz_localize("UTC")
        frame[col] = times.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    frame["visit"] = frame["visit"].astype("int64")
    frame["days"] = frame["days"].astype(float)
    frame["observed"] = frame["observed"].astype(bool)
    frame.attrs = dict(info.attrs)
    return frame
