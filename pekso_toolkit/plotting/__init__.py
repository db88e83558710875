"""Drawing: ``plot_*(data, *, ..., ax=None) -> Axes``; figures are computed elsewhere."""

from pekso_toolkit.plotting.process import plot_dotted_chart, plot_process_map
from pekso_toolkit.plotting.stays import (
    plot_bottlenecks,
    plot_case_timeline,
    plot_stage_durations,
    plot_stage_exits,
    plot_survival,
    plot_wip,
)

__all__ = [
    "plot_bottlenecks",
    "plot_case_timeline",
    "plot_dotted_chart",
    "plot_process_map",
    "plot_stage_durations",
    "plot_stage_exits",
    "plot_survival",
    "plot_wip",
]
