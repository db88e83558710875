"""Keyed pseudonyms for identifying columns of a table.

A pseudonym depends only on the value's *canonical text* (:func:`canonical_text`), never on the
other values of the column or on the column's dtype:

- text is used as written, except that a whole number written with a zero fraction
  (``"7.0"``, ``"-12.00"``) loses the fraction (``"7"``); leading zeros and spaces are kept
  (``"007"`` is not ``7``);
- integers (Python or NumPy) are written in decimal: ``7`` -> ``"7"``;
- floats that are whole numbers are written as integers (``7.0`` -> ``"7"``); other floats in
  their shortest exact form (``7.5`` -> ``"7.5"``);
- booleans are ``"True"`` and ``"False"``: ``True`` is not ``1``;
- missing values (``None``, ``NaN``, ``pd.NA``, ``NaT``) have no text: they stay missing;
- anything else is ``str(value)``.

So ``7``, ``7.0``, ``"7"`` and ``"7.0"`` share a pseudonym; ``True`` and ``1`` do not.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd

from pekso_toolkit.core.errors import AnalysisError

__all__ = ["canonical_text", "pseudonym", "pseudonymise"]

_WHOLE_TEXT = re.compile(r"(-?\d+)\.0+")


def _key_bytes(key: object) -> bytes:
    if isinstance(key, str):
        raw = key.encode("utf-8")
    elif isinstance(key, bytes | bytearray):
        raw = bytes(key)
    else:
        raise AnalysisError(
            f"key: kunci rahasia harus berupa teks atau bytes, bukan {type(key).__name__}",
            f"key: the secret key must be text or bytes, not {type(key).__name__}",
            field="key",
        )
    if not raw:
        raise AnalysisError(
            "key: kunci rahasia tidak boleh kosong; simpan kunci di luar data",
            "key: the secret key must not be empty; keep the key apart from the data",
            field="key",
        )
    return raw


def canonical_text(value: object) -> str | None:
    """The text a value's pseudonym is computed from (None for a missing value).

    See the module docstring for the rules.

    >>> [canonical_text(v) for v in (7, 7.0, "7.0", "007", 7.5, True, None)]
    ['7', '7', '7', '007', '7.5', 'True', None]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating | Decimal):
        if isinstance(value, Decimal):
            if value.is_nan():
                return None
            number: float | Decimal = value
        else:
            number = float(value)
            if math.isnan(number):
                return None
        if not math.isinf(number) and number == int(number):
            return str(int(number))
        return repr(number) if isinstance(number, float) else str(number)
    if isinstance(value, str):
        whole = _WHOLE_TEXT.fullmatch(value)
        if whole is not None:
            digits = whole.group(1)
            return "0" if digits.lstrip("-").strip("0") == "" else digits
        return value
    if isinstance(value, np.datetime64 | np.timedelta64) and np.isnat(value):
        return None
    return str(value)


def _digest(raw_key: bytes, text: str, prefix: str, length: int) -> str:
    return prefix + hmac.new(raw_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def pseudonym(value: object, *, key: str | bytes, prefix: str = "ps_", length: int = 16) -> str:
    """The pseudonym of one value: ``prefix`` + the first ``length`` hex digits of
    HMAC-SHA256(key, :func:`canonical_text` (value)).

    Raises
    ------
    ValueError
        When the value is missing (a missing value has no pseudonym) or the key is empty.
    """
    text = canonical_text(value)
    if text is None:
        raise AnalysisError(
            "value: nilai kosong tidak punya nama samaran",
            "value: a missing value has no pseudonym",
            field="value",
        )
    return _digest(_key_bytes(key), text, prefix, length)


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
    HMAC-SHA256(``key``, canonical text of the value). The same value and key always give the
    same pseudonym, whatever else the column holds, so tables pseudonymised with one key still
    join; without the key the original values cannot be recovered by trying likely values.
    Missing values stay missing. Values are compared by their canonical text
    (:func:`canonical_text`): ``5``, ``5.0`` and ``"5"`` get the same pseudonym, ``True`` and
    ``1`` do not.

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
        raise AnalysisError(
            f"columns: {missing} tidak ada di tabel; kolom yang ada: {list(table.columns)}",
            f"columns: {missing} are not columns of the table; columns: {list(table.columns)}",
            field="columns",
        )
    out = table.copy()
    for col in names:
        values = out[col]
        if values.dtype == object:
            # mixed Python values: pandas would take True and 1 (and 1.0) for one value
            values = pd.Series([canonical_text(v) for v in values.to_numpy()], dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = [canonical_text(u) for u in uniques]
        hashed = np.array(
            [None if t is None else _digest(raw_key, t, prefix, length) for t in texts] + [None],
            dtype=object,
        )
        out[col] = pd.array(hashed[codes], dtype="string")
    return out
