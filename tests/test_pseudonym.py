"""Keyed pseudonyms: stable, keyed, NA-preserving."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

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
