"""Keyed pseudonyms: stable, keyed, NA-preserving."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pekso_toolkit.publish.pseudonym import pseudonym, pseudonymise


def test_pseudonyms_are_keyed_hmac_sha256() -> None:
    frame = pd.DataFrame({"case_id": ["K-1", "K-2", "K-1", None], "n": [1, 2, 3, 4]})
    out = pseudonymise(frame, columns="case_id", key="rahasia")
    expected = "ps_" + hmac.new(b"rahasia", b"K-1", hashlib.sha256).hexdigest()[:16]
    assert out["case_id"].iloc[0] == expected == out["case_id"].iloc[2]
    assert out["case_id"].iloc[1] != expected
    assert pd.isna(out["case_id"].iloc[3])
    assert out["case_id"].dtype == "string"
    assert out["n"].tolist() == [1, 2, 3, 4]
    assert frame["case_id"].iloc[0] == "K-1"  # input untouched
    assert pseudonym("K-1", key="rahasia") == expected


def test_same_key_joins_other_key_does_not() -> None:
    a = pd.DataFrame({"case_id": ["K-1", "K-2"], "worker": ["ani", "budi"]})
    b = pd.DataFrame({"case_id": ["K-2", "K-3"]})
    pa = pseudonymise(a, columns=["case_id", "worker"], key=b"k1")
    pb = pseudonymise(b, columns="case_id", key=b"k1")
    assert pa["case_id"].iloc[1] == pb["case_id"].iloc[0]
    other = pseudonymise(a, columns="case_id", key="k2")
    assert not set(other["case_id"]) & set(pa["case_id"])
    assert pa["worker"].str.startswith("ps_").all()
    custom = pseudonymise(a, columns="case_id", key="k1", prefix="case_", length=8)
    assert custom["case_id"].str.fullmatch(r"case_[0-9a-f]{8}").all()
    assert pseudonymise(a.iloc[:0], columns="case_id", key="k1").empty


@pytest.mark.parametrize("key", ["", b"", None, 12])
def test_a_key_is_required(key: object) -> None:
    with pytest.raises(ValueError, match="key"):
        pseudonymise(pd.DataFrame({"a": ["x"]}), columns="a", key=key)  # type: ignore[arg-type]


def test_bad_columns_and_lengths() -> None:
    frame = pd.DataFrame({"a": ["x"]})
    with pytest.raises(ValueError, match=r"\['b'\]"):
        pseudonymise(frame, columns=["a", "b"], key="k")
    with pytest.raises(ValueError, match="length"):
        pseudonymise(frame, columns="a", key="k", length=4)


# ------------------------------------------------------------------------------ canonical text
def test_true_and_one_get_different_pseudonyms() -> None:
    column = pd.DataFrame({"id": [1, True, "1", 1.0, "True", False, 0]}, dtype=object)
    out = pseudonymise(column, columns="id", key="k")["id"].tolist()
    assert out[0] != out[1]
    assert out[0] == out[2] == out[3] == pseudonym(1, key="k")
    assert out[1] == out[4] == pseudonym(True, key="k")
    assert out[5] != out[6]


def test_a_pseudonym_does_not_depend_on_the_other_values_of_the_column() -> None:
    alone = pseudonymise(pd.DataFrame({"id": [7.0]}), columns="id", key="k")["id"].iloc[0]
    mixed = pseudonymise(pd.DataFrame({"id": [7.0, 7.5]}), columns="id", key="k")["id"].iloc[0]
    as_int = pseudonymise(pd.DataFrame({"id": [7]}), columns="id", key="k")["id"].iloc[0]
    as_text = pseudonymise(pd.DataFrame({"id": ["7", "7.0"]}), columns="id", key="k")["id"].tolist()
    assert alone == mixed == as_int == as_text[0] == as_text[1] == pseudonym(7, key="k")
    assert pseudonym("7", key="k") == pseudonym(7.0, key="k") == pseudonym(np.int64(7), key="k")
    assert pseudonym("007", key="k") != pseudonym(7, key="k")  # leading zeros are kept
    assert pseudonym(7.5, key="k") != pseudonym(7, key="k")


def test_missing_values_stay_missing() -> None:
    column = pd.DataFrame({"id": [None, float("nan"), pd.NA, "x", pd.NaT]}, dtype=object)
    out = pseudonymise(column, columns="id", key="k")["id"]
    assert out.isna().tolist() == [True, True, True, False, True]
    float_col = pseudonymise(pd.DataFrame({"id": [1.0, np.nan]}), columns="id", key="k")["id"]
    assert float_col.isna().tolist() == [False, True]
    with pytest.raises(ValueError, match="missing"):
        pseudonym(None, key="k")


@given(
    st.lists(
        st.one_of(
            st.integers(-(10**12), 10**12),
            st.integers(-(10**6), 10**6).map(float),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
            st.booleans(),
            st.text(max_size=6),
            st.none(),
        ),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=60, deadline=None)
def test_each_pseudonym_depends_on_its_value_only(values: list[object]) -> None:
    column = pd.Series(values, dtype=object)
    out = pseudonymise(pd.DataFrame({"id": column}), columns="id", key="k")["id"]
    for value, got in zip(values, out, strict=True):
        if value is None:
            assert pd.isna(got)
        else:
            assert got == pseudonym(value, key="k")
            alone = pseudonymise(pd.DataFrame({"id": [value]}), columns="id", key="k")["id"].iloc[0]
            assert alone == got
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            assert pseudonym(value, key="k") == pseudonym(str(value), key="k")
            assert pseudonym(value, key="k") != pseudonym(bool(value), key="k")
