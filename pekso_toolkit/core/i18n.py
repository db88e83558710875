"""User-facing language: Bahasa Indonesia by default, English on request.

Code identifiers are English; labels shown to people come in both languages and are picked by
:func:`set_language`. Objects with bilingual labels expose ``label_id`` / ``label_en`` and
:func:`pick` chooses between them.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Language", "bilingual", "get_language", "pick", "set_language"]

Language = Literal["id", "en"]
_LANGUAGES: tuple[Language, ...] = ("id", "en")
_current: list[Language] = ["id"]


def set_language(lang: str) -> None:
    """Set the language of labels, widgets and messages: ``"id"`` (default) or ``"en"``."""
    key = lang.strip().lower()
    if key not in _LANGUAGES:
        raise ValueError(
            f"language must be 'id' (Bahasa Indonesia) or 'en' (English), not {lang!r}"
        )
    _current[0] = key  # type: ignore[assignment,unused-ignore]


def get_language() -> Language:
    """The current language of labels: ``"id"`` or ``"en"``."""
    return _current[0]


def pick(label_id: str, label_en: str, lang: str | None = None) -> str:
    """Return the label in ``lang`` (default: the current language)."""
    return label_en if (lang or _current[0]) == "en" else label_id


def bilingual(label_id: str, label_en: str) -> str:
    """Both labels, Bahasa Indonesia first: ``"Asesmen / Assessment"`` (one if they are equal)."""
    return label_id if label_id == label_en else f"{label_id} / {label_en}"
