"""Log-rank tests of one group against the rest, Holm-adjusted (for drivers and bottlenecks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines.statistics import logrank_test

__all__ = ["holm", "one_vs_rest"]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (NaN stays NaN)."""
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if len(ok) == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def one_vs_rest(days: np.ndarray, event: np.ndarray, group_code: np.ndarray) -> pd.DataFrame:
    """Log-rank test of each group against all other stays (open stays censored).

    Parameters
    ----------
    days, event : numpy.ndarray
        Stay lengths and whether each stay finished (False: censored).
    group_code : numpy.ndarray of int
        Group of each stay, ``0 .. n_groups - 1``.

    Returns
    -------
    pandas.DataFrame
        One row per group code (index): ``test_statistic``, ``p_value`` and ``p_holm``
        (Holm-adjusted across the groups). NaN when a group holds every stay or no stay
        finished.
    """
    n_groups = int(group_code.max(initial=-1)) + 1
    stat = np.full(n_groups, np.nan)
    p = np.full(n_groups, np.nan)
    for g in range(n_groups):
        mine = group_code == g
        if not mine.any() or mine.all() or not event.any():
            continue
        res = logrank_test(days[mine], days[~mine], event[mine], event[~mine])
        stat[g], p[g] = float(res.test_statistic), float(res.p_value)
    return pd.DataFrame({"test_statistic": stat, "p_value": p, "p_holm": holm(p)})
