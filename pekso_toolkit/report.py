"""Run the analysis notebooks on any event log and publish them as HTML reports.

Every notebook of the toolkit has a *parameters* cell (tagged ``parameters``, the papermill
convention, and starting with ``# Parameter``). :func:`execute_notebook` runs a notebook with new
values for those parameters, injected in a cell right after it, and :func:`build_reports` does
that for the report notebooks and writes HTML files, with a progress bar.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from tqdm.auto import tqdm

from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.events.eventlog import load_events

__all__ = [
    "REPORT_NOTEBOOKS",
    "ReportError",
    "build_reports",
    "execute_notebook",
    "find_parameters_cell",
    "notebooks_dir",
]

#: The notebooks published as reports, in order.
REPORT_NOTEBOOKS = (
    "02_waktu_per_tahap.ipynb",
    "03_bottleneck_supervisor.ipynb",
    "04_kategori_masalah.ipynb",
)


class ReportError(PeksoError, ValueError):
    """A report could not be built; the message says which parameter or notebook to fix."""


def notebooks_dir() -> Path:
    """The folder of the toolkit's notebooks (``notebooks/`` in the repository)."""
    here = Path(__file__).resolve().parent.parent / "notebooks"
    if not here.is_dir():
        raise ReportError(
            f"the notebooks folder was not found at {here}; run from a checkout of the project"
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
    raise ReportError("the notebook has no parameters cell (tag it 'parameters')")


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
        raise ReportError(f"{path.name}: a cell failed:\n{exc}") from None
    _clean(nb)
    if output is not None:
        nbformat.write(nb, Path(output))
    return nb


@dataclass(frozen=True)
class ReportResult:
    """Paths of one built report: the executed notebook and its HTML page."""

    notebook: Path
    html: Path


def _to_html(nb: nbformat.NotebookNode, target: Path) -> None:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    exporter.exclude_input = True  # readers see narrative, tables and figures, not code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(copy.deepcopy(nb))
    target.write_text(body, encoding="utf-8")


def _check_parameters(events: Path, as_of: str, out: Path) -> str:
    if not events.exists():
        raise ReportError(f"--events: file not found: {events}")
    if events.is_dir():
        raise ReportError(f"--events: {events} is a folder; give the export file")
    try:
        day = dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise ReportError(f"--as-of: {as_of!r} is not a date; write it as YYYY-MM-DD") from None
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out: {out} exists and is not a folder")
    log = load_events(events)  # unreadable files fail here, before any notebook runs
    if log.n_events == 0:
        raise ReportError(f"--events: {events} holds no usable events; see its load report")
    first = log.events["timestamp"].min().date()
    if day < first:
        raise ReportError(
            f"--as-of {day} is before the first event of the log ({first}); pick a later date"
        )
    return day.isoformat()


def build_reports(
    events: str | Path,
    *,
    as_of: str,
    out: str | Path,
    notebooks: Sequence[str] = REPORT_NOTEBOOKS,
    progress: bool = True,
) -> list[ReportResult]:
    """Execute the report notebooks on an event log and write HTML reports.

    Parameters
    ----------
    events : path
        The event-log export (any format :func:`pekso_toolkit.load_events` reads, with the
        default column names ``case_id, stage, timestamp``).
    as_of : str
        Analysis date, ``YYYY-MM-DD``.
    out : path
        Folder for the reports (created when missing).
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
    events, out = Path(events).resolve(), Path(out)
    as_of = _check_parameters(events, as_of, out)
    folder = notebooks_dir()
    missing = [name for name in notebooks if not (folder / name).exists()]
    if missing:
        raise ReportError(f"notebook(s) not found in {folder}: {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    results = []
    bar = tqdm(notebooks, desc="laporan / reports", unit="notebook", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        nb = execute_notebook(
            folder / name, parameters={"EVENTS_PATH": str(events), "AS_OF": as_of}
        )
        stem = Path(name).stem
        nb_path, html_path = out / f"{stem}.ipynb", out / f"{stem}.html"
        nbformat.write(nb, nb_path)
        _to_html(nb, html_path)
        results.append(ReportResult(nb_path, html_path))
    return results
