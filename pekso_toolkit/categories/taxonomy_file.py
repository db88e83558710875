"""Reading taxonomy files: the YAML format described in :mod:`pekso_toolkit.categories.taxonomy`.

Every problem found in a file raises :class:`~pekso_toolkit.core.errors.TaxonomyError` naming the
code or key concerned: an empty list, a duplicate code, a parent that is not a category (orphan), a
cycle, an unknown key, a malformed keyword list, or a second hierarchy that does not group every
leaf.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pekso_toolkit.categories.tree import (
    Category,
    Keyword,
    _did_you_mean,
    _error,
    _frozen,
    load_yaml,
)

T = TypeVar("T")

__all__ = ["parse_keywords", "read_yaml", "taxonomy_from_dict"]

_TOP_KEYS = {"name", "label_id", "label_en", "source", "description", "categories", "hierarchies"}
_CATEGORY_KEYS = {
    "code",
    "label_id",
    "label_en",
    "parent",
    "secondary",
    "attributes",
    "alt_parents",
    "keywords",
}
_HIERARCHY_KEYS = {"label_id", "label_en", "description", "categories"}
_HIERARCHY_CATEGORY_KEYS = {"code", "label_id", "label_en", "parent"}


def taxonomy_from_dict(
    data: Mapping[str, Any], *, make: Callable[..., T], origin: str = "taxonomy"
) -> T:
    """Check parsed YAML data and build a taxonomy with ``make`` (the ``Taxonomy`` class).

    ``origin`` names the source in errors.
    """
    if not isinstance(data, Mapping):
        raise _error(
            f"{origin}: isi berkas harus berupa pemetaan (name, categories, ...)",
            f"{origin}: expected a mapping with 'name' and 'categories'",
        )
    _check_keys(data, _TOP_KEYS, origin)
    name = str(data.get("name") or Path(origin).stem)
    records = _records(data.get("categories"), _CATEGORY_KEYS, f"{origin} '{name}'")
    levels = _levels(records, name)
    categories = tuple(_make_category(r, levels[r["code"]]) for r in records)
    label_id, label_en = _labels(data, name)
    leaves = [c for c in categories if not any(o.parent == c.code for o in categories)]
    alternatives: dict[str, T] = {}
    hierarchies = data.get("hierarchies") or {}
    if not isinstance(hierarchies, Mapping):
        raise _error(
            f"{origin}: 'hierarchies' harus berupa pemetaan",
            f"{origin}: 'hierarchies' must map a name to a grouping",
        )
    for alt_name, alt_data in hierarchies.items():
        alternatives[str(alt_name)] = _alternative(str(alt_name), alt_data, leaves, origin, make)
    for cat in categories:
        for alt_name in cat.alt_parents:
            if alt_name not in alternatives:
                raise _error(
                    f"kategori '{cat.code}' merujuk hierarki '{alt_name}' yang tidak ada",
                    f"category '{cat.code}' has alt_parents for '{alt_name}', which is not "
                    f"under 'hierarchies' (known: {sorted(alternatives) or '-'})",
                )
            if cat not in leaves:
                raise _error(
                    f"alt_parents hanya untuk kategori terbawah, bukan '{cat.code}'",
                    f"alt_parents belong on leaves; '{cat.code}' has categories under it",
                )
    return make(
        name=name,
        label_id=label_id,
        label_en=label_en,
        categories=categories,
        alternatives=alternatives,
        source=str(data.get("source") or ""),
        description=str(data.get("description") or "").strip(),
    )


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _error(
            f"berkas taksonomi '{path}' tidak bisa dibaca",
            f"cannot read taxonomy file '{path}': {exc.strerror or exc}",
        ) from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        raise _error(
            f"berkas '{path}' bukan YAML yang sah",
            f"'{path}' is not valid YAML{where}: {getattr(exc, 'problem', exc)}",
        ) from None


def _check_keys(record: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = [str(k) for k in record if k not in allowed]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {sorted(allowed)}"
        raise _error(
            f"{where}: kunci '{key}' tidak dikenal",
            f"{where}: unknown key '{key}'{hint}",
        )


def _labels(record: Mapping[str, Any], code: str) -> tuple[str, str]:
    label_id = record.get("label_id")
    label_en = record.get("label_en")
    if not label_id and not label_en:
        return code, code
    return str(label_id or label_en), str(label_en or label_id)


def _records(raw: Any, allowed: set[str], where: str) -> list[dict[str, Any]]:
    if raw is None or (isinstance(raw, list) and not raw):
        raise _error(
            f"{where}: tidak ada kategori",
            f"{where} has no categories; add them under 'categories'",
        )
    if not isinstance(raw, list):
        raise _error(
            f"{where}: 'categories' harus berupa daftar",
            f"{where}: 'categories' must be a list of categories",
        )
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise _error(
                f"{where}: kategori ke-{i} bukan pemetaan",
                f"{where}: category {i} must be a mapping with 'code' and labels",
            )
        code = item.get("code")
        if isinstance(code, bool) or not isinstance(code, str) or not code.strip():
            raise _error(
                f"{where}: kategori ke-{i} tidak punya kode teks",
                f"{where}: category {i} needs a text 'code' (got {code!r}; quote numbers)",
            )
        if code != code.strip():
            raise _error(
                f"{where}: kode '{code}' diawali/diakhiri spasi",
                f"{where}: code '{code}' has leading or trailing spaces",
            )
        _check_keys(item, allowed, f"{where}: category '{code}'")
        if code in seen:
            raise _error(
                f"{where}: kode '{code}' muncul dua kali",
                f"{where}: duplicate code '{code}' (categories {seen[code]} and {i})",
            )
        seen[code] = i
        parent = item.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise _error(
                f"{where}: induk kategori '{code}' harus teks",
                f"{where}: parent of '{code}' must be a text code (got {parent!r})",
            )
        records.append(dict(item))
    return records


def _levels(records: list[dict[str, Any]], name: str) -> dict[str, int]:
    """Level of every code; raises on orphans and cycles (naming the codes)."""
    parents = {r["code"]: r.get("parent") for r in records}
    for child, parent in parents.items():
        if parent is not None and parent not in parents:
            raise _error(
                f"induk '{parent}' dari kategori '{child}' tidak ada",
                f"category '{child}' has parent '{parent}', which is not a category of '{name}' "
                f"(orphan; close matches: {_did_you_mean(parent, parents)})",
            )
    levels: dict[str, int] = {}
    for start in parents:
        chain: list[str] = []
        code: str | None = start
        while code is not None and code not in levels:
            if code in chain:
                cycle = chain[chain.index(code) :] + [code]
                raise _error(
                    f"kategori membentuk lingkaran: {' -> '.join(cycle)}",
                    f"categories form a cycle: {' -> '.join(cycle)}; one of them needs another "
                    "parent",
                )
            chain.append(code)
            code = parents[code]
        base = 0 if code is None else levels[code]
        for offset, c in enumerate(reversed(chain), start=1):
            levels[c] = base + offset
    return levels


def parse_keywords(entries: Any, code: str) -> tuple[Keyword, ...]:
    if entries is None:
        return ()
    if isinstance(entries, str) or not isinstance(entries, list):
        raise _error(
            f"kata kunci '{code}' harus berupa daftar",
            f"keywords of '{code}' must be a list of words or phrases",
        )
    out: list[Keyword] = []
    for entry in entries:
        if isinstance(entry, str) and entry.strip():
            out.append(Keyword(entry.strip()))
        elif isinstance(entry, Mapping) and len(entry) == 1:
            ((text, weight),) = entry.items()
            if (
                not isinstance(text, str)
                or isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or weight <= 0
            ):
                raise _error(
                    f"kata kunci '{code}': {entry!r} tidak sah",
                    f"keywords of '{code}': {entry!r} must be 'phrase: positive weight'",
                )
            out.append(Keyword(text.strip(), float(weight)))
        else:
            raise _error(
                f"kata kunci '{code}': {entry!r} tidak sah",
                f"keywords of '{code}': {entry!r} must be a word, a phrase or 'phrase: weight'",
            )
    return tuple(out)


def _make_category(record: Mapping[str, Any], level: int) -> Category:
    code = record["code"]
    label_id, label_en = _labels(record, code)
    secondary = record.get("secondary") or []
    if isinstance(secondary, str):
        secondary = [secondary]
    attributes = record.get("attributes") or {}
    alt_parents = record.get("alt_parents") or {}
    for name, value in (("attributes", attributes), ("alt_parents", alt_parents)):
        if not isinstance(value, Mapping):
            raise _error(
                f"'{name}' dari kategori '{code}' harus berupa pemetaan",
                f"'{name}' of category '{code}' must be a mapping (key: value)",
            )
    return Category(
        code=code,
        label_id=label_id,
        label_en=label_en,
        level=level,
        parent=record.get("parent"),
        secondary=tuple(str(s) for s in secondary),
        attributes=_frozen({str(k): v for k, v in attributes.items()}),
        alt_parents=_frozen({str(k): str(v) for k, v in alt_parents.items()}),
        keywords=parse_keywords(record.get("keywords"), code),
    )


def _alternative(
    name: str, data: Any, leaves: Sequence[Category], origin: str, make: Callable[..., T]
) -> T:
    where = f"{origin} hierarchy '{name}'"
    if not isinstance(data, Mapping):
        raise _error(
            f"{where}: harus berupa pemetaan",
            f"{where}: must be a mapping with labels and 'categories'",
        )
    _check_keys(data, _HIERARCHY_KEYS, where)
    records = _records(data.get("categories"), _HIERARCHY_CATEGORY_KEYS, where)
    leaf_codes = {leaf.code for leaf in leaves}
    for r in records:
        if r["code"] in leaf_codes:
            raise _error(
                f"{where}: kode '{r['code']}' sudah dipakai kategori terbawah",
                f"{where}: code '{r['code']}' is already a leaf code; group codes must differ",
            )
    for leaf in leaves:
        parent = leaf.alt_parents.get(name)
        if parent is None:
            raise _error(
                f"{where}: kategori '{leaf.code}' belum punya tempat",
                f"{where}: leaf '{leaf.code}' has no alt_parents entry for '{name}'",
            )
        groups = [r["code"] for r in records]
        if parent not in groups:
            raise _error(
                f"{where}: induk '{parent}' dari '{leaf.code}' tidak ada",
                f"{where}: leaf '{leaf.code}' has parent '{parent}', which is not a group of "
                f"this hierarchy (close matches: {_did_you_mean(parent, groups)})",
            )
    combined = records + [
        {"code": leaf.code, "parent": leaf.alt_parents[name], "_leaf": leaf} for leaf in leaves
    ]
    levels = _levels(combined, name)
    used = {leaf.alt_parents[name] for leaf in leaves} | {r.get("parent") for r in records}
    for r in records:
        if r["code"] not in used:
            raise _error(
                f"{where}: kelompok '{r['code']}' kosong",
                f"{where}: group '{r['code']}' has no categories under it",
            )
    cats = [_make_category(r, levels[r["code"]]) for r in records]
    cats += [
        replace(leaf, level=levels[leaf.code], parent=leaf.alt_parents[name], secondary=())
        for leaf in leaves
    ]
    label_id, label_en = _labels(data, name)
    return make(
        name=name,
        label_id=label_id,
        label_en=label_en,
        categories=tuple(cats),
        description=str(data.get("description") or "").strip(),
    )
