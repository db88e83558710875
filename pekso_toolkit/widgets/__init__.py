"""Notebook widgets: thin views over the case store and the stage analyses.

The store is the only state: each widget re-reads it (``refresh()``) after every write made by
any widget on the same store, so two widgets on one case always agree. Labels are in Bahasa
Indonesia unless :func:`pekso_toolkit.set_language` chose English; every piece of user text
shown as HTML is escaped.

* :class:`CaseWorkspace` -- the store's location, a case picker, the chosen case's widgets
* :class:`IntakeForm` -- open a case and record its problems (with category suggestions)
* :class:`StageChecklist` -- the current stage's checklist; move to the next stage
* :class:`ContractEditor` -- contract scope, amendments, referrals, termination, follow-up
* :class:`CaseBoard` -- open cases by stage, days in stage, overdue highlighted
* :class:`BottleneckExplorer` -- time in stage by office, worker, category or month
* :class:`WorklistView` -- the supervisor's worklist (internal only)
* :func:`supervisor_view` -- case board and worklist in one call (shown only when internal)
"""

from pekso_toolkit.widgets._common import notify, subscribe
from pekso_toolkit.widgets.board import CaseBoard
from pekso_toolkit.widgets.checklist import StageChecklist
from pekso_toolkit.widgets.contract import ContractEditor
from pekso_toolkit.widgets.explorer import BottleneckExplorer
from pekso_toolkit.widgets.intake import IntakeForm
from pekso_toolkit.widgets.worklist import WorklistView, supervisor_view
from pekso_toolkit.widgets.workspace import CaseWorkspace

__all__ = [
    "BottleneckExplorer",
    "CaseBoard",
    "CaseWorkspace",
    "ContractEditor",
    "IntakeForm",
    "StageChecklist",
    "WorklistView",
    "notify",
    "subscribe",
    "supervisor_view",
]
