"""Reading agency exports: CSV/TSV, Excel, Parquet and XES files into a raw DataFrame.

Only reading happens here; what the rows mean is decided by :func:`pekso_toolkit.load_events`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.errors import EventLogError
from pekso_toolkit.core.stages import normalise_name

__all__ = [
    "XES_COLUMNS",
    "RowFlags",
    "read_source",
    "read_xes",
    "refuse_duplicates",
    "resolve_column",
]

#: Default column names of an XES log (the process-mining convention).
XES_COLUMNS = {"case": "case:concept:name", "stage": "concept:name", "timestamp": "time:timestamp"}


_EVENT_TAG = re.compile(rb"<(?:[\w.-]+:)?event[\s/>]")


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
    n_events = 0  # <event> elements started so far
    outside = 0  # the ordinal of an <event> outside every <trace>, if any
    try:
        with opener(path, "rb") as fh:
            for action, elem in ET.iterparse(fh, events=("start", "end")):
                tag = elem.tag.rsplit("}", 1)[-1]
                if action == "start":
                    stack.append(tag)
                    if tag == "trace":
                        trace_events, trace_attrs = [], {}
                    elif tag == "event":
                        n_events += 1
                        if "trace" not in stack:
                            outside = n_events
                            break
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
        raise EventLogError(
            f"{path}: bukan berkas XES yang bisa dibaca ({exc})",
            f"{path}: not a readable XES file ({exc})",
        ) from None
    if outside:
        line = _xes_event_line(path, opener, outside)
        where = f"line {line}" if line else f"event {outside}"
        raise EventLogError(
            f"{path}: <event> di {where} berada di luar <trace>; setiap kejadian harus di dalam "
            "<trace> kasusnya",
            f"{path}: the <event> at {where} is outside a <trace>; every event must be inside "
            "its case's <trace>",
            row=line,
        )
    if not rows:
        raise EventLogError(
            f"{path}: berkas XES tidak memuat kejadian di dalam elemen <trace>",
            f"{path}: the XES file holds no events inside <trace> elements",
        )
    return pd.DataFrame(rows)


def _xes_event_line(path: Path, opener: Any, ordinal: int) -> int | None:
    """The line of the ``ordinal``-th ``<event>`` start tag of a file (None if not found)."""
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            ordinal -= len(_EVENT_TAG.findall(line))
            if ordinal <= 0:
                return number
    return None  # pragma: no cover - the parser saw the tag


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


#: Row flags set while reading: row label -> (status, reason code, detail). ``status`` is
#: ``"rejected"`` or ``"repaired"``; reason codes are those of :data:`eventlog.REASONS`.
RowFlags = dict[Any, tuple[str, str, str]]


def _text_lines(text: str) -> list[str]:
    """Lines ending at \\n, \\r\\n or \\r only (not at the other breaks str.splitlines knows)."""
    if _OTHER_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)  # the same lines, faster
    return list(io.StringIO(text, newline=""))


_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _decode_lines(
    raw: bytes, path: Path, encoding: str | None, notes: list[str]
) -> tuple[list[str], list[str]]:
    """The file's lines as text, and per line ``""``, ``"cp1252"`` or ``"undecodable"``.

    Without ``encoding`` each line is UTF-8 if it can be, else Windows-1252: one stray byte
    never changes how the other lines are read. A line with bytes that Windows-1252 does not
    define either is marked undecodable (its row is rejected).
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise EventLogError(
                f"{path}: tidak bisa dibaca dengan encoding {encoding!r} ({exc})",
                f"{path}: cannot decode as {encoding!r} ({exc})",
                field="encoding",
            ) from None
        lines = _text_lines(text)
        return lines, [""] * len(lines)
    try:
        lines = _text_lines(raw.decode("utf-8"))
        return lines, [""] * len(lines)
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    kinds: list[str] = []
    for line in raw.splitlines(keepends=True):  # bytes: splits at \n, \r and \r\n only
        try:
            out.append(line.decode("utf-8"))
            kinds.append("")
        except UnicodeDecodeError:
            try:
                out.append(line.decode("cp1252"))
                kinds.append("cp1252")
            except UnicodeDecodeError:
                out.append(line.decode("cp1252", errors="replace"))
                kinds.append("undecodable")
    n_other = sum(k != "" for k in kinds)
    notes.append(
        f"{n_other} baris bukan UTF-8; dibaca sebagai Windows-1252 / "
        f"{n_other} lines are not UTF-8; read as Windows-1252 (pass encoding= to choose)"
    )
    return out, kinds


def _header_names(fields: list[str], source: str) -> list[str]:
    """Column names as written (empty ones named ``Unnamed: i``); duplicates refuse the file."""
    names = [f if f != "" else f"Unnamed: {i}" for i, f in enumerate(fields)]
    refuse_duplicates(names, source)
    return names


