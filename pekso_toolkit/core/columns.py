"""Column arguments: one name or a list of names."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["as_list"]


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """A column name or a list of names as a list (None: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
