"""The case store: append-only casework events in SQLite, practice rules, state from events."""

from pekso_toolkit.store.casestore import CaseStore
from pekso_toolkit.store.schema import RecordError
from pekso_toolkit.store.state import CaseState

__all__ = ["CaseState", "CaseStore", "RecordError"]