def refuse_duplicates(names: list[Any], source: str) -> None:
    """Raise :class:`EventLogError` when a column name occurs more than once."""
    counts: dict[str, int] = {}
    for name in names:
        counts[str(name)] = counts.get(str(name), 0) + 1
    dup = [name for name, n in counts.items() if n > 1]
    if dup:
        listed = ", ".join(repr(d) for d in dup)
        raise EventLogError(
            f"{source}: nama kolom ganda {listed}; beri setiap kolom nama sendiri lalu ekspor "
            "ulang",
            f"{source}: duplicate column names {listed}; give every column its own name and "
            "export again",
            field=str(dup[0]),
            row=1,
        )


def _read_csv(path: Path, encoding: str | None, notes: list[str], flags: RowFlags) -> pd.DataFrame:
    """Read a delimited text file row by row.

    Rows are numbered as a spreadsheet shows them (header = row 1). A row whose number of fields
    differs from the header's is rejected (``field_count``), never shifted; a row decoded as
    Windows-1252 is repaired (``decoded_cp1252``); a row with undecodable bytes is rejected
    (``undecodable_text``). Both go into ``flags``.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise EventLogError(
            f"{path}: berkas kosong; ekspor ulang datanya beserta barisnya",
            f"{path}: the file is empty; export the data again with its rows",
        )
    lines, kinds = _decode_lines(raw, path, encoding, notes)
    sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter("".join(lines[:2000])[:65536])
    if sep != ",":
        notes.append(f"Pemisah kolom / column delimiter: {sep!r}")
    plain = _read_plain(lines, kinds, sep, str(path))
    if plain is not None:
        return _spreadsheet_rows(plain, notes, flags)
    reader = csv.reader(lines, delimiter=sep, quotechar='"', doublequote=True, strict=False)
    header = next(reader, [])  # the file is not empty: there is a header
    columns = _header_names(header, str(path))
    width = len(columns)
    after_header = reader.line_num
    records = list(reader)
    if reader.line_num == after_header + len(records):  # one line per record: the usual case
        ends = list(range(after_header, reader.line_num + 1))
    else:  # quoted fields span lines: read again, noting the last line of every record
        reader = csv.reader(lines, delimiter=sep, quotechar='"', doublequote=True, strict=False)
        next(reader)
        ends = [after_header]  # the last line of each record, after the header's
        for _ in reader:
            ends.append(reader.line_num)
    widths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    blank = np.fromiter((not any(r) for r in records), dtype=bool, count=len(records))
    checked = np.array(kinds, dtype=object) != ""
    odd_lines = np.flatnonzero(checked)
    for i in np.flatnonzero((widths != width) & ~blank):
        flags[i + 2] = (
            "rejected",
            "field_count",
            f"{_lines(ends, i)} has {widths[i]} fields, the header has {width}; check the "
            "delimiters and quotes of this row",
        )
        records[i] = [""] * width  # never shifted: the row is left empty and rejected
    for i in np.flatnonzero(blank):
        records[i] = [""] * width  # blank: left out below, with a note
    if len(odd_lines):
        # the record holding each line that is not UTF-8
        for i in np.unique(np.searchsorted(ends, odd_lines + 1, side="left") - 1):
            if i < 0 or blank[i] or (i + 2) in flags:
                continue
            span = kinds[ends[i] : ends[i + 1]]
            if "undecodable" in span:
                flags[i + 2] = (
                    "rejected",
                    "undecodable_text",
                    f"{_lines(ends, i)} holds bytes that are neither UTF-8 nor Windows-1252",
                )
            else:
                flags[i + 2] = (
                    "repaired",
                    "decoded_cp1252",
                    f"{_lines(ends, i)} read as Windows-1252",
                )
    frame = pd.DataFrame(records, columns=range(width), dtype=object)
    frame = frame.mask(frame == "").set_axis(columns, axis=1)
    return _spreadsheet_rows(frame, notes, flags)


def _read_plain(lines: list[str], kinds: list[str], sep: str, name: str) -> pd.DataFrame | None:
    """The fast path of :func:`_read_csv`, for plain files: read by pandas' C parser.

    Plain means: UTF-8 throughout, no quote character and no NUL anywhere, at least two fields,
    and every line after the header holds exactly the header's number of fields. Then every line
    is one row and no row needs a flag, so the rows are exactly those of the row-by-row reader.
    Any other file gives None (read row by row).
    """
    if len(lines) < 2 or any(kinds):
        return None
    header = lines[0].rstrip("\r\n")
    if '"' in header or "\0" in header:
        return None
    columns = _header_names(header.split(sep), name)
    width = len(columns)
    body = lines[1:]
    if width < 2:
        return None
    seps = np.fromiter((line.count(sep) for line in body), dtype=np.int64, count=len(body))
    if (seps != width - 1).any():
        return None
    text = "".join(body)
    if '"' in text or "\0" in text:
        return None
    frame = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        header=None,
        names=list(range(width)),
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=False,
        engine="c",
    )
    if len(frame) != len(body):  # pragma: no cover - one row per line, as checked above
        return None
    return frame.astype(object).set_axis(columns, axis=1)


def _lines(ends: list[int], i: int | np.integer) -> str:
    """``"line 5"`` or ``"lines 5-7"``: the lines of the file record ``i`` spans."""
    first, last = ends[i] + 1, ends[i + 1]
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _spreadsheet_rows(
    frame: pd.DataFrame, notes: list[str], flags: RowFlags | None = None
) -> pd.DataFrame:
    """Number rows as a spreadsheet shows them (header = row 1); leave out empty rows."""
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    blank = frame.isna().all(axis=1).to_numpy() & ~frame.index.isin(list(flags or ()))
    if blank.any():
        notes.append(
            f"{int(blank.sum())} baris kosong dilewati / {int(blank.sum())} empty rows skipped"
        )
        frame = frame[~blank]
    return frame


def read_source(
    source: pd.DataFrame | str | Path, *, encoding: str | None, sheet_name: str | int
) -> tuple[pd.DataFrame, str, list[str], RowFlags]:
    """Read a source into a raw frame: ``(frame, source name, notes, row flags)``.

    The frame's index holds the row numbers the report uses. Duplicate column names refuse the
    file (:func:`refuse_duplicates`); ``row flags`` are rows the reader already repaired or
    rejected (see :func:`_read_csv`).
    """
    notes: list[str] = []
    flags: RowFlags = {}
    if isinstance(source, pd.DataFrame):
        refuse_duplicates(list(source.columns), "DataFrame")
        return source.copy(), "DataFrame", notes, flags
    if not isinstance(source, str | Path):
        raise EventLogError(
            "source harus DataFrame atau path berkas .csv, .xlsx, .parquet atau .xes, bukan "
            f"{type(source).__name__}",
            f"source must be a DataFrame or a path to a .csv, .xlsx, .parquet or .xes file, "
            f"not {type(source).__name__}",
            field="source",
        )
    path = Path(source)
    if not path.exists():
        raise EventLogError(
            f"berkas tidak ditemukan: {path}", f"file not found: {path}", field="source"
        )
    if path.is_dir():
        raise EventLogError(
            f"{path} adalah folder; berikan path berkas ekspornya",
            f"{path} is a folder; give the path of the export file",
            field="source",
        )
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        frame = read_xes(path)
        frame.index = pd.RangeIndex(1, 1 + len(frame))
    elif name.endswith((".csv", ".tsv", ".txt")):
        frame = _read_csv(path, encoding, notes, flags)
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        if path.stat().st_size == 0:
            raise EventLogError(
                f"{path}: berkas kosong; ekspor ulang datanya beserta barisnya",
                f"{path}: the file is empty; export the data again with its rows",
            )
        try:
            frame = pd.read_excel(path, sheet_name=sheet_name, dtype=object, header=None)
        except (ValueError, OSError, KeyError) as exc:
            raise EventLogError(
                f"{path}: berkas Excel tidak bisa dibaca ({exc})",
                f"{path}: cannot read the Excel file ({exc})",
            ) from None
        if len(frame) == 0:
            raise EventLogError(
                f"{path}: lembar kerjanya kosong; ekspor ulang datanya beserta barisnya",
                f"{path}: the sheet is empty; export the data again with its rows",
            )
        # the header is read here, not by pandas, which would rename duplicates to 'x.1'
        columns = [
            f"Unnamed: {i}" if pd.isna(v) else v for i, v in enumerate(frame.iloc[0].tolist())
        ]
        refuse_duplicates(columns, str(path))
        frame = frame.iloc[1:].set_axis(columns, axis=1).reset_index(drop=True)
        frame = _spreadsheet_rows(frame, notes)
    elif name.endswith(".parquet"):
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise EventLogError(
                f"{path}: berkas parquet tidak bisa dibaca ({exc})",
                f"{path}: cannot read the parquet file ({exc})",
            ) from None
        frame.index = pd.RangeIndex(1, 1 + len(frame))
        refuse_duplicates(list(frame.columns), str(path))
    else:
        raise EventLogError(
            f"{path}: jenis berkas {path.suffix!r} tidak dikenal; pakai .csv, .xlsx, .parquet, "
            ".xes atau .xes.gz",
            f"{path}: unknown file type {path.suffix!r}; use .csv, .xlsx, .parquet, .xes or "
            ".xes.gz",
            field="source",
        )
    return frame, str(path), notes, flags


def resolve_column(frame: pd.DataFrame, wanted: str, role: str, source: str) -> str:
    if wanted in frame.columns:
        return wanted
    folded = {normalise_name(c): c for c in frame.columns}
    if normalise_name(wanted) in folded:
        return str(folded[normalise_name(wanted)])
    close = difflib.get_close_matches(wanted, [str(c) for c in frame.columns], n=3, cutoff=0.5)
    names = ", ".join(repr(str(c)) for c in frame.columns)
    guess = ", ".join(repr(c) for c in close)
    hint_id = f" Mungkin maksudnya {guess}?" if close else ""
    hint = f" Did you mean {guess}?" if close else ""
    raise EventLogError(
        f"{source}: tidak ada kolom {wanted!r} untuk {role}. Kolom yang ada: {names}.{hint_id} "
        f"Berikan {role}='<nama kolom>' ke load_events.",
        f"{source}: no column {wanted!r} for the {role}. The columns are: {names}.{hint} "
        f"Pass {role}='<column name>' to load_events.",
        field=role,
    )
