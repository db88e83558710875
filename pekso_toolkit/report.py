"""Run the analysis notebooks on any event log and publish them as HTML reports.

Every notebook of the toolkit has a *parameters* cell (tagged ``parameters``, the papermill
convention, and starting with ``# Parameter``). :func:`execute_notebook` runs a notebook with new
values for those parameters, injected in a cell right after it, and :func:`build_reports` does
that for the report notebooks and writes HTML files, with a progress bar.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from tqdm.auto import tqdm

from pekso_toolkit.core.config import DEFAULT_TZ, INDONESIAN_TZ
from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.datasets import sample_events_path
from pekso_toolkit.events.eventlog import load_events

__all__ = [
    "REPORT_NOTEBOOKS",
    "ReportError",
    "build_reports",
    "execute_notebook",
    "find_parameters_cell",
    "notebooks_dir",
    "prepare_dashboard",
    "report_parameters",
]

#: The notebooks published as reports, in order.
REPORT_NOTEBOOKS = (
    "02_waktu_per_tahap.ipynb",
    "03_bottleneck_supervisor.ipynb",
    "04_kategori_masalah.ipynb",
)


#: Analysis date of the synthetic sample data (demo mode).
SAMPLE_AS_OF = "2025-06-30"
#: the supervisor notebook served as the dashboard
DASHBOARD_NOTEBOOK = "03_bottleneck_supervisor.ipynb"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ReportError(PeksoError, ValueError):
    """A report could not be built; the message says which parameter or notebook to fix."""


def notebooks_dir() -> Path:
    """The folder of the toolkit's notebooks (``notebooks/`` in the repository)."""
    here = Path(__file__).resolve().parent.parent / "notebooks"
    if not here.is_dir():
        raise ReportError(
            f"folder notebook tidak ditemukan di {here}; jalankan dari salinan (checkout) proyek",
            f"the notebooks folder was not found at {here}; run from a checkout of the project",
        )
    return here


