"""Exception types of the toolkit.

Every error carries a message a social worker can act on: what is wrong, where (row, field)
and what to do about it. Messages that reach users are bilingual (Bahasa Indonesia first,
English second).
"""

from __future__ import annotations

from pekso_toolkit.core.i18n import get_language

__all__ = [
    "AnalysisError",
    "EventLogError",
    "PeksoError",
    "PracticeRuleError",
    "StageModelError",
    "StoreError",
    "TaxonomyError",
]


class PeksoError(Exception):
    """Base class of every error raised by pekso_toolkit.

    Every error carries its message as structured fields, so that a widget or report shows it in
    the user's language and next to the field concerned, without parsing text.

    Parameters
    ----------
    message_id : str
        The message in Bahasa Indonesia: what is wrong, where, and what to do.
    message_en : str
        The same message in English.
    field : str, optional
        The field (argument, column or form field) the message is about, e.g. ``"at"``.
    row : int, optional
        The line of the input file the message is about (1 = the first data row).

    Attributes
    ----------
    message_id, message_en, field, row
        As given. ``str(error)`` is ``"<message_id> / <message_en>"``.
    """

    def __init__(
        self,
        message_id: str,
        message_en: str | None = None,
        *,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.message_id = message_id
        self.message_en = message_id if message_en is None else message_en
        self.field = field
        self.row = row
        text = message_id if self.message_en == message_id else f"{message_id} / {self.message_en}"
        super().__init__(text)

    def message(self, lang: str | None = None) -> str:
        """The message in one language (the current language when ``lang`` is None)."""
        return self.message_en if (lang or get_language()) == "en" else self.message_id


class AnalysisError(PeksoError, ValueError):
    """An analysis lacks what it needs (e.g. the analysis date ``as_of``); the message says how
    to give it."""


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
    message_id, message_en, field
        As for :class:`PeksoError`.
    rule : str
        A short machine-readable rule name, e.g. ``"contract_without_scope"``.
    """

    def __init__(
        self, message_id: str, message_en: str, *, rule: str = "", field: str | None = None
    ) -> None:
        super().__init__(message_id, message_en, field=field)
        self.rule = rule
