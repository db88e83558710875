"""The ``pekso`` command line: build reports, re-execute notebooks, regenerate sample data."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pekso_toolkit.core.config import DEFAULT_TZ
from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.datasets import write_sample_files
from pekso_toolkit.report import build_reports, execute_notebook, prepare_dashboard

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pekso",
        description="pekso_toolkit: casework analysis for social work (pekerja sosial).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "report",
        help="run notebooks 02-04 on an event log and write HTML reports",
        description="Run the time-in-stage, supervisor and category notebooks on an event log "
        "and write one HTML report (and executed notebook) per notebook.",
    )
    _data_arguments(rep)
    rep.add_argument("--out", required=True, help="folder for the reports")
    rep.add_argument("--lang", choices=("id", "en"), help="language of messages (default: id)")
    rep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    dash = sub.add_parser(
        "dashboard",
        help="serve the supervisor page (notebook 03) on your data with Voila",
        description="Check the parameters, write the supervisor notebook with them and serve it "
        "with Voila on localhost (Ctrl+C stops it).",
    )
    _data_arguments(dash)
    dash.add_argument(
        "--out", default="reports", help="folder for the dashboard notebook (default: reports)"
    )
    dash.add_argument("--port", type=int, default=8866, help="port on localhost (default 8866)")
    dash.add_argument("--lang", choices=("id", "en"), help="language of messages (default: id)")
    dash.add_argument(
        "--prepare-only", action="store_true", help="write the notebook, do not start Voila"
    )
    run = sub.add_parser("notebooks", help="re-execute notebooks in place (outputs are committed)")
    run.add_argument("paths", nargs="+", help="notebook files")
    data = sub.add_parser("data", help="regenerate the synthetic sample data files")
    data.add_argument("--root", default=".", help="repository root (default: .)")
    return parser


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    """The options naming the user's data, shared by ``report`` and ``dashboard``."""
    parser.add_argument("--events", help="your event-log export (.csv, .xlsx, .xes, ...)")
    parser.add_argument("--store", help="your case store (SQLite file), optional")
    parser.add_argument("--as-of", help="analysis date, YYYY-MM-DD")
    parser.add_argument(
        "--tz", default=DEFAULT_TZ, help="time zone of dates shown: WIB, WITA, WIT or IANA name"
    )
    parser.add_argument(
        "--internal",
        action="store_true",
        help="internal: per-case tables included (never publish)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="use the synthetic sample data (labelled as such)"
    )


def _data_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``build_reports`` / ``prepare_dashboard`` given on the line."""
    names = ("as_of", "out", "store", "tz", "internal", "demo")
    return {name: getattr(args, name) for name in names}


def _serve(path: Path, port: int) -> int:
    """Run Voila on ``path`` (localhost only) until interrupted; returns its exit code."""
    command = [
        sys.executable,
        "-m",
        "voila",
        str(path),
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
    ]
    print(f"dasbor / dashboard: http://127.0.0.1:{port}/  (Ctrl+C: berhenti / stop)", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pekso`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    lang = getattr(args, "lang", None)
    try:
        if args.command == "report":
            results = build_reports(
                args.events, **_data_options(args), progress=not args.no_progress
            )
            for result in results:
                print(f"laporan / report: {result.html}")
        elif args.command == "dashboard":
            path = prepare_dashboard(args.events, **_data_options(args))
            print(f"dasbor / dashboard notebook: {path}")
            if not args.prepare_only:
                return _serve(path, args.port)
        elif args.command == "notebooks":
            for path in args.paths:
                print(f"executing {path} …", flush=True)
                execute_notebook(Path(path), output=Path(path))
        elif args.command == "data":
            for path in write_sample_files(Path(args.root)):
                print(f"wrote {path}")
    except PeksoError as exc:
        print(f"pekso: {exc.message(lang)}", file=sys.stderr)
        return 2
    except Exception as exc:  # one paragraph, never a traceback
        print(
            pick(
                f"pekso: kesalahan tak terduga ({type(exc).__name__}: {exc}). Periksa berkas "
                "dan parameter Anda; jika masalah berlanjut, laporkan pesan ini.",
                f"pekso: unexpected error ({type(exc).__name__}: {exc}). Check your files and "
                "parameters; if it persists, report this message.",
                lang,
            ),
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
