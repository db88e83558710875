"""Problem taxonomies: a tree of categories, roll-ups to any level, and suggestions from text.

During assessment a worker breaks the client's story into problems and files each one under a
leaf of a taxonomy; analysis then rolls the leaves up to broader groups. A :class:`Taxonomy` is an
immutable tree of :class:`Category` objects:

* :meth:`Taxonomy.ppks` -- the default: the 26 PPKS types (level 2) in eight clusters (level 1),
  with the PP 39/2012 criteria as a second grouping of the same leaves (``hierarchy="pp39"``);
* :meth:`Taxonomy.pie` -- a draft Person-In-Environment tree (factor, role or system, problem type);
* :meth:`Taxonomy.from_file` -- an agency's own tree from a YAML file.

Second hierarchies
------------------
A taxonomy may group its leaves a second (third, ...) way. Each grouping has a name
(:attr:`Taxonomy.hierarchies`) and is itself a :class:`Taxonomy` over the same leaves, returned by
:meth:`Taxonomy.hierarchy`. :meth:`Taxonomy.rollup` and :meth:`Taxonomy.path` take
``hierarchy=name`` to use it; everything else is asked of the view::

    tax = Taxonomy.ppks()
    tax.rollup(["AT", "FM"], level=1)                   # ['anak', 'kemiskinan']
    tax.rollup(["AT", "FM"], level=1, hierarchy="pp39")  # ['ketelantaran', 'kemiskinan']
    tax.hierarchy("pp39").children("kemiskinan")         # ('PRSE', 'FM')

File format
-----------
YAML with ``name``, ``label_id``, ``label_en`` (optional ``source``, ``description``), a list
``categories`` and optional ``hierarchies``. Each category has ``code`` and ``label_id`` and/or
``label_en`` (one is copied to the other when missing) and optionally ``parent``, ``secondary``
(codes of other categories it also belongs to), ``attributes`` (free key: value pairs),
``alt_parents`` (``{hierarchy name: parent code}``, leaves only) and ``keywords`` (leaves only; a
list of words or phrases, or ``{phrase: weight}``). ``hierarchies`` maps a name to
``{label_id, label_en, description, categories}`` whose categories (code, labels, parent) group the
leaves through their ``alt_parents``. ``pekso_toolkit/data/ppks.yaml`` is a full example.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from pekso_toolkit.categories.suggest import KeywordMatcher, Suggestions
from pekso_toolkit.categories.taxonomy_file import parse_keywords, read_yaml, taxonomy_from_dict
from pekso_toolkit.categories.tree import (
    Category,
    Keyword,
    _check_tree,
    _did_you_mean,
    _error,
    _frozen,
    _Index,
    load_yaml,
)
from pekso_toolkit.core.errors import TaxonomyError
from pekso_toolkit.core.i18n import bilingual

__all__ = ["Category", "Keyword", "Taxonomy"]


@dataclass(frozen=True)
class Taxonomy:
    """An immutable tree of problem categories (see the module docstring).

    Build one with :meth:`ppks`, :meth:`pie`, :meth:`from_file` or :meth:`from_dict`; the
    constructor checks a ready list of :class:`Category` objects.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"ppks"``.
    label_id, label_en : str
        Title in Bahasa Indonesia and English.
    categories : tuple of Category
        Every category, in display order.
    alternatives : Mapping
        Second hierarchies by name, each a Taxonomy over the same leaves.
    source, description : str
        Where the tree comes from; a short description.
    """

    name: str
    label_id: str
    label_en: str
    categories: tuple[Category, ...]
    alternatives: Mapping[str, Taxonomy] = field(default_factory=_frozen, hash=False)
    source: str = ""
    description: str = ""
    _index: _Index = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "alternatives", _frozen(self.alternatives))
        index = _check_tree(self.name, self.categories)
        object.__setattr__(self, "_index", index)
        for alt_name, alt in self.alternatives.items():
            if set(alt.leaves) != set(index.leaves):
                missing = sorted(set(index.leaves) - set(alt.leaves))
                extra = sorted(set(alt.leaves) - set(index.leaves))
                raise _error(
                    f"hierarki '{alt_name}' tidak mencakup kategori terbawah yang sama",
                    f"hierarchy '{alt_name}' must group exactly the leaves of '{self.name}'; "
                    f"leaves without a place: {missing or '-'}; groups without leaves: "
                    f"{extra or '-'}",
                )

    # ----------------------------------------------------------------- constructors
    @classmethod
    def ppks(cls) -> Taxonomy:
        """The 26 PPKS types in eight clusters, with the PP 39/2012 criteria as ``"pp39"``.

        Level 1 holds the clusters ``anak, lansia, disabilitas, tuna_sosial, korban, bencana,
        kemiskinan, kelompok_rentan``; level 2 the PPKS codes (``"ABT"`` ... ``"KAT"``) with their
        official Indonesian names and neutral English labels. Attributes keep the official number
        (``no``), the criterion text (``pp39_criterion``) and, for ODHA and KM, the Kemensos
        administrative cluster (``kemensos_admin_cluster``). Keywords for :meth:`suggest` come
        from ``ppks_keywords.yaml``.
        """
        return _load_packaged("ppks.yaml", keywords="ppks_keywords.yaml")

    @classmethod
    def pie(cls) -> Taxonomy:
        """A draft Person-In-Environment tree: factor -> role or system -> problem type.

        Codes are readable strings such as ``"social_role.family.loss"`` and
        ``"environment.economic_basic_needs"`` (the manual's numeric codes are not used). Factor I
        has three levels; Factor II stops at the system (level 2); Factors III and IV are single
        categories (level 1). No suggestion keywords are included.
        """
        return _load_packaged("pie.yaml")

    @classmethod
    def from_file(cls, path: str | Path, *, keywords: str | Path | None = None) -> Taxonomy:
        """Load an agency's own taxonomy from a YAML file (format: see the module docstring).

        Parameters
        ----------
        path : str or Path
            The YAML file.
        keywords : str or Path, optional
            A YAML file mapping leaf codes to keyword lists (the format of
            ``pekso_toolkit/data/ppks_keywords.yaml``).

        Raises
        ------
        TaxonomyError
            When the file cannot be read or the tree is invalid: empty, a duplicate code, a parent
            that is not a category (orphan), a cycle, an unknown key; the message names the code.
        """
        path = Path(path)
        tax = cls.from_dict(read_yaml(path), origin=str(path))
        if keywords is not None:
            tax = tax.with_keywords(read_yaml(Path(keywords)))
        return tax

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "taxonomy") -> Taxonomy:
        """Build a taxonomy from already-parsed data in the file format (see module docstring).

        ``origin`` names the source in error messages.
        """
        return taxonomy_from_dict(data, origin=origin, make=cls)

    def with_keywords(self, keywords: Mapping[str, Any]) -> Taxonomy:
        """A copy whose leaves carry ``keywords`` (leaf code -> list of words or phrases).

        Leaves not named keep their keywords. Unknown codes and internal categories raise
        :class:`TaxonomyError`.
        """
        if not isinstance(keywords, Mapping):
            raise _error(
                "daftar kata kunci harus memetakan kode ke daftar kata",
                "keywords must map a leaf code to a list of words or phrases",
            )
        parsed: dict[str, tuple[Keyword, ...]] = {}
        for code, entries in keywords.items():
            code = str(code)
            if code not in self._index.by_code:
                raise self._unknown(code)
            if code not in self._index.leaves:
                raise _error(
                    f"kata kunci hanya untuk kategori terbawah, bukan '{code}'",
                    f"keywords belong on leaves; '{code}' has categories under it",
                )
            parsed[code] = parse_keywords(entries, code)

        def with_new(categories: Iterable[Category]) -> tuple[Category, ...]:
            return tuple(
                replace(c, keywords=parsed[c.code]) if c.code in parsed else c for c in categories
            )

        alternatives = {
            name: replace(alt, categories=with_new(alt.categories))
            for name, alt in self.alternatives.items()
        }
        return replace(self, categories=with_new(self.categories), alternatives=alternatives)

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self.categories)

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index.by_code

    def __getitem__(self, code: str) -> Category:
        return self.category(code)

    def category(self, code: str) -> Category:
        """The :class:`Category` with this code (TaxonomyError naming close matches if unknown)."""
        try:
            return self._index.by_code[code]
        except (KeyError, TypeError):
            raise self._unknown(code) from None

    @property
    def leaves(self) -> tuple[str, ...]:
        """Codes of the categories with nothing under them, in tree order (branch by branch)."""
        return self._index.leaves

    @property
    def depth(self) -> int:
        """The deepest level of the tree."""
        return self._index.depth

    @property
    def hierarchies(self) -> tuple[str, ...]:
        """Names of the second hierarchies (e.g. ``("pp39",)`` for PPKS)."""
        return tuple(self.alternatives)

    def hierarchy(self, name: str | None) -> Taxonomy:
        """The taxonomy seen through a second hierarchy (``None``: this taxonomy itself)."""
        if name is None or name == self.name:
            return self
        try:
            return self.alternatives[name]
        except KeyError:
            raise _error(
                f"hierarki '{name}' tidak ada di taksonomi '{self.name}'",
                f"taxonomy '{self.name}' has no hierarchy '{name}'; known: "
                f"{list(self.hierarchies) or '-'}",
            ) from None

    def codes(self, level: int | None = None) -> tuple[str, ...]:
        """Codes of every category, or of those at ``level``, in display order."""
        if level is None:
            return tuple(c.code for c in self.categories)
        self._check_level(level)
        return tuple(c.code for c in self.categories if c.level == level)

    def parent(self, code: str) -> str | None:
        """Code of the parent category (None for a top-level category)."""
        return self.category(code).parent

    def children(self, code: str | None = None) -> tuple[str, ...]:
        """Codes directly under ``code`` (the top-level codes when ``code`` is None)."""
        if code is not None:
            self.category(code)
        return self._index.children.get(code, ())

    def level(self, code: str) -> int:
        """Level of a category: 1 at the top."""
        return self.category(code).level

    def path(self, code: str, *, hierarchy: str | None = None) -> tuple[str, ...]:
        """Codes from the top-level ancestor down to ``code`` itself."""
        tax = self.hierarchy(hierarchy)
        out = [code]
        parent = tax.category(code).parent
        while parent is not None:
            out.append(parent)
            parent = tax._index.by_code[parent].parent
        return tuple(reversed(out))

    def label(self, code: str, lang: str | None = None) -> str:
        """Label of a category in ``lang`` (default: the current language)."""
        return self.category(code).label(lang)

    # ----------------------------------------------------------------- roll-ups
    @overload
    def rollup(self, codes: str, *, level: int, hierarchy: str | None = None) -> str: ...

    @overload
    def rollup(self, codes: Any, *, level: int, hierarchy: str | None = None) -> Any: ...

    def rollup(self, codes: Any, *, level: int, hierarchy: str | None = None) -> Any:
        """Replace each code by its ancestor at ``level``.

        Parameters
        ----------
        codes : str, Series, array or list
            Category codes, usually leaves. A code already at or above ``level`` is returned
            unchanged (so ragged trees roll up cleanly). Missing values stay missing.
        level : int
            Target level, 1 = top.
        hierarchy : str, optional
            Name of a second hierarchy (see :attr:`hierarchies`), e.g. ``"pp39"``.

        Returns
        -------
        Same kind as ``codes``: a str for a str; a Series (pandas ``"string"`` dtype, same index
        and name, ``<NA>`` for missing) for a Series; an object array for an array and a list for
        any other sequence, with ``None`` for missing.

        Raises
        ------
        TaxonomyError
            Naming the first unknown codes (with their positions and close matches), or a level
            outside ``1..depth``.
        """
        tax = self.hierarchy(hierarchy)
        tax._check_level(level)
        mapping = tax._rollup_map(level)
        if isinstance(codes, str):
            if codes not in mapping:
                raise tax._unknown(codes)
            return mapping[codes]
        series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
        missing = series.isna().to_numpy()
        values = series.astype(object).where(~missing, None)
        unknown = ~missing & ~values.isin(list(mapping)).to_numpy()
        if unknown.any():
            positions = np.flatnonzero(unknown)
            bad = values.iloc[positions]
            first: dict[str, Any] = {}
            for row, value in zip(bad.index, bad):
                first.setdefault(str(value), row)
            shown = "; ".join(
                f"'{code}' (row {row}; close matches: {_did_you_mean(code, mapping)})"
                for code, row in list(first.items())[:5]
            )
            raise _error(
                f"{len(first)} kode tidak ada di taksonomi '{tax.name}'",
                f"{len(first)} code(s) not in taxonomy '{tax.name}': {shown}",
            )
        rolled = values.map(mapping)
        if isinstance(codes, pd.Series):
            return pd.Series(rolled.to_numpy(), index=codes.index, name=codes.name, dtype="string")
        out = [None if m else v for m, v in zip(missing, rolled.tolist())]
        if isinstance(codes, np.ndarray):
            return np.array(out, dtype=object)
        return out

    def _rollup_map(self, level: int) -> Mapping[str, str]:
        return self._rollup_maps[level]

    @cached_property
    def _rollup_maps(self) -> dict[int, dict[str, str]]:
        maps: dict[int, dict[str, str]] = {}
        for lvl in range(1, self.depth + 1):
            mapping: dict[str, str] = {}
            for cat in self.categories:
                path = self.path(cat.code)
                mapping[cat.code] = path[lvl - 1] if len(path) >= lvl else cat.code
            maps[lvl] = mapping
        return maps

    def _check_level(self, level: int) -> None:
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise _error("tingkat harus bilangan bulat", f"level must be an integer, not {level!r}")
        if not 1 <= level <= self.depth:
            raise _error(
                f"tingkat {level} tidak ada di taksonomi '{self.name}'",
                f"level {level} is outside taxonomy '{self.name}' (levels 1..{self.depth})",
            )

    def _unknown(self, code: object) -> TaxonomyError:
        return _error(
            f"kode '{code}' tidak ada di taksonomi '{self.name}'",
            f"code '{code}' is not in taxonomy '{self.name}' (close matches: "
            f"{_did_you_mean(str(code), self._index.by_code)})",
        )

    # ----------------------------------------------------------------- suggestions
    def suggest(self, text: str, *, k: int = 3, min_score: float = 0.0) -> Suggestions:
        """Suggest up to ``k`` leaves for a problem statement, best first, with the reasons.

        Keywords of each leaf (see ``ppks_keywords.yaml``) are matched after informal spellings
        are expanded and words are stemmed (PySastrawi). A suggestion is only made when at least
        one keyword matches: a statement with no evidence gets an empty result, never a guess.

        Parameters
        ----------
        text : str
            The problem as the worker wrote it (Bahasa Indonesia, English, mixed).
        k : int
            Maximum number of suggestions.
        min_score : float
            Drop suggestions scoring at or below this.

        Returns
        -------
        Suggestions
            A tuple of :class:`~pekso_toolkit.categories.suggest.Suggestion` (code, label_id,
            label_en, score, matched keywords); ``.to_frame()`` gives a table.
        """
        return self._matcher.suggest(text, k=k, min_score=min_score)

    @cached_property
    def _matcher(self) -> KeywordMatcher:
        return KeywordMatcher([self.category(code) for code in self.leaves])

    # ----------------------------------------------------------------- display
    def to_frame(self) -> pd.DataFrame:
        """One row per category, in display order.

        Returns
        -------
        DataFrame
            ``code``, ``label_id``, ``label_en``, ``level`` (1 = top), ``parent`` (code or
            <NA>), ``path`` (codes from the top joined by ``" > "``), ``is_leaf``, ``n_leaves``
            (leaves at or under the category), ``secondary`` (codes joined by ``", "``, empty when
            none), ``n_keywords``; then ``parent_<hierarchy>`` per second hierarchy (the leaf's
            parent there; <NA> for internal categories); then ``attr_<name>`` per attribute used
            by any category (<NA> where absent).
        """
        leaves = set(self.leaves)
        n_leaves = {c.code: 0 for c in self.categories}
        for leaf in self.leaves:
            for code in self.path(leaf):
                n_leaves[code] += 1
        rows: list[dict[str, Any]] = []
        attr_names: list[str] = []
        for cat in self.categories:
            for key in cat.attributes:
                if key not in attr_names:
                    attr_names.append(key)
        for cat in self.categories:
            row: dict[str, Any] = {
                "code": cat.code,
                "label_id": cat.label_id,
                "label_en": cat.label_en,
                "level": cat.level,
                "parent": cat.parent,
                "path": " > ".join(self.path(cat.code)),
                "is_leaf": cat.code in leaves,
                "n_leaves": n_leaves[cat.code],
                "secondary": ", ".join(cat.secondary),
                "n_keywords": len(cat.keywords),
            }
            for alt in self.hierarchies:
                row[f"parent_{alt}"] = cat.alt_parents.get(alt)
            for key in attr_names:
                row[f"attr_{key}"] = cat.attributes.get(key)
            rows.append(row)
        frame = pd.DataFrame(rows)
        text_cols = ["code", "label_id", "label_en", "parent", "path", "secondary"]
        text_cols += [f"parent_{alt}" for alt in self.hierarchies]
        frame[text_cols] = frame[text_cols].astype("string")
        frame["level"] = frame["level"].astype("int64")
        frame["n_leaves"] = frame["n_leaves"].astype("int64")
        frame["n_keywords"] = frame["n_keywords"].astype("int64")
        return frame

    def __repr__(self) -> str:
        alt = f", hierarchies={list(self.hierarchies)}" if self.alternatives else ""
        return (
            f"Taxonomy(name={self.name!r}, categories={len(self.categories)}, "
            f"leaves={len(self.leaves)}, depth={self.depth}{alt})"
        )

    def _repr_html_(self) -> str:
        esc = html.escape

        def items(parent: str | None) -> str:
            codes = self._index.children.get(parent, ())
            if not codes:
                return ""
            parts = []
            for code in codes:
                cat = self._index.by_code[code]
                extra = ""
                if cat.secondary:
                    extra = f" <small>(juga / also: {esc(', '.join(cat.secondary))})</small>"
                parts.append(
                    f"<li><code>{esc(code)}</code> {esc(bilingual(cat.label_id, cat.label_en))}"
                    f"{extra}{items(code)}</li>"
                )
            return "<ul>" + "".join(parts) + "</ul>"

        title = esc(bilingual(self.label_id, self.label_en))
        alt = ""
        if self.alternatives:
            alt = " &middot; hierarki lain / other hierarchies: " + esc(", ".join(self.hierarchies))
        return (
            f"<div class='pekso-taxonomy'><strong>{title}</strong><br>"
            f"<small>{len(self.categories)} kategori / categories, {len(self.leaves)} "
            f"terbawah / leaves, {self.depth} tingkat / levels{alt}</small>"
            f"{items(None)}</div>"
        )


_PACKAGED: dict[tuple[str, str | None], Taxonomy] = {}


def _load_packaged(name: str, *, keywords: str | None = None) -> Taxonomy:
    """Read a taxonomy shipped in ``pekso_toolkit/data`` (once per process; it is immutable)."""
    key = (name, keywords)
    if key not in _PACKAGED:
        data_dir = resources.files("pekso_toolkit") / "data"
        tax = Taxonomy.from_dict(load_yaml(data_dir.joinpath(name).read_text("utf-8")))
        if keywords is not None:
            tax = tax.with_keywords(load_yaml(data_dir.joinpath(keywords).read_text("utf-8")))
        _PACKAGED[key] = tax
    return _PACKAGED[key]
