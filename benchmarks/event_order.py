"""How long do the analyses that read events in case/time/tie order take on 100,000 cases?

Synthesizes the log of ``analyses_100k.py`` (same seed and ``as_of``) and times only the
analyses whose events are put in order by the stay engine's query (``event_order`` and
``skipped_step`` in ``pekso_toolkit/stays/engine.py``): ``process_map``, ``case_durations``,
``deviations`` (event log) and ``skipped_analysis``. Each figure is the median of ``--repeat``
runs (default 3); the machine and the load average are printed, as in ``analyses_100k.py``.

Run: ``.venv/bin/python benchmarks/event_order.py [--cases 100000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analyses_100k import AS_OF, Timer, load, synthesized_log  # noqa: E402

import pekso_toolkit as pk  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the synthetic log")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args(argv)
    log = synthesized_log(args.cases)
    timed = Timer(args.repeat, once_over=float("inf"))
    timed("process_map", lambda: pk.process_map(log, as_of=AS_OF))
    timed("case_durations", lambda: pk.case_durations(log, as_of=AS_OF))
    timed("deviations (event log)", lambda: pk.deviations(log, as_of=AS_OF))
    timed("skipped_analysis", lambda: pk.skipped_analysis(log, as_of=AS_OF))
    print()
    print(timed.table())
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
