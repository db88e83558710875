"""The pieces a taxonomy is built of: categories, keywords, the tree check, YAML reading.

:class:`~pekso_toolkit.categories.taxonomy.Taxonomy` assembles them; :mod:`.taxonomy_file`
parses files into them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from pekso_toolkit.core.errors import TaxonomyError
from pekso_toolkit.core.i18n import pick

__all__ = ["AttributeValue", "Category", "Keyword", "load_yaml"]

AttributeValue = str | int | float | bool


class YamlLoader(yaml.SafeLoader):
    """Safe YAML loader where only ``true``/``false`` are booleans (as in YAML 1.2).

    YAML 1.1 also reads ``yes``, ``no``, ``on`` and ``off`` as booleans, which would turn an
    attribute named ``no`` (nomor) or a code ``ON`` into ``False``/``True``.
    """


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`YamlLoader`."""
    return yaml.load(text, Loader=YamlLoader)


def _error(message_id: str, message_en: str) -> TaxonomyError:
    return TaxonomyError(message_id, message_en)


class FrozenMap(Mapping[Any, Any]):
    """A read-only mapping (unlike ``types.MappingProxyType`` it can be pickled)."""

    __slots__ = ("_data",)
    _data: dict[Any, Any]

    def __init__(self, data: Mapping[Any, Any] | None = None) -> None:
        object.__setattr__(self, "_data", dict(data or {}))

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))

    def __repr__(self) -> str:
        return repr(self._data)


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return FrozenMap(mapping)


def _close_matches(code: str, known: Iterable[str]) -> list[str]:
    known = list(known)
    same_case = [k for k in known if k.casefold() == code.casefold()]
    close = difflib.get_close_matches(code, known, n=3, cutoff=0.5)
    close += difflib.get_close_matches(code.casefold(), [k.casefold() for k in known], n=3)
    by_fold = {k.casefold(): k for k in known}
    out: list[str] = []
    for c in same_case + close:
        c = by_fold.get(c, c) if c not in known else c
        if c in known and c not in out:
            out.append(c)
    return out[:3]


def _did_you_mean(code: str, known: Iterable[str]) -> str:
    matches = _close_matches(code, known)
    return (", ".join(repr(m) for m in matches)) if matches else "-"


@dataclass(frozen=True)
class Keyword:
    """A word or phrase that points to a category in a problem statement.

    Attributes
    ----------
    text : str
        As written in the keyword list (shown to the worker as the reason for a suggestion).
    weight : float
        Multiplies the phrase's base weight (a phrase of several words counts more than a word).
    """

    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Category:
    """One category of a taxonomy.

    Attributes
    ----------
    code : str
        Unique code, e.g. ``"AT"`` or ``"anak"``.
    label_id, label_en : str
        Label in Bahasa Indonesia and in English.
    level : int
        1 for a top-level category, parent's level + 1 below it.
    parent : str or None
        Code of the parent (None at level 1).
    secondary : tuple of str
        Codes of other categories this one also belongs to (cross-references, e.g. a child with a
        disability also concerns the ``disabilitas`` cluster). Roll-ups follow ``parent`` only.
    attributes : Mapping
        Extra read-only attributes, e.g. the official number ``no`` or ``kemensos_admin_cluster``.
    alt_parents : Mapping
        For leaves: parent code in each second hierarchy (``{"pp39": "ketelantaran"}``).
    keywords : tuple of Keyword
        For leaves: words and phrases used by :meth:`Taxonomy.suggest`.
    """

    code: str
    label_id: str
    label_en: str
    level: int = 1
    parent: str | None = None
    secondary: tuple[str, ...] = ()
    attributes: Mapping[str, AttributeValue] = field(default_factory=_frozen, hash=False)
    alt_parents: Mapping[str, str] = field(default_factory=_frozen, hash=False)
    keywords: tuple[Keyword, ...] = ()

    def label(self, lang: str | None = None) -> str:
        """The label in ``lang`` (default: the current language, see :func:`set_language`)."""
        return pick(self.label_id, self.label_en, lang)


@dataclass(frozen=True)
class _Index:
    by_code: Mapping[str, Category]
    children: Mapping[str | None, tuple[str, ...]]
    leaves: tuple[str, ...]
    depth: int


def _check_tree(name: str, categories: Sequence[Category]) -> _Index:
    """Validate codes, parents and levels; build the lookup tables."""
    if not categories:
        raise _error(
            f"taksonomi '{name}' tidak punya kategori",
            f"taxonomy '{name}' has no categories; add a list under 'categories'",
        )
    by_code: dict[str, Category] = {}
    for cat in categories:
        if cat.code in by_code:
            raise _error(
                f"kode '{cat.code}' muncul dua kali", f"code '{cat.code}' appears twice in '{name}'"
            )
        by_code[cat.code] = cat
    children: dict[str | None, list[str]] = {}
    for cat in categories:
        if cat.parent is not None and cat.parent not in by_code:
            raise _error(
                f"induk '{cat.parent}' dari kategori '{cat.code}' tidak ada",
                f"category '{cat.code}' has parent '{cat.parent}', which is not a category of "
                f"'{name}' (close matches: {_did_you_mean(cat.parent, by_code)})",
            )
        children.setdefault(cat.parent, []).append(cat.code)
    for cat in categories:
        expected = 1 if cat.parent is None else by_code[cat.parent].level + 1
        if cat.level != expected:
            raise _error(
                f"tingkat kategori '{cat.code}' salah",
                f"category '{cat.code}' has level {cat.level}; its place in the tree gives "
                f"{expected}",
            )
        for other in cat.secondary:
            if other not in by_code or other == cat.code:
                raise _error(
                    f"rujukan sekunder '{other}' dari '{cat.code}' tidak ada",
                    f"category '{cat.code}' lists secondary '{other}', which is not another "
                    f"category of '{name}' (close matches: {_did_you_mean(other, by_code)})",
                )
    leaves_list: list[str] = []

    def walk(parent: str | None) -> None:  # tree order: each branch before the next
        for code in children.get(parent, ()):
            if code in children:
                walk(code)
            else:
                leaves_list.append(code)

    walk(None)
    leaves = tuple(leaves_list)
    for cat in categories:
        if cat.keywords and cat.code not in leaves:
            raise _error(
                f"kata kunci hanya untuk kategori terbawah, bukan '{cat.code}'",
                f"keywords belong on leaves; '{cat.code}' has categories under it",
            )
    return _Index(
        by_code=FrozenMap(by_code),
        children=FrozenMap({k: tuple(v) for k, v in children.items()}),
        leaves=leaves,
        depth=max(c.level for c in categories),
    )
