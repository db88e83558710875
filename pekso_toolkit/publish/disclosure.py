"""Privacy protection for published tables.

:func:`suppress_small_cells` masks small counts (and the figures computed from them) before a table
leaves the agency, following the common rule of statistical agencies: no non-zero count below the
threshold (default 1–10), no rate derived from such a count, and a second cell masked wherever the
first could be recovered by subtraction from a total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pekso_toolkit.core.columns import as_list
from pekso_toolkit.core.config import MIN_COUNT
from pekso_toolkit.publish.audit import TotalsStructure, cell_intervals, totals_structure

__all__ = ["SUPPRESSED_COLUMN", "suppress_small_cells"]

#: Name of the column that lists, per row, which cells were masked.
SUPPRESSED_COLUMN = "suppressed"


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    threshold: int = MIN_COUNT,
    secondary: bool = True,
    count_cols: Sequence[str] | None = None,
    derived: Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    margins: Sequence[str | Sequence[str]] | None = None,
    row_total: bool = False,
    complements: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Mask counts from 1 to ``threshold - 1``, the figures derived from them, and complements.

     Rules
     -----
     1. *Primary*: a count ``c`` with ``0 < c < threshold`` is masked. Zero is not masked.
    *Complements* (``complements={part: whole}``): a count ``part`` whose complement
        ``whole - part`` is from 1 to ``threshold - 1`` is masked too (e.g. 19 open stays of 20:
        the one finished stay would be recoverable by subtraction).
     2. *Secondary* (``secondary=True``): the table's counts are assumed to add up to published
        totals. Within every block of rows that shares a total (the whole table, or each group of
        ``margins``), if exactly one cell of a count column is masked, the smallest other non-zero
        cell of that block (the first of equal ones) is masked too, so the first cannot be
        recovered as total minus the rest. With ``row_total=True`` the count columns of each row
        are also treated as adding up to a row total (cross tables). Zeros are never partners: a
        reader who knows the other totals can pin them.
        Then an *audit*: for every masked cell the smallest and largest value it can take given
        the published cells and totals is computed by linear programming
        (:mod:`pekso_toolkit.publish.audit`). While some masked cell's interval is narrower than
        ``threshold``, one more non-zero cell next to it (sharing a total) is masked, or, when
        none is left, a total is *withheld*. A total from 1 to ``threshold - 1`` is always
        withheld. The withheld totals are listed in ``attrs["withheld_totals"]`` as
        ``(column, margin columns, group values)`` (``(column, (), ())``: the column's grand
        total); do not publish them.
     3. *Derived figures*: a derived column (median, share, rate, ...) is masked in every row where
        a count it is computed from is masked.

     Output
     ------
     A copy of ``table``. Masked counts become ``<NA>`` in nullable integer (``Int64``) columns;
     masked derived figures become ``NaN`` (float columns) or ``<NA>``. The table stays numeric,
     sorts and plots like the original. A string column ``suppressed`` is added (or extended)
     that names, per row, the masked columns (``""`` when none), so a blank left by suppression can
     be told from a figure that is missing for other reasons.

     Parameters
     ----------
     table : pandas.DataFrame
         Table of counts and figures, one row per cell of the published table.
     threshold : int
         Smallest count that may be published (default 11: counts 1–10 are masked).
     secondary : bool
         Apply secondary (complementary) suppression.
     count_cols : list of str, optional
         Count columns. Default: every integer column (not bool).
     derived : list of str, or mapping of column -> count column(s), optional
         Columns computed from the counts of the same row. A list means "derived from every count
         column"; a mapping names the count column(s) each one is computed from. Default: every
         other numeric column, derived from every count column (the safe choice).
     margins : list of column names or lists of column names, optional
         Each entry defines blocks of rows sharing a total (rows with equal values in those
         columns), e.g. ``["office", "stage"]`` for a long table of office × stage counts whose
         office totals and stage totals are both published. Default: one block, the whole table.
     row_total : bool
         Also treat the count columns of each row as adding up to a row total.
     complements : mapping of count column -> count column, optional
         ``{part: whole}``: mask ``part`` where ``whole - part`` is a small count.

     Returns
     -------
     pandas.DataFrame

     Examples
     --------
     >>> t = pd.DataFrame({"stage": ["a", "b", "c"], "n": [40, 3, 25]})
     >>> suppress_small_cells(t)  # doctest: +NORMALIZE_WHITESPACE
       stage     n suppressed
     0     a    40
     1     b  <NA>          n
     2     c  <NA>          n
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, not {threshold}")
    out = table.copy()
    if count_cols is None:
        counts = [
            c
            for c in out.columns
            if pd.api.types.is_integer_dtype(out[c].dtype)
            and not pd.api.types.is_bool_dtype(out[c].dtype)
        ]
    else:
        counts = list(count_cols)
        missing = [c for c in counts if c not in out.columns]
        if missing:
            raise KeyError(f"count column(s) {missing} are not in the table")
    sources = _derived_sources(out, counts, derived)
    block_keys = [as_list(m) for m in margins] if margins else [[]]
    for keys in block_keys:
        missing = [k for k in keys if k not in out.columns]
        if missing:
            raise KeyError(f"margin column(s) {missing} are not in the table")

    values = np.column_stack([_numbers(out[c]) for c in counts]) if counts else np.zeros((0, 0))
    values = values.reshape(len(out), len(counts))
    present = ~np.isnan(values)
    mask = present & (values > 0) & (values < threshold)
    for part, whole in (complements or {}).items():
        if part not in counts or whole not in counts:
            raise KeyError(f"complement {part!r} of {whole!r}: both must be count columns")
        p, w = counts.index(part), counts.index(whole)
        rest = values[:, w] - values[:, p]
        # (a zero part leaves whole - part = whole, which the primary rule already covers)
        small_rest = (rest > 0) & (rest < threshold) & (values[:, p] > 0) & ~mask[:, w]
        mask[:, p] |= present[:, p] & present[:, w] & small_rest

    withheld: list[tuple[object, tuple[str, ...], tuple[object, ...]]] = []
    if secondary and counts:
        block_ids = [
            out.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
            if keys
            else np.zeros(len(out), dtype=np.int64)
            for keys in block_keys
        ]
        changed = True
        while changed:
            changed = False
            for j in range(len(counts)):
                for ids in block_ids:
                    changed |= _complement(values[:, j], present[:, j], mask[:, j], ids)
            if row_total:
                for i in range(len(out)):
                    changed |= _complement(
                        values[i], present[i], mask[i], np.zeros(len(counts), dtype=np.int64)
                    )
        structure = totals_structure(
            out, values, count_cols=counts, margins=block_keys, row_total=row_total
        )
        hidden = _protect(structure, mask.reshape(-1), threshold)
        mask = hidden[: structure.n_cells].reshape(mask.shape)
        withheld = [structure.names[k] for k in np.flatnonzero(hidden[structure.n_cells :])]

    masked_cols: list[list[str]] = [[] for _ in range(len(out))]
    for j, col in enumerate(counts):
        col_mask = mask[:, j]
        series = out[col]
        if pd.api.types.is_integer_dtype(series.dtype):
            series = series.astype("Int64")
        out[col] = series.mask(pd.Series(col_mask, index=out.index))
        for row in np.flatnonzero(col_mask):
            masked_cols[int(row)].append(col)
    for col, srcs in sources.items():
        idx = [counts.index(s) for s in srcs]
        if not idx:
            continue
        row_mask = mask[:, idx].any(axis=1)
        if row_mask.any():
            out[col] = out[col].mask(pd.Series(row_mask, index=out.index))
            for row in np.flatnonzero(row_mask):
                masked_cols[int(row)].append(col)
    labels = [", ".join(cols) for cols in masked_cols]
    if SUPPRESSED_COLUMN in out.columns:
        before = out[SUPPRESSED_COLUMN].fillna("").astype(str).tolist()
        labels = [", ".join(x for x in (b, a) if x) for b, a in zip(before, labels)]
    out[SUPPRESSED_COLUMN] = pd.array(labels, dtype="string")
    if withheld:
        out.attrs["withheld_totals"] = list(out.attrs.get("withheld_totals", [])) + withheld
    return out


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _derived_sources(
    table: pd.DataFrame,
    counts: list[str],
    derived: Sequence[str] | Mapping[str, str | Sequence[str]] | None,
) -> dict[str, list[str]]:
    if derived is None:
        return {
            c: list(counts)
            for c in table.columns
            if c not in counts
            and c != SUPPRESSED_COLUMN
            and pd.api.types.is_numeric_dtype(table[c].dtype)
            and not pd.api.types.is_bool_dtype(table[c].dtype)
        }
    if isinstance(derived, Mapping):
        sources = {col: as_list(src) for col, src in derived.items()}
    else:
        sources = {col: list(counts) for col in as_list(derived)}
    for col, srcs in sources.items():
        if col not in table.columns:
            raise KeyError(f"derived column {col!r} is not in the table")
        unknown = [s for s in srcs if s not in counts]
        if unknown:
            raise KeyError(
                f"derived column {col!r} refers to {unknown}, which are not count columns"
            )
    return sources


def _complement(values: np.ndarray, present: np.ndarray, mask: np.ndarray, ids: Any) -> bool:
    """Mask, in place, one more cell in every block where exactly one cell is masked."""
    changed = False
    ids = np.asarray(ids)
    n_masked = np.bincount(ids, weights=mask.astype(float), minlength=int(ids.max(initial=0)) + 1)
    for block in np.flatnonzero(n_masked == 1):
        in_block = ids == block
        candidates = np.flatnonzero(in_block & present & ~mask)
        if len(candidates) == 0:
            continue
        vals = values[candidates]
        # the smallest non-zero cell; zeros are not partners (a reader can pin them)
        key = np.where(vals > 0, vals, np.inf)
        if not np.isfinite(key).any():
            continue
        mask[candidates[int(np.argmin(key))]] = True
        changed = True
    return changed


def _protect(structure: TotalsStructure, cell_mask: np.ndarray, threshold: int) -> np.ndarray:
    """Hide cells and totals until no hidden cell can be pinned to an interval < threshold."""
    values = structure.values
    n_cells = structure.n_cells
    hidden = np.zeros(len(values), dtype=bool)
    hidden[:n_cells] = cell_mask
    totals = np.arange(n_cells, len(values))
    hidden[totals] = (values[totals] > 0) & (values[totals] < threshold)
    if not hidden[:n_cells].any():
        return hidden
    involved: dict[int, list[int]] = {}
    for k, (members, total) in enumerate(structure.sums):
        for node in (*members, total):
            involved.setdefault(node, []).append(k)
    # a hidden zero (masked on request) reveals no small count: it needs no interval
    queue = [int(c) for c in np.flatnonzero(hidden[:n_cells] & (values[:n_cells] > 0))]
    while queue:
        cell = queue[0]
        low, high = cell_intervals(structure, hidden, cells=[cell])[0]
        if high - low >= threshold:
            queue.pop(0)
            continue
        pick = _next_to_hide(structure, hidden, involved, cell)
        hidden[pick] = True
        if pick < n_cells:
            queue.append(pick)
    return hidden


def _next_to_hide(
    structure: TotalsStructure, hidden: np.ndarray, involved: dict[int, list[int]], cell: int
) -> int:
    """The smallest non-zero published node sharing a sum with ``cell`` (nearest sums first)."""
    values = structure.values
    seen_nodes = {cell}
    frontier = [cell]
    seen_sums: set[int] = set()
    while frontier:
        candidates: list[int] = []
        next_frontier: list[int] = []
        for node in frontier:
            for k in involved.get(node, []):
                if k in seen_sums:
                    continue
                seen_sums.add(k)
                members, total = structure.sums[k]
                for other in (*members, total):
                    if other in seen_nodes:
                        continue
                    if hidden[other]:
                        seen_nodes.add(other)
                        next_frontier.append(other)
                    elif values[other] > 0:
                        candidates.append(other)
        if candidates:
            # cells before totals of equal value, then the smallest value
            return min(candidates, key=lambda n: (values[n], n >= structure.n_cells, n))
        frontier = next_frontier
    raise RuntimeError("suppression: no published cell or total is left to hide")
