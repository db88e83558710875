"""The analysis date ``as_of``: given, or the one the stays were made with.

Every analysis takes ``as_of=None``. :func:`~pekso_toolkit.stays.durations.time_in_stage`
records its ``as_of`` in ``stays.attrs["as_of"]``; an analysis of those stays called without
``as_of`` uses that date, so the date is given once per notebook.
"""

from __future__ import annotations

from typing import Any

from pekso_toolkit.core.errors import AnalysisError

__all__ = ["recorded_as_of"]


def recorded_as_of(data: Any, as_of: Any = None) -> Any:
    """``as_of`` when given, else the ``as_of`` recorded on ``data`` (``data.attrs["as_of"]``).

    Parameters
    ----------
    data : DataFrame, EventLog or any object
        Stays (or another table) whose ``attrs`` may record ``as_of``.
    as_of : date-like, optional
        The analysis date the user gave.

    Returns
    -------
    The date as given (a string, date or Timestamp), to be read with ``to_utc``.

    Raises
    ------
    AnalysisError
        When ``as_of`` is None and ``data`` records none.
    """
    if as_of is not None:
        return as_of
    attrs = getattr(data, "attrs", None)
    if isinstance(attrs, dict) and attrs.get("as_of") is not None:
        return attrs["as_of"]
    raise AnalysisError(
        "Tanggal analisis belum diberikan: tulis as_of='2024-06-30' (tanggal data ditarik), "
        "atau pakai tabel dari pk.time_in_stage(log, as_of=...), yang mencatat tanggal itu.",
        "The analysis date is missing: give as_of='2024-06-30' (the date the data were "
        "extracted), or use a table from pk.time_in_stage(log, as_of=...), which records it.",
        field="as_of",
    )
