"""pekso_toolkit: casework analysis for Indonesian social work (pekerja sosial) in Jupyter."""

from pekso_toolkit.errors import (
    EventLogError,
    PeksoError,
    PracticeRuleError,
    StageModelError,
    StoreError,
    TaxonomyError,
)
from pekso_toolkit.i18n import get_language, set_language
from pekso_toolkit.stages import ChecklistItem, Stage, StageModel

__version__ = "0.1.0"

__all__ = [
    "ChecklistItem",
    "EventLogError",
    "PeksoError",
    "PracticeRuleError",
    "Stage",
    "StageModel",
    "StageModelError",
    "StoreError",
    "TaxonomyError",
    "get_language",
    "set_language",
]
