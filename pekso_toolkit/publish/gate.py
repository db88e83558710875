"""The publication gate: the one door through which a table leaves a report or the dashboard.

:func:`publish` applies the agency's disclosure rules to any table of the toolkit:

* counts from 1 to ``min_count - 1`` are masked (default :data:`~pekso_toolkit.core.config.
  MIN_COUNT`), and so is every figure derived from them (medians, means, shares, ...);
* complements (``n - k`` of two published counts) smaller than the threshold are masked;
* secondary suppression is audited by linear programming so that no masked cell can be
  recomputed from the published cells and totals (see :func:`suppress_small_cells`);
* per-case tables (a case id column, or ``attrs["internal"]``) are refused unless the user asked
  for an internal report (``internal=True``).

Tables made by the toolkit carry how they should be suppressed in ``attrs["publication"]``
(count columns, derived figures, totals, complements and texts to rewrite after masking); other
tables are suppressed with the safe defaults (every integer column a count, every other number
derived from all of them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from pekso_toolkit.core.config import MIN_COUNT
from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.publish.disclosure import suppress_small_cells

__all__ = ["CASE_COLUMNS", "PublicationError", "publication_spec", "publish"]

#: Columns that identify a single case or client: a table holding one is a per-case table.
CASE_COLUMNS = frozenset(
    {"case_id", "id_kasus", "case", "kasus", "client_id", "client", "klien", "nik", "name", "nama"}
)


class PublicationError(PeksoError, ValueError):
    """A table may not be published as asked (e.g. it lists single cases)."""


def publication_spec(
    *,
    count_cols: Sequence[str],
    derived: Mapping[str, str | Sequence[str]] | None = None,
    margins: Sequence[str | Sequence[str]] | None = None,
    complements: Mapping[str, str] | None = None,
    row_total: bool = False,
    rewrite: Mapping[str, Callable[[pd.DataFrame], Any]] | None = None,
) -> dict[str, Any]:
    """How a table is to be suppressed; store it in ``table.attrs["publication"]``.

    Parameters are those of :func:`suppress_small_cells`; ``rewrite`` maps a text column to a
    function of the suppressed table that rebuilds the column (e.g. reason texts without the
    masked counts).
    """
    return {
        "count_cols": list(count_cols),
        "derived": dict(derived) if derived is not None else None,
        "margins": list(margins) if margins is not None else None,
        "complements": dict(complements) if complements else None,
        "row_total": row_total,
        "rewrite": dict(rewrite) if rewrite else None,
    }


def _case_columns(table: pd.DataFrame) -> list[str]:
    return [str(c) for c in table.columns if str(c).strip().lower() in CASE_COLUMNS]


def publish(
    table: pd.DataFrame,
    *,
    min_count: int = MIN_COUNT,
    internal: bool = False,
) -> pd.DataFrame:
    """The table as it may be published: small counts and what they reveal masked.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of counts and figures (from the toolkit or made by hand).
    min_count : int
        Publication threshold: counts from 1 to ``min_count - 1`` are masked (default
        ``MIN_COUNT``, 11).
    internal : bool
        The user asked for an internal report, read only inside the agency: per-case tables are
        allowed and nothing is masked.

    Returns
    -------
    pandas.DataFrame
        A copy: masked counts are ``<NA>``, masked figures ``NaN``; a string column
        ``suppressed`` names the masked columns of each row; ``attrs["published"]`` is True and
        ``attrs["min_count"]`` the threshold; ``attrs["withheld_totals"]`` lists totals that
        must not be published next to the table.

    Raises
    ------
    PublicationError
        The table lists single cases (a case id column or ``attrs["internal"]``) and
        ``internal`` is False.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, not {min_count}")
    if internal:
        out = table.copy()
        out.attrs["internal"] = True
        return out
    ids = _case_columns(table)
    if ids or table.attrs.get("internal"):
        where = f" (kolom {', '.join(ids)})" if ids else ""
        where_en = f" (column {', '.join(ids)})" if ids else ""
        raise PublicationError(
            f"Tabel ini berisi baris per kasus{where} dan tidak boleh diterbitkan. Gunakan "
            "ringkasan per tahap atau kantor, atau buat laporan internal (--internal).",
            f"This table lists single cases{where_en} and may not be published. Use a summary "
            "per stage or office, or make an internal report (--internal).",
            field=ids[0] if ids else None,
        )
    done = table.attrs.get("published") and table.attrs.get("min_count", 0) >= min_count
    if done:
        return table.copy()
    spec = dict(table.attrs.get("publication") or {})
    out = suppress_small_cells(
        table.reset_index(drop=True),
        threshold=min_count,
        count_cols=spec.get("count_cols"),
        derived=spec.get("derived"),
        margins=spec.get("margins"),
        complements=spec.get("complements"),
        row_total=bool(spec.get("row_total", False)),
    )
    for column, rebuild in (spec.get("rewrite") or {}).items():
        if column in out.columns:
            out[column] = pd.array(list(rebuild(out)), dtype="string")
    out.attrs["published"] = True
    out.attrs["min_count"] = min_count
    return out