def find_parameters_cell(nb: nbformat.NotebookNode) -> int:
    """Index of the parameters cell: tagged ``parameters`` or starting with ``# Parameter``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags or cell.source.lstrip().lower().startswith("# parameter"):
            return i
    raise ReportError(
        "notebook tidak punya sel parameter (beri tag 'parameters')",
        "the notebook has no parameters cell (tag it 'parameters')",
    )


def _inject(nb: nbformat.NotebookNode, parameters: Mapping[str, Any]) -> None:
    index = find_parameters_cell(nb)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    lines = ["# Parameter yang diberikan / injected parameters"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)


def _clean(nb: nbformat.NotebookNode) -> None:
    """Drop run-specific metadata so committed notebooks stay stable."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = {"tags": tags} if tags else {}
        cell.pop("id", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    nb.nbformat_minor = 4


def execute_notebook(
    path: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    output: str | Path | None = None,
    timeout: int = 900,
    kernel_name: str = "python3",
) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom and return it (and save it when ``output`` is given).

    Parameters
    ----------
    path : path
        The notebook.
    parameters : mapping, optional
        New values for names of the parameters cell; injected in a cell right after it.
    output : path, optional
        Where to save the executed notebook (may be ``path`` itself to update it in place).
    timeout : int
        Seconds allowed per cell.
    kernel_name : str
        Jupyter kernel to run.

    Raises
    ------
    ReportError
        When a cell fails; the message names the notebook and the error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if parameters:
        _inject(nb, parameters)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        # one line, no traceback: the error's name and message (without terminal colours)
        what = _ANSI.sub("", f"{exc.ename}: {exc.evalue}").strip()
        raise ReportError(
            f"{path.name}: laporan tidak dapat dibuat ({what}). Periksa berkas dan parameter "
            "Anda; jika masalah berlanjut, laporkan pesan ini.",
            f"{path.name}: the report could not be built ({what}). Check your files and "
            "parameters; if it persists, report this message.",
        ) from None
    _clean(nb)
    if output is not None:
        nbformat.write(nb, Path(output))
    return nb


@dataclass(frozen=True)
class ReportResult:
    """Paths of one built report: the executed notebook and its HTML page."""

    notebook: Path
    html: Path


def _title(nb: nbformat.NotebookNode) -> str:
    """The report's title: the first heading of the notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "pekso_toolkit"


def _to_html(nb: nbformat.NotebookNode, target: Path) -> None:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    exporter.exclude_input = True  # readers see narrative, tables and figures, not code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(
        copy.deepcopy(nb), resources={"metadata": {"name": _title(nb)}}
    )
    target.write_text(body, encoding="utf-8")


#: How far after the last event the analysis date may lie.
MAX_DAYS_AFTER_LAST_EVENT = 365


def _fail(message_id: str, message_en: str, field: str) -> ReportError:
    return ReportError(message_id, message_en, field=field)


def _check_path(path: Path | None, option: str) -> None:
    if path is None:
        return
    if not path.exists():
        raise _fail(
            f"{option}: berkas {path} tidak ditemukan. Periksa nama dan foldernya.",
            f"{option}: file not found: {path}. Check its name and folder.",
            option,
        )
    if path.is_dir():
        raise _fail(
            f"{option}: {path} adalah folder; berikan berkasnya.",
            f"{option}: {path} is a folder; give the file itself.",
            option,
        )


def _check_parameters(
    events: Path, as_of: str, out: Path, *, store: Path | None = None, tz: str = DEFAULT_TZ
) -> str:
    """Check every parameter before any notebook runs; returns the analysis date."""
    _check_path(events, "--events")
    _check_path(store, "--store")
    try:
        day = dt.date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise _fail(
            f"--as-of: {as_of!r} bukan tanggal. Tulis sebagai TTTT-BB-HH, misalnya 2025-06-30.",
            f"--as-of: {as_of!r} is not a date. Write it as YYYY-MM-DD, e.g. 2025-06-30.",
            "--as-of",
        ) from None
    if out.exists() and not out.is_dir():
        raise _fail(
            f"--out: {out} sudah ada dan bukan folder. Pilih folder lain untuk laporan.",
            f"--out: {out} exists and is not a folder. Choose another folder for the reports.",
            "--out",
        )
    log = load_events(events, tz=tz)  # unreadable files fail here, before any notebook runs
    if log.n_events == 0:
        raise _fail(
            f"--events: tidak ada satu baris pun yang dapat dipakai di {events.name}; semua baris "
            "ditolak. Periksa nama kolom (case_id, stage, timestamp) dan format tanggalnya.",
            f"--events: no row of {events.name} could be used; every row was rejected. Check "
            "the column names (case_id, stage, timestamp) and the date format.",
            "--events",
        )
    stamps = log.events["timestamp"].dt.tz_convert(tz)
    first, last = stamps.min().date(), stamps.max().date()
    if day < first:
        raise _fail(
            f"--as-of {day} jatuh sebelum kejadian pertama dalam data ({first}). Pilih tanggal "
            f"antara {first} dan {last}.",
            f"--as-of {day} is before the first event in the data ({first}). Pick a date "
            f"between {first} and {last}.",
            "--as-of",
        )
    if (day - last).days > MAX_DAYS_AFTER_LAST_EVENT:
        raise _fail(
            f"--as-of {day} lebih dari setahun setelah kejadian terakhir dalam data ({last}). "
            "Apakah ekspornya lengkap? Pilih tanggal ekspor, biasanya tidak lama setelah "
            f"{last}.",
            f"--as-of {day} is more than a year after the last event in the data ({last}). Is "
            f"the export complete? Pick the export date, usually shortly after {last}.",
            "--as-of",
        )
    closed = log.model.closed_id
    if closed is not None and not (log.events["stage"].astype(str) == closed).any():
        raise _fail(
            f"--events: tidak ada satu kasus pun yang ditutup (tahap '{closed}') dalam "
            f"{events.name}. Periksa apakah penutupan kasus ikut diekspor, atau pemetaan nama "
            "tahapnya.",
            f"--events: no case in {events.name} was ever closed (stage '{closed}'). Check "
            "that case closures are part of the export, or the mapping of stage names.",
            "--events",
        )
    return day.isoformat()


def report_parameters(
    events: str | Path | None = None,
    *,
    as_of: str | None = None,
    store: str | Path | None = None,
    tz: str = DEFAULT_TZ,
    internal: bool = False,
    demo: bool = False,
    out: str | Path = ".",
) -> dict[str, Any]:
    """Check the parameters of a report or dashboard and return the notebooks' parameters.

    Everything is checked before any notebook runs (files exist, the analysis date lies in
    the data, some case was closed, some row could be read); see :func:`build_reports`.

    Returns
    -------
    dict
        ``EVENTS_PATH``, ``STORE_PATH``, ``AS_OF``, ``TZ``, ``INTERNAL`` and ``DEMO``, as the
        parameters cell of notebooks 02-04 names them.
    """
    if demo:
        events = events if events is not None else sample_events_path()
        as_of = as_of or SAMPLE_AS_OF
    if events is None or as_of is None:
        raise _fail(
            "Berikan berkas ekspor Anda (--events) dan tanggal analisis (--as-of), atau "
            "--demo untuk melihat contoh dengan data sintetis.",
            "Give your export file (--events) and the analysis date (--as-of), or --demo to "
            "see an example on synthetic data.",
            "--events",
        )
    tz = INDONESIAN_TZ.get(tz.upper(), tz)
    events_path = Path(events).resolve()
    store_path = Path(store).resolve() if store is not None else None
    day = _check_parameters(events_path, as_of, Path(out), store=store_path, tz=tz)
    return {
        "EVENTS_PATH": str(events_path),
        "STORE_PATH": str(store_path) if store_path else None,
        "AS_OF": day,
        "TZ": tz,
        "INTERNAL": internal,
        "DEMO": demo,
    }


def prepare_dashboard(
    events: str | Path | None = None,
    *,
    as_of: str | None = None,
    out: str | Path,
    store: str | Path | None = None,
    tz: str = DEFAULT_TZ,
    internal: bool = False,
    demo: bool = False,
) -> Path:
    """Write the supervisor notebook (03) with the user's parameters, ready for Voila.

    The parameters are checked as for :func:`build_reports`; the notebook is not executed
    here (Voila runs it for each visitor). Without ``internal`` the page shows no per-case
    row, and the explorer's threshold cannot be set below the publication threshold.

    Returns
    -------
    pathlib.Path
        ``out/dashboard.ipynb``.
    """
    parameters = report_parameters(
        events, as_of=as_of, store=store, tz=tz, internal=internal, demo=demo, out=out
    )
    nb = nbformat.read(notebooks_dir() / DASHBOARD_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    _inject(nb, parameters)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "dashboard.ipynb"
    nbformat.write(nb, path)
    return path


def build_reports(
    events: str | Path | None = None,
    *,
    as_of: str | None = None,
    out: str | Path,
    store: str | Path | None = None,
    tz: str = DEFAULT_TZ,
    internal: bool = False,
    demo: bool = False,
    notebooks: Sequence[str] = REPORT_NOTEBOOKS,
    progress: bool = True,
) -> list[ReportResult]:
    """Execute the report notebooks on the user's event log (and case store); write HTML.

    Parameters
    ----------
    events : path
        The event-log export (any format :func:`pekso_toolkit.load_events` reads, with the
        default column names ``case_id, stage, timestamp``). Required unless ``demo``.
    as_of : str
        Analysis date, ``YYYY-MM-DD``; between the first event and a year after the last.
        Required unless ``demo``.
    out : path
        Folder for the reports (created when missing).
    store : path, optional
        The agency's case store (SQLite). Without it the sections that need it are left out,
        with one sentence saying so.
    tz : str
        Time zone of the dates shown (``"WIB"``, ``"WITA"``, ``"WIT"`` or an IANA name).
    internal : bool
        Internal report: per-case tables (case timelines, overdue case lists) are included and
        nothing is suppressed. Never publish it.
    demo : bool
        Use the synthetic sample data (events and store) and label every report as such.
    notebooks : sequence of str
        Notebook file names in the notebooks folder (default: 02, 03 and 04).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ReportResult
        The executed notebook and HTML page of each report.

    Raises
    ------
    ReportError
        On bad parameters (checked before any notebook runs) or a failing notebook.
    """
    parameters = report_parameters(
        events, as_of=as_of, store=store, tz=tz, internal=internal, demo=demo, out=out
    )
    folder = notebooks_dir()
    missing = [name for name in notebooks if not (folder / name).exists()]
    if missing:
        raise ReportError(
            f"notebook tidak ditemukan di {folder}: {', '.join(missing)}",
            f"notebook(s) not found in {folder}: {', '.join(missing)}",
            field="notebooks",
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    bar = tqdm(notebooks, desc="laporan / reports", unit="notebook", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        nb = execute_notebook(folder / name, parameters=parameters)
        stem = Path(name).stem
        nb_path, html_path = out / f"{stem}.ipynb", out / f"{stem}.html"
        nbformat.write(nb, nb_path)
        _to_html(nb, html_path)
        results.append(ReportResult(nb_path, html_path))
    return results
