"""Reading agency exports: CSV/TSV, Excel, Parquet and XES files into a raw DataFrame.

Only reading happens here; what the rows mean is decided by :func:`pekso_toolkit.load_events`.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd

from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import normalise_name

__all__ = ["XES_COLUMNS", "read_source", "read_xes", "resolve_column"]

#: Default column names of an XES log (the process-mining convention).
XES_COLUMNS = {"case": "case:concept:name", "stage": "concept:name", "timestamp": "time:timestamp"}


def read_xes(path: str | Path) -> pd.DataFrame:
    """Read an XES 1.0 event log (``.xes`` or ``.xes.gz``) into a flat DataFrame.

    Returns one row per ``<event>`` with every event attribute under its XES key (e.g.
    ``concept:name``, ``time:timestamp``, ``org:resource``) and every trace attribute prefixed
    with ``case:`` (e.g. ``case:concept:name``). Values are kept as the text in the file; nested
    (list/container) attributes are left out.
    """
    path = Path(path)
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    rows: list[dict[str, str]] = []
    trace_events: list[dict[str, str]] = []
    trace_attrs: dict[str, str] = {}
    stack: list[str] = []  # element tags from the root down
    try:
        with opener(path, "rb") as fh:
            for action, elem in ET.iterparse(fh, events=("start", "end")):
                tag = elem.tag.rsplit("}", 1)[-1]
                if action == "start":
                    stack.append(tag)
                    if tag == "trace":
                        trace_events, trace_attrs = [], {}
                    elif tag == "event" and "trace" in stack:
                        trace_events.append({})
                    continue
                stack.pop()
                parent = stack[-1] if stack else ""
                if "key" in elem.attrib and parent in ("event", "trace"):
                    key, value = elem.attrib["key"], elem.attrib.get("value", "")
                    if parent == "event":
                        trace_events[-1][key] = value
                    else:
                        trace_attrs["case:" + key] = value
                elif tag == "trace":
                    for ev in trace_events:
                        rows.append({**trace_attrs, **ev})
                    elem.clear()
    except (ET.ParseError, OSError, EOFError) as exc:
        raise EventLogError(f"{path}: not a readable XES file ({exc})") from None
    if not rows:
        raise EventLogError(f"{path}: the XES file holds no events inside <trace> elements")
    return pd.DataFrame(rows)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, encoding: str | None, notes: list[str]) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise EventLogError(f"{path}: the file is empty; export the data again with its rows")
    if encoding is None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
            notes.append(
                "Berkas bukan UTF-8; dibaca sebagai Windows-1252 / "
                "file is not UTF-8; read as Windows-1252 (pass encoding= to choose)"
            )
    else:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise EventLogError(f"{path}: cannot decode as {encoding!r} ({exc})") from None
    sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(text[:65536])
    if sep != ",":
        notes.append(f"Pemisah kolom / column delimiter: {sep!r}")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,  # blank lines keep their row number, then are left out
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise EventLogError(
            f"{path}: cannot read the file as a table ({exc}); check that every row has the same "
            "number of columns and that quotes are closed"
        ) from None
    return _spreadsheet_rows(frame, notes)


def _spreadsheet_rows(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Number rows as a spreadsheet shows them (header = row 1); leave out empty rows."""
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        notes.append(
            f"{int(blank.sum())} baris kosong dilewati / {int(blank.sum())} empty rows skipped"
        )
        frame = frame[~blank]
    return frame


def read_source(
    source: pd.DataFrame | str | Path, *, encoding: str | None, sheet_name: str | int
) -> tuple[pd.DataFrame, str, list[str]]:
    notes: list[str] = []
    if isinstance(source, pd.DataFrame):
        return source.copy(), "DataFrame", notes
    if not isinstance(source, str | Path):
        raise EventLogError(
            f"source must be a DataFrame or a path to a .csv, .xlsx, .parquet or .xes file, "
            f"not {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        raise EventLogError(f"file not found: {path}")
    if path.is_dir():
        raise EventLogError(f"{path} is a folder; give the path of the export file")
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        frame = read_xes(path)
        frame.index = pd.RangeIndex(1, 1 + len(frame))
    elif name.endswith((".csv", ".tsv", ".txt")):
        frame = _read_csv(path, encoding, notes)
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        if path.stat().st_size == 0:
            raise EventLogError(f"{path}: the file is empty; export the data again with its rows")
        try:
            frame = pd.read_excel(path, sheet_name=sheet_name, dtype=object)
        except (ValueError, OSError, KeyError) as exc:
            raise EventLogError(f"{path}: cannot read the Excel file ({exc})") from None
        frame = _spreadsheet_rows(frame, notes)
    elif name.endswith(".parquet"):
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise EventLogError(f"{path}: cannot read the parquet file ({exc})") from None
        frame.index = pd.RangeIndex(1, 1 + len(frame))
    else:
        raise EventLogError(
            f"{path}: unknown file type {path.suffix!r}; use .csv, .xlsx, .parquet, .xes or .xes.gz"
        )
    return frame, str(path), notes


def resolve_column(frame: pd.DataFrame, wanted: str, role: str, source: str) -> str:
    if wanted in frame.columns:
        return wanted
    folded = {normalise_name(c): c for c in frame.columns}
    if normalise_name(wanted) in folded:
        return str(folded[normalise_name(wanted)])
    close = difflib.get_close_matches(wanted, [str(c) for c in frame.columns], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise EventLogError(
        f"{source}: no column {wanted!r} for the {role}. The columns are: "
        f"{', '.join(repr(str(c)) for c in frame.columns)}.{hint} "
        f"Pass {role}='<column name>' to load_events."
    )
