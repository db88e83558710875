"""Problem categories in analysis: counts per category, contract scope coverage, stays by category.

* :func:`category_summary` -- cases and problems per category at any level of a taxonomy.
* :func:`scope_coverage` -- per case and overall: what share of the stated problems the service
  contract covers, how many were referred out, and how often the contract was amended.
* :func:`join_categories` -- add ``category_l1``, ``category_l2``, ... to a stays frame so that
  time in stage can be summarised by category (``stage_summary(stays, by="category_l1")``).

The problem frame
-----------------
:func:`scope_coverage` (and the other two, when given problems) read one row per stated problem,
as returned by ``CaseStore.problems()``:

``case_id`` (str)
    The case.
``problem_id`` (str)
    The problem within the case (optional here; rows are counted).
``category`` (str or NA)
    Leaf code of the taxonomy; NA while the worker has not categorised it.
``scope`` (``"in"``, ``"out"`` or NA)
    Whether the case's current service contract covers the problem; NA = not decided yet.
``referred_to`` (str or NA)
    Where the problem was referred (rujukan); NA when not referred.
``n_amendments`` (int)
    Amendments of the case's contract, repeated on each row of the case (when the rows of a case
    differ, the largest is used; pass ``amendments=`` to give case-level counts instead).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import PeksoError, TaxonomyError
from pekso_toolkit.core.i18n import pick

__all__ = ["ScopeCoverage", "category_summary", "join_categories", "scope_coverage"]

_UNCATEGORISED = ("Belum dikategorikan", "Not categorised")


def _require(
    frame: pd.DataFrame, columns: Iterable[str], what: str, error: type[PeksoError]
) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(
            f"kolom {missing} tidak ada di {what}; kolom yang ada: {list(frame.columns)}",
            f"{what} has no column(s) {missing}; columns present: {list(frame.columns)}",
            field=what,
        )


def category_summary(
    cases: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    level: int = 1,
    category: str = "category",
    case: str = "case_id",
    hierarchy: str | None = None,
    include_empty: bool = True,
    lang: str | None = None,
) -> pd.DataFrame:
    """Cases and problems per category at one level of a taxonomy.

    Parameters
    ----------
    cases : DataFrame
        One row per problem (``case_id`` + ``category`` leaf codes; a case may have several
        rows) or one row per case. Without a ``case`` column every row counts as its own case.
    taxonomy : Taxonomy, optional
        Default :meth:`Taxonomy.ppks`.
    level : int
        Level to count at (1 = top: clusters for PPKS; 2 = PPKS types).
    category : str
        Column of leaf codes.
    case : str
        Column of case ids.
    hierarchy : str, optional
        Count in a second hierarchy of the taxonomy (e.g. ``"pp39"``).
    include_empty : bool
        List every category of the level, with zero counts, not only those present.
    lang : str, optional
        Language of ``label`` (default: the current language).

    Returns
    -------
    DataFrame
        One row per category in taxonomy order, then one row with ``code`` <NA> for problems
        without a category (only when there are any). Columns: ``code``, ``label``, ``level``,
        ``n_cases`` (distinct cases with at least one problem in the category), ``n_problems``
        (rows), ``share_problems`` (n_problems / all rows; sums to 1), ``share_cases`` (n_cases /
        all distinct cases; a case with problems in several categories counts in each, so this
        column can sum to more than 1). Shares are fractions 0..1 (NaN for an empty input).

    Raises
    ------
    TaxonomyError
        A missing column, an unknown code (naming it and its row) or an invalid level.
    """
    tax = (taxonomy or Taxonomy.ppks()).hierarchy(hierarchy)
    _require(cases, [category], "cases", TaxonomyError)
    rolled = tax.rollup(cases[category].reset_index(drop=True), level=level)
    case_ids = (
        cases[case].reset_index(drop=True).astype("string")
        if case in cases.columns
        else pd.Series(np.arange(len(cases)).astype(str), dtype="string")
    )
    frame = pd.DataFrame({"case": case_ids, "code": rolled})
    n_rows = len(frame)
    n_cases_total = frame["case"].nunique()
    grouped = frame.groupby("code", dropna=False, sort=False)
    counts = pd.DataFrame(
        {"n_problems": grouped.size(), "n_cases": grouped["case"].nunique(dropna=True)}
    )
    order = [
        c
        for c in tax.codes()
        if tax.level(c) == level or (c in tax.leaves and tax.level(c) < level)
    ]
    present = [c for c in order if c in counts.index]
    codes: list[Any] = order if include_empty else present
    has_na = bool(frame["code"].isna().any())
    index = codes + ([pd.NA] if has_na else [])
    counts = counts.reindex(pd.Index(index, dtype="object")).fillna(0)
    labels = [tax.label(c, lang) for c in codes]
    if has_na:
        labels.append(pick(*_UNCATEGORISED, lang))
    out = pd.DataFrame(
        {
            "code": pd.array(codes + ([pd.NA] if has_na else []), dtype="string"),
            "label": pd.array(labels, dtype="string"),
            "level": np.full(len(index), level, dtype="int64"),
            "n_cases": counts["n_cases"].to_numpy().astype("int64"),
            "n_problems": counts["n_problems"].to_numpy().astype("int64"),
        }
    )
    out["share_problems"] = out["n_problems"] / n_rows if n_rows else np.nan
    out["share_cases"] = out["n_cases"] / n_cases_total if n_cases_total else np.nan
    return out


@dataclass(frozen=True)
class ScopeCoverage:
    """Result of :func:`scope_coverage`.

    Attributes
    ----------
    per_case : DataFrame
        One row per case (in order of first appearance): ``case_id``, ``n_problems``,
        ``n_in_scope``, ``n_out_of_scope``, ``n_undecided`` (scope NA), ``n_referred``
        (``referred_to`` given), ``coverage`` (n_in_scope / n_problems, 0..1), ``n_amendments``.
    overall : dict
        ``n_cases``, ``n_problems``, ``n_in_scope``, ``n_out_of_scope``, ``n_undecided``,
        ``n_referred``, ``coverage`` (all in-scope problems / all problems), ``mean_case_coverage``
        (mean of the per-case coverage), ``n_amendments`` (sum over cases),
        ``n_cases_amended`` (cases with at least one amendment).
    """

    per_case: pd.DataFrame
    overall: Mapping[str, float]

    def __repr__(self) -> str:
        o = self.overall
        return (
            f"ScopeCoverage(n_cases={o['n_cases']}, n_problems={o['n_problems']}, "
            f"coverage={o['coverage']:.3f}, n_referred={o['n_referred']}, "
            f"n_amendments={o['n_amendments']})"
        )

    def _repr_html_(self) -> str:
        o = self.overall
        items = "".join(
            f"<li>{html.escape(str(k))}: {v:.1%}</li>"
            if k in ("coverage", "mean_case_coverage") and not pd.isna(v)
            else f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
            for k, v in o.items()
        )
        table = self.per_case.to_html(index=False, float_format=lambda v: f"{v:.2f}")
        return (
            "<div><strong>Cakupan kontrak / contract scope coverage</strong>"
            f"<ul>{items}</ul>{table}</div>"
        )


def scope_coverage(
    problems: pd.DataFrame, *, amendments: pd.Series | pd.DataFrame | None = None
) -> ScopeCoverage:
    """Share of stated problems the service contract covers, referrals and amendments.

    Parameters
    ----------
    problems : DataFrame
        One row per problem (see the module docstring): ``case_id``, ``scope``, ``referred_to``
        and ``n_amendments`` are read; ``problem_id`` and ``category`` may be present.
        ``referred_to`` and ``n_amendments`` may be missing (counted as none).
    amendments : Series or DataFrame, optional
        Amendments per case, overriding the ``n_amendments`` column: a Series indexed by case id,
        or a frame with ``case_id`` and ``n_amendments`` (e.g. ``CaseStore.cases()``).

    Returns
    -------
    ScopeCoverage
        ``.per_case`` (DataFrame) and ``.overall`` (dict); see :class:`ScopeCoverage`.

    Raises
    ------
    PeksoError
        A missing ``case_id`` or ``scope`` column, or a scope value other than ``"in"``,
        ``"out"`` or missing (naming the row).
    """
    _require(problems, ["case_id", "scope"], "problems", PeksoError)
    scope = problems["scope"].astype("string").str.strip().str.lower().reset_index(drop=True)
    bad = scope.notna() & ~scope.isin(["in", "out"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PeksoError(
            f"baris {row}: scope {problems['scope'].iloc[row]!r} harus 'in', 'out' atau kosong",
            f"row {row}: scope {problems['scope'].iloc[row]!r} must be 'in', 'out' or missing "
            "(not decided)",
        )
    case_id = problems["case_id"].astype("string").reset_index(drop=True)
    if "referred_to" in problems.columns:
        ref = problems["referred_to"].astype("string").str.strip().reset_index(drop=True)
        referred = ref.notna() & (ref != "")
    else:
        referred = pd.Series(False, index=case_id.index)
    if "n_amendments" in problems.columns:
        amend = pd.to_numeric(problems["n_amendments"]).fillna(0).reset_index(drop=True)
    else:
        amend = pd.Series(0, index=case_id.index)
    frame = pd.DataFrame(
        {
            "case_id": case_id,
            "n_problems": 1,
            "n_in_scope": (scope == "in").fillna(False).astype("int64"),
            "n_out_of_scope": (scope == "out").fillna(False).astype("int64"),
            "n_undecided": scope.isna().astype("int64"),
            "n_referred": referred.fillna(False).astype("int64"),
            "n_amendments": amend,
        }
    )
    grouped = frame.groupby("case_id", sort=False)
    per_case = grouped[
        ["n_problems", "n_in_scope", "n_out_of_scope", "n_undecided", "n_referred"]
    ].sum()
    per_case["coverage"] = per_case["n_in_scope"] / per_case["n_problems"]
    per_case["n_amendments"] = grouped["n_amendments"].max()
    if amendments is not None:
        if isinstance(amendments, pd.DataFrame):
            _require(amendments, ["case_id", "n_amendments"], "amendments", PeksoError)
            amendments = amendments.set_index("case_id")["n_amendments"]
        given = pd.Series(amendments.to_numpy(), index=amendments.index.astype("string"))
        per_case["n_amendments"] = given.reindex(per_case.index).fillna(0).to_numpy()
    per_case = per_case.reset_index()
    for col in ("n_problems", "n_in_scope", "n_out_of_scope", "n_undecided", "n_referred"):
        per_case[col] = per_case[col].astype("int64")
    per_case["n_amendments"] = per_case["n_amendments"].astype("int64")
    per_case["case_id"] = per_case["case_id"].astype("string")
    per_case = per_case[
        [
            "case_id",
            "n_problems",
            "n_in_scope",
            "n_out_of_scope",
            "n_undecided",
            "n_referred",
            "coverage",
            "n_amendments",
        ]
    ]
    n_problems = int(per_case["n_problems"].sum())
    overall: dict[str, float] = {
        "n_cases": len(per_case),
        "n_problems": n_problems,
        "n_in_scope": int(per_case["n_in_scope"].sum()),
        "n_out_of_scope": int(per_case["n_out_of_scope"].sum()),
        "n_undecided": int(per_case["n_undecided"].sum()),
        "n_referred": int(per_case["n_referred"].sum()),
        "coverage": float(per_case["n_in_scope"].sum() / n_problems) if n_problems else np.nan,
        "mean_case_coverage": float(per_case["coverage"].mean()) if len(per_case) else np.nan,
        "n_amendments": int(per_case["n_amendments"].sum()),
        "n_cases_amended": int((per_case["n_amendments"] > 0).sum()),
    }
    return ScopeCoverage(per_case=per_case, overall=overall)


def join_categories(
    stays: pd.DataFrame,
    *,
    cases: pd.DataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    levels: Iterable[int] = (1, 2),
    category: str = "category",
    case: str = "case_id",
    hierarchy: str | None = None,
    multiple: Literal["primary", "first", "error"] = "primary",
) -> pd.DataFrame:
    """Add category roll-ups to a stays frame (one row per stay with a case id).

    Parameters
    ----------
    stays : DataFrame
        E.g. from :func:`~pekso_toolkit.stays.durations.time_in_stage`. When it already has the
        ``category`` column (leaf codes), that column is used and ``cases`` is not needed.
    cases : DataFrame, optional
        ``case_id`` and ``category``: one row per case, or one row per problem (then one
        category per case is chosen by ``multiple``).
    taxonomy : Taxonomy, optional
        Default :meth:`Taxonomy.ppks`.
    levels : iterable of int
        Levels to add, one column each.
    category, case : str
        Column names of the leaf code and the case id.
    hierarchy : str, optional
        Roll up through a second hierarchy (e.g. ``"pp39"``).
    multiple : {"primary", "first", "error"}
        When ``cases`` has several categorised rows for a case: ``"primary"`` takes the first
        in-scope problem with a category (rows in the given order; without a ``scope`` column, the
        first with a category), ``"first"`` the first with a category, ``"error"`` raises.

    Returns
    -------
    DataFrame
        A copy of ``stays`` (same rows, order and index) plus ``category`` (leaf code, when it
        came from ``cases``) and one column per level: ``category_l1``, ``category_l2``, ... (with
        ``hierarchy``: ``category_pp39_l1``, ...); pandas ``"string"`` dtype, <NA> for stays whose
        case has no category.

    Raises
    ------
    TaxonomyError
        Missing columns, unknown codes, an invalid level, or several categories for a case with
        ``multiple="error"``.
    """
    tax = taxonomy or Taxonomy.ppks()
    view = tax.hierarchy(hierarchy)
    out = stays.copy()
    if category not in out.columns:
        if cases is None:
            raise TaxonomyError(
                f"stays tidak punya kolom '{category}'; berikan cases",
                f"stays have no '{category}' column; pass cases with '{case}' and '{category}'",
            )
        _require(out, [case], "stays", TaxonomyError)
        _require(cases, [case, category], "cases", TaxonomyError)
        per_case = _one_category_per_case(cases, case=case, category=category, multiple=multiple)
        keys = out[case].astype("string")
        out[category] = pd.array(keys.map(per_case).to_numpy(dtype=object), dtype="string")
    prefix = category if hierarchy is None else f"{category}_{hierarchy}"
    leaf_codes = out[category]
    for level in levels:
        out[f"{prefix}_l{level}"] = view.rollup(
            pd.Series(leaf_codes.to_numpy(dtype=object), index=out.index), level=level
        )
    return out


def _one_category_per_case(
    cases: pd.DataFrame, *, case: str, category: str, multiple: str
) -> dict[str, str]:
    if multiple not in ("primary", "first", "error"):
        raise TaxonomyError(
            "multiple harus 'primary', 'first' atau 'error'",
            f"multiple must be 'primary', 'first' or 'error', not {multiple!r}",
        )
    rows = cases[cases[category].notna()]
    keys = rows[case].astype("string")
    if multiple == "error":
        n_distinct = rows.groupby(keys, sort=False)[category].nunique()
        several = n_distinct[n_distinct > 1]
        if len(several):
            raise TaxonomyError(
                f"kasus '{several.index[0]}' punya {int(several.iloc[0])} kategori",
                "case "
                f"'{several.index[0]}' has {int(several.iloc[0])} categories; pass one row per "
                "case or multiple='primary'",
            )
    chosen = rows.groupby(keys, sort=False)[category].first()
    if multiple == "primary" and "scope" in rows.columns:
        in_scope = rows["scope"].astype("string").str.strip().str.lower() == "in"
        in_rows = rows[in_scope.fillna(False).to_numpy()]
        preferred = in_rows.groupby(in_rows[case].astype("string"), sort=False)[category].first()
        chosen = preferred.combine_first(chosen)
    return {str(k): str(v) for k, v in chosen.items()}
