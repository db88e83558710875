"""pekso_toolkit: casework analysis for Indonesian social work (pekerja sosial) in Jupyter.

Data flows one way: case store or agency export -> canonical event log (:func:`load_events`) ->
stays (:func:`time_in_stage`) -> summaries (:func:`stage_summary`, :func:`stage_exits`,
:func:`bottlenecks`, ...) -> plots, widgets and notebooks. ``import pekso_toolkit as pk`` gives
the whole public API; ``pk.widgets`` holds the notebook widgets and ``pk.datasets`` the sample
data.
"""

from __future__ import annotations

from typing import Any

from pekso_toolkit import datasets
from pekso_toolkit.categories.analysis import (
    ScopeCoverage,
    category_summary,
    join_categories,
    scope_coverage,
)
from pekso_toolkit.categories.classifier import (
    ProblemClassifier,
    SuggestionEvaluation,
    evaluate_suggestions,
)
from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import (
    AnalysisError,
    EventLogError,
    PeksoError,
    PracticeRuleError,
    StageModelError,
    StoreError,
    TaxonomyError,
)
from pekso_toolkit.core.i18n import get_language, set_language
from pekso_toolkit.core.stages import ChecklistItem, Stage, StageModel
from pekso_toolkit.datasets import load_problem_statements
from pekso_toolkit.events.eventlog import EventLog, LoadReport, load_events, read_xes
from pekso_toolkit.plotting import (
    plot_bottlenecks,
    plot_case_timeline,
    plot_dotted_chart,
    plot_process_map,
    plot_stage_durations,
    plot_stage_exits,
    plot_survival,
    plot_wip,
)
from pekso_toolkit.publish.disclosure import suppress_small_cells
from pekso_toolkit.publish.display import column_label, readable_tables, show_table
from pekso_toolkit.publish.gate import PublicationError, publish
from pekso_toolkit.publish.pseudonym import pseudonymise
from pekso_toolkit.stays.conformance import (
    contract_checks,
    deviation_summary,
    deviations,
    forgotten_steps,
)
from pekso_toolkit.stays.drivers import compare_groups, stage_drivers
from pekso_toolkit.stays.durations import read_stays, time_in_stage, working_days
from pekso_toolkit.stays.exits import exit_fits, stage_exits
from pekso_toolkit.stays.flow import transitions, wip
from pekso_toolkit.stays.process import case_durations, process_map
from pekso_toolkit.stays.summary import bottlenecks, stage_summary, survival_fits
from pekso_toolkit.stays.supervision import (
    censoring_bias,
    forgotten_summary,
    overdue_cases,
    skipped_analysis,
)
from pekso_toolkit.stays.worklist import worklist
from pekso_toolkit.store.casestore import CaseStore, RecordError
from pekso_toolkit.store.state import CaseState

__version__ = "0.1.0"

__all__ = [
    "AnalysisError",
    "CaseState",
    "CaseStore",
    "ChecklistItem",
    "EventLog",
    "EventLogError",
    "LoadReport",
    "PeksoError",
    "PracticeRuleError",
    "ProblemClassifier",
    "PublicationError",
    "RecordError",
    "ScopeCoverage",
    "Stage",
    "StageModel",
    "StageModelError",
    "StoreError",
    "SuggestionEvaluation",
    "Taxonomy",
    "TaxonomyError",
    "bottlenecks",
    "case_durations",
    "category_summary",
    "censoring_bias",
    "compare_groups",
    "contract_checks",
    "datasets",
    "deviation_summary",
    "deviations",
    "evaluate_suggestions",
    "exit_fits",
    "forgotten_steps",
    "forgotten_summary",
    "get_language",
    "join_categories",
    "load_events",
    "load_problem_statements",
    "overdue_cases",
    "plot_bottlenecks",
    "plot_case_timeline",
    "plot_dotted_chart",
    "plot_process_map",
    "plot_stage_durations",
    "plot_stage_exits",
    "plot_survival",
    "plot_wip",
    "process_map",
    "pseudonymise",
    "publish",
    "show_table",
    "readable_tables",
    "column_label",
    "read_stays",
    "read_xes",
    "scope_coverage",
    "set_language",
    "skipped_analysis",
    "stage_drivers",
    "stage_exits",
    "stage_summary",
    "suppress_small_cells",
    "survival_fits",
    "time_in_stage",
    "transitions",
    "widgets",
    "wip",
    "working_days",
    "worklist",
]


def __getattr__(name: str) -> Any:
    # ipywidgets is imported only when the widgets are used
    if name == "widgets":
        import importlib

        return importlib.import_module("pekso_toolkit.widgets")
    raise AttributeError(f"module 'pekso_toolkit' has no attribute {name!r}")
