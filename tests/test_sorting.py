"""The event sort: short ids read as integers must number cases exactly as string sorting does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pekso_toolkit.events.sorting import arrow_strings, short_id_codes, sorted_positions

ids = st.text(alphabet=st.sampled_from("Kk0129-/ A"), min_size=0, max_size=8)


def case_numbers_by_strings(values: list[str]) -> np.ndarray:
    """Reference: number the distinct ids in Python's string order."""
    order = {v: i for i, v in enumerate(sorted(set(values)))}
    return np.array([order[v] for v in values], dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(st.lists(ids, min_size=1, max_size=40))
def test_short_ids_are_numbered_in_string_order(values: list[str]) -> None:
    found = short_id_codes(pa.array(values, type=pa.string()))
    assert found is not None
    rank, index = found
    assert (rank[index].astype(np.int64) == case_numbers_by_strings(values)).all()


@pytest.mark.parametrize(
    "values",
    [
        ["K-000000001", "K-1"],  # longer than 8 bytes
        ["é1", "e1"],  # not ASCII
        ["A\x00", "A"],  # a zero byte would make these equal
    ],
)
def test_other_ids_fall_back_to_string_hashing(values: list[str]) -> None:
    assert short_id_codes(pa.array(values, type=pa.string())) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(ids, st.text(alphabet="Kk0129-éÅ ", min_size=0, max_size=12)),
            st.integers(0, 5),
            st.integers(0, 3),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_sorted_positions_order_rows_by_case_time_and_stage(
    rows: list[tuple[str, int, int]],
) -> None:
    case = arrow_strings(pd.Series([r[0] for r in rows], dtype="string"))
    ts = np.array([r[1] for r in rows], dtype=np.int64) * 10**9
    tie = np.array([r[2] for r in rows], dtype=np.int16)
    order, code, _ = sorted_positions(case, ts, tie)
    order = np.arange(len(rows)) if order is None else order
    # reference: a stable sort on (case id string, time, tie)
    expected = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], rows[i][2]))
    assert order.tolist() == expected
    assert (code == case_numbers_by_strings([rows[i][0] for i in expected])).all()
