"""Keyed pseudonyms for identifying columns of a table."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["pseudonym", "pseudonymise"]


def _key_bytes(key: object) -> bytes:
    if isinstance(key, str):
        raw = key.encode("utf-8")
    elif isinstance(key, bytes | bytearray):
        raw = bytes(key)
    else:
        raise ValueError(
            "key: kunci rahasia harus berupa teks atau bytes / key: the secret key must be text "
            f"or bytes, not {type(key).__name__}"
        )
    if not raw:
        raise ValueError(
            "key: kunci rahasia tidak boleh kosong; simpan kunci di luar data / "
            "key: the secret key must not be empty; keep the key apart from the data"
        )
    return raw


def pseudonym(value: object, *, key: str | bytes, prefix: str = "ps_", length: int = 16) -> str:
    """The pseudonym of one value: ``prefix`` + the first ``length`` hex digits of
    HMAC-SHA256(key, str(value))."""
    digest = hmac.new(_key_bytes(key), str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:length]


def pseudonymise(
    table: pd.DataFrame,
    *,
    columns: str | Iterable[str],
    key: str | bytes,
    prefix: str = "ps_",
    length: int = 16,
) -> pd.DataFrame:
    """Replace the values of identifying columns by keyed pseudonyms.

    Each value becomes ``prefix`` + the first ``length`` hexadecimal digits of
    HMAC-SHA256(``key``, ``str(value)``). The same value and key always give the same pseudonym,
    so tables pseudonymised with one key still join; without the key the original values cannot
    be recovered by trying likely values. Missing values stay missing. Values are compared as text
    (``5`` and ``"5"`` get the same pseudonym).

    Parameters
    ----------
    table : pandas.DataFrame
        The table; it is not changed.
    columns : str or list of str
        The columns to replace.
    key : str or bytes
        The secret key (required, non-empty). Keep it apart from the data you share.
    prefix : str
        Put in front of every pseudonym (default ``"ps_"``).
    length : int
        Hex digits kept, 8 to 64 (default 16, i.e. 64 bits).

    Returns
    -------
    pandas.DataFrame
        A copy with the named columns as ``string`` dtype pseudonyms; other columns unchanged.

    Raises
    ------
    ValueError
        When the key is missing or empty, a column is not in the table, or ``length`` is out of
        range.
    """
    raw_key = _key_bytes(key)
    if isinstance(length, bool) or not isinstance(length, int) or not 8 <= length <= 64:
        raise ValueError(f"length: must be an integer from 8 to 64, not {length!r}")
    names = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in names if c not in table.columns]
    if missing:
        raise ValueError(
            f"columns: {missing} tidak ada di tabel / {missing} are not columns of the table; "
            f"columns: {list(table.columns)}"
        )
    out = table.copy()
    for col in names:
        codes, uniques = pd.factorize(out[col], use_na_sentinel=True)
        hashed = np.array(
            [
                prefix
                + hmac.new(raw_key, str(u).encode("utf-8"), hashlib.sha256).hexdigest()[:length]
                for u in uniques
            ]
            + [None],
            dtype=object,
        )
        out[col] = pd.array(hashed[codes], dtype="string")
    return out
