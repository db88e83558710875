"""Linear-programming audit of a suppressed table: how well can a reader pin a masked cell?

A reader of a published table knows the published cells, the published totals and that counts
are not negative. From these, the smallest and largest value a masked cell can take are the
optimum of two linear programs (integrality relaxed to reals, which only widens nothing: the
integer interval lies inside the real one and has the same integer end points when the data are
integer). :func:`cell_intervals` computes them for every masked cell;
:func:`~pekso_toolkit.publish.disclosure.suppress_small_cells` uses it to add suppressions until
every masked cell's interval is at least as wide as the publication threshold.

The structure of totals
-----------------------
``cells`` are the counts of a long table (rows × count columns). For each count column ``j``
and each *margin* (a list of grouping columns; ``[]`` is the whole table) the cells of each group
add up to the group's total; the totals of one margin add up to the column's grand total. With
``row_total=True`` the count columns of each row also add up to a row total, and the row totals
and the column grand totals both add up to the overall total. Every total is published unless it
is *withheld*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

__all__ = ["TotalsStructure", "cell_intervals", "totals_structure"]


@dataclass
class TotalsStructure:
    """The totals of a table and which cells and totals add up to which.

    Attributes
    ----------
    n_cells : int
        Number of cells (rows × count columns, row-major).
    values : numpy.ndarray
        Values of the cells, then of the totals (``n_cells + n_totals``); NaN cells are left out
        of every sum.
    names : list of tuple
        Description of each total: ``(column, margin columns, group values)``; the grand total
        of a column is ``(column, (), ())``, the overall total ``(None, (), ())`` and a row total
        ``(None, ("row",), (i,))``.
    sums : list of (list of int, int)
        Each entry says: the nodes in the list add up to the node given second.
    """

    n_cells: int
    values: np.ndarray
    names: list[tuple[object, tuple[str, ...], tuple[object, ...]]] = field(default_factory=list)
    sums: list[tuple[list[int], int]] = field(default_factory=list)


def totals_structure(
    table: pd.DataFrame,
    values: np.ndarray,
    *,
    count_cols: Sequence[str],
    margins: Sequence[Sequence[str]],
    row_total: bool = False,
) -> TotalsStructure:
    """The totals of a long table of counts (see the module text).

    Parameters
    ----------
    table : pandas.DataFrame
        The table (its margin columns define the groups).
    values : numpy.ndarray
        The counts, shape ``(len(table), len(count_cols))``, NaN where missing.
    count_cols : sequence of str
        Names of the count columns (for the descriptions).
    margins : sequence of lists of column names
        Groups whose totals are published; ``[]`` means the whole table.
    row_total : bool
        The count columns of each row add up to a published row total.

    Returns
    -------
    TotalsStructure
    """
    n_rows, n_cols = values.shape
    flat = values.reshape(-1)
    present = ~np.isnan(flat)
    node_values: list[float] = list(np.where(present, flat, 0.0))
    names: list[tuple[object, tuple[str, ...], tuple[object, ...]]] = []
    sums: list[tuple[list[int], int]] = []

    def new_node(value: float, name: tuple[object, tuple[str, ...], tuple[object, ...]]) -> int:
        node_values.append(float(value))
        names.append(name)
        return len(node_values) - 1

    cell = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    grands = []
    for j, col in enumerate(count_cols):
        members = [int(c) for c in cell[:, j] if present[c]]
        grand = new_node(float(np.nansum(values[:, j])), (col, (), ()))
        grands.append(grand)
        if any(not keys for keys in margins):  # otherwise implied by the group totals
            sums.append((members, grand))
        for keys in margins:
            if not keys:
                continue
            groups = table.groupby(list(keys), sort=False, dropna=False, observed=True).indices
            group_totals = []
            for label, rows in groups.items():
                label_t = label if isinstance(label, tuple) else (label,)
                mem = [int(cell[r, j]) for r in rows if present[cell[r, j]]]
                total = new_node(float(np.nansum(values[rows, j])), (col, tuple(keys), label_t))
                sums.append((mem, total))
                group_totals.append(total)
            sums.append((group_totals, grand))
    if row_total and n_cols:
        overall = new_node(float(np.nansum(values)), (None, (), ()))
        sums.append((grands, overall))
        row_nodes = []
        for i in range(n_rows):
            mem = [int(c) for c in cell[i] if present[c]]
            total = new_node(float(np.nansum(values[i])), (None, ("row",), (i,)))
            sums.append((mem, total))
            row_nodes.append(total)
        sums.append((row_nodes, overall))
    return TotalsStructure(n_rows * n_cols, np.asarray(node_values, dtype=float), names, sums)


def cell_intervals(
    structure: TotalsStructure, hidden: np.ndarray, *, cells: Sequence[int] | None = None
) -> np.ndarray:
    """Smallest and largest value each hidden cell can take given everything published.

    Parameters
    ----------
    structure : TotalsStructure
        Cells, totals and their sums (:func:`totals_structure`).
    hidden : numpy.ndarray of bool
        One flag per node (cells then totals): True when not published.
    cells : sequence of int, optional
        The cells to bound (default: every hidden cell).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(cells), 2)``: minimum and maximum (``inf`` when unbounded).
    """
    hidden = np.asarray(hidden, dtype=bool)
    unknown = np.flatnonzero(hidden)
    index = {int(n): k for k, n in enumerate(unknown)}
    targets = [
        int(c) for c in (np.flatnonzero(hidden[: structure.n_cells]) if cells is None else cells)
    ]
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for members, total in structure.sums:
        coef = np.zeros(len(unknown))
        known = 0.0
        for node, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if hidden[node]:
                coef[index[node]] += sign
            else:
                known += sign * structure.values[node]
        if coef.any():
            rows.append(coef)
            rhs.append(-known)
    a_eq = np.vstack(rows) if rows else None
    b_eq = np.asarray(rhs) if rows else None
    out = np.zeros((len(targets), 2))
    for t, node in enumerate(targets):
        c = np.zeros(len(unknown))
        c[index[node]] = 1.0
        for side, sign in ((0, 1.0), (1, -1.0)):
            res = linprog(sign * c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                out[t, side] = -np.inf if sign > 0 else np.inf
            elif res.status == 0:
                out[t, side] = sign * res.fun
            else:  # pragma: no cover - the true values are always feasible
                raise RuntimeError(f"suppression audit: linear program failed ({res.message})")
    return out
