"""Exception types of the toolkit.

Every error carries a message a social worker can act on: what is wrong, where (row, field)
and what to do about it. Messages that reach users are bilingual (Bahasa Indonesia first,
English second).
"""

from __future__ import annotations

__all__ = [
    "EventLogError",
    "PeksoError",
    "PracticeRuleError",
    "StageModelError",
    "StoreError",
    "TaxonomyError",
]


class PeksoError(Exception):
    """Base class of every error raised by pekso_toolkit."""


class StageModelError(PeksoError, ValueError):
    """A stage model (default or an agency's own file) is invalid."""


class EventLogError(PeksoError, ValueError):
    """An event-log export could not be read; the message says what to fix."""


class TaxonomyError(PeksoError, ValueError):
    """A taxonomy is invalid or a category code is unknown."""


class StoreError(PeksoError):
    """The case store could not complete an operation (locked, corrupt, wrong version)."""


class PracticeRuleError(PeksoError):
    """A recording would break a rule of the helping practice.

    Parameters
    ----------
    message_id : str
        The message in Bahasa Indonesia: what is wrong and what to do.
    message_en : str
        The same message in English.
    rule : str
        A short machine-readable rule name, e.g. ``"contract_without_scope"``.
    """

    def __init__(self, message_id: str, message_en: str, *, rule: str = "") -> None:
        self.message_id = message_id
        self.message_en = message_en
        self.rule = rule
        super().__init__(f"{message_id} / {message_en}")

    def message(self, lang: str | None = None) -> str:
        """The message in one language (the current language when ``lang`` is None)."""
        from pekso_toolkit.i18n import get_language

        return self.message_en if (lang or get_language()) == "en" else self.message_id
