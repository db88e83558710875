"""suppress_small_cells on tables whose correct suppression is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.publish.disclosure import suppress_small_cells


def masked(table: pd.DataFrame, col: str) -> list[bool]:
    return table[col].isna().tolist()


def test_primary_and_one_complement_in_a_column() -> None:
    t = pd.DataFrame({"stage": ["a", "b", "c", "d"], "n": [0, 5, 30, 50]})
    out = suppress_small_cells(t)
    # 5 is masked; 0 is not; 30 (smallest non-zero other) protects it from total - rest
    assert masked(out, "n") == [False, True, True, False]
    assert out.n.iloc[0] == 0 and out.n.iloc[3] == 50
    assert out.n.dtype == "Int64"
    assert out.suppressed.tolist() == ["", "n", "n", ""]
    assert out.suppressed.dtype == "string"
    # nothing changed in the input
    assert t.n.tolist() == [0, 5, 30, 50]


def test_no_complement_when_two_cells_are_already_masked() -> None:
    t = pd.DataFrame({"n": [4, 7, 100]})
    assert masked(suppress_small_cells(t), "n") == [True, True, False]
    # and none at all without secondary suppression
    t = pd.DataFrame({"n": [4, 70, 100]})
    assert masked(suppress_small_cells(t, secondary=False), "n") == [True, False, False]


def test_threshold_is_configurable_and_zero_only_when_nothing_else_is_left() -> None:
    t = pd.DataFrame({"n": [4, 5, 6]})
    assert masked(suppress_small_cells(t, threshold=5), "n") == [True, True, False]
    assert masked(suppress_small_cells(t, threshold=4), "n") == [False, False, False]
    # the only other cell is a zero: it is masked so that the 3 is not the total itself
    t = pd.DataFrame({"n": [0, 3]})
    assert masked(suppress_small_cells(t), "n") == [True, True]
    with pytest.raises(ValueError):
        suppress_small_cells(t, threshold=0)


def test_derived_figures_are_masked_with_their_counts() -> None:
    t = pd.DataFrame(
        {
            "stage": ["a", "b", "c"],
            "n_stays": [120, 8, 300],
            "n_open": [3, 0, 40],
            "median_days": [5.0, 9.0, 40.0],
            "target_days": [7.0, 14.0, 60.0],
        }
    )
    out = suppress_small_cells(
        t,
        count_cols=["n_stays", "n_open"],
        derived={"median_days": "n_stays"},
        secondary=False,
    )
    assert masked(out, "n_stays") == [False, True, False]
    assert masked(out, "n_open") == [True, False, False]
    assert masked(out, "median_days") == [False, True, False]  # follows n_stays only
    assert masked(out, "target_days") == [False, False, False]  # not derived
    assert out.suppressed.tolist() == ["n_open", "n_stays, median_days", ""]
    # default: every other numeric column counts as derived from every count (the safe choice)
    safe = suppress_small_cells(t, count_cols=["n_stays", "n_open"], secondary=False)
    assert masked(safe, "median_days") == [True, True, False]
    assert masked(safe, "target_days") == [True, True, False]
    assert np.isnan(safe.median_days.iloc[0])


def test_long_table_with_office_and_stage_totals() -> None:
    # office A: 20, 3, 40; office B: 30, 50, 60 (stages s1, s2, s3)
    t = pd.DataFrame(
        {
            "office": ["A", "A", "A", "B", "B", "B"],
            "stage": ["s1", "s2", "s3"] * 2,
            "n": [20, 3, 40, 30, 50, 60],
        }
    )
    out = suppress_small_cells(t, margins=["office", "stage"])
    # A.s2 (3) primary; A.s1 (20) protects it within office A; then s1 and s2 each have one
    # masked cell across offices, so B.s1 (30) and B.s2 (50) are masked too.
    assert masked(out, "n") == [True, True, False, True, True, False]
    # with the whole table as the only margin, one complement suffices
    assert masked(suppress_small_cells(t), "n") == [True, True, False, False, False, False]


def test_cross_table_with_row_and_column_totals() -> None:
    t = pd.DataFrame(
        {"stage": ["s1", "s2", "s3"], "A": [25, 12, 50], "B": [4, 40, 60], "C": [30, 0, 70]}
    )
    out = suppress_small_cells(t, row_total=True)
    # B.s1 = 4 primary; column B -> B.s2 (40); row s1 -> A.s1 (25); row s2 -> A.s2 (12);
    # column A then has two masked cells, column C none: stable.
    assert masked(out, "A") == [True, True, False]
    assert masked(out, "B") == [True, True, False]
    assert masked(out, "C") == [False, False, False]
    assert out.suppressed.tolist() == ["A, B", "A, B", ""]
    # every row and every column with a masked cell has at least two
    grid = out[["A", "B", "C"]].isna().to_numpy()
    assert all(row.sum() != 1 for row in grid) and all(col.sum() != 1 for col in grid.T)


def test_missing_counts_are_left_alone_and_flags_accumulate() -> None:
    t = pd.DataFrame({"n": pd.array([None, 2, 40, 90], dtype="Int64")})
    out = suppress_small_cells(t)
    assert masked(out, "n") == [True, True, True, False]
    assert out.suppressed.tolist() == ["", "n", "n", ""]
    again = suppress_small_cells(out.assign(m=[50, 50, 3, 50]), count_cols=["m"], derived=[])
    assert again.suppressed.tolist() == ["m", "n", "n, m", ""]  # ties: the first row
    with pytest.raises(KeyError):
        suppress_small_cells(t, count_cols=["nope"])
