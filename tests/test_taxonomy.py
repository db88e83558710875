"""Taxonomy: the PPKS and PIE trees, agency files, roll-ups, lookups and display."""

from __future__ import annotations

import csv
import dataclasses
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import TaxonomyError
from pekso_toolkit.core.i18n import set_language

SHARED_PPKS = Path(__file__).resolve().parents[2] / "shared" / "domain" / "ppks.tsv"
CLUSTERS = [
    "anak",
    "lansia",
    "disabilitas",
    "tuna_sosial",
    "korban",
    "bencana",
    "kemiskinan",
    "kelompok_rentan",
]


@pytest.fixture(scope="module")
def ppks() -> Taxonomy:
    return Taxonomy.ppks()


@pytest.fixture
def shared_ppks() -> list[dict[str, str]]:
    if not SHARED_PPKS.is_file():
        pytest.skip(f"domain reference {SHARED_PPKS} not found (it sits beside the checkout)")
    with SHARED_PPKS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def write(tmp_path: Path, text: str, name: str = "tree.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------- PPKS tree
def test_ppks_tree_invariants(ppks: Taxonomy) -> None:
    assert len(ppks.leaves) == 26
    assert len(set(ppks.leaves)) == 26
    assert list(ppks.codes(level=1)) == CLUSTERS
    assert ppks.depth == 2
    for leaf in ppks.leaves:
        path = ppks.path(leaf)
        assert len(path) == 2 and path[-1] == leaf and path[0] in CLUSTERS
        assert ppks.level(leaf) == 2
        assert leaf in ppks.children(ppks.parent(leaf))
    for cluster in CLUSTERS:
        assert ppks.parent(cluster) is None and ppks.children(cluster)
        assert ppks.category(cluster).label_id and ppks.category(cluster).label_en
    assert sorted(ppks.category(c).attributes["no"] for c in ppks.leaves) == list(range(1, 27))


def test_ppks_pp39_hierarchy_covers_every_leaf_once(ppks: Taxonomy) -> None:
    assert ppks.hierarchies == ("pp39",)
    pp39 = ppks.hierarchy("pp39")
    assert sorted(pp39.leaves) == sorted(ppks.leaves)
    criteria = pp39.codes(level=1)
    assert len(criteria) == 8  # the seven criteria of Pasal 2(2) and ODHA named apart
    for leaf in ppks.leaves:
        path = ppks.path(leaf, hierarchy="pp39")
        assert len(path) == 2 and path[0] in criteria
        assert ppks.category(leaf).alt_parents["pp39"] == path[0]
    assert sum(len(pp39.children(c)) for c in criteria) == 26


def test_ppks_practice_choices(ppks: Taxonomy) -> None:
    for code in ("ODHA", "KM"):
        assert ppks.parent(code) == "kelompok_rentan"
        assert ppks.category(code).attributes["kemensos_admin_cluster"] == "tuna_sosial"
    ts = ppks.category("TS")
    assert ts.label_id == "Tuna Susila"
    assert "moral" not in ts.label_en.lower() and "susila" not in ts.label_en.lower()
    assert ppks.parent("PMBS") == "korban" and ppks.category("PMBS").secondary == (
        "kelompok_rentan",
    )
    assert ppks.category("ADK").secondary == ("disabilitas",)
    assert ppks.category("AKTK").secondary == ("korban",)


def test_ppks_matches_domain_reference(ppks: Taxonomy, shared_ppks: list[dict[str, str]]) -> None:
    assert [row["code"] for row in sorted(shared_ppks, key=lambda r: int(r["no"]))] == sorted(
        ppks.leaves, key=lambda c: ppks.category(c).attributes["no"]
    )
    for row in shared_ppks:
        cat = ppks.category(row["code"])
        assert cat.label_id == row["nama_id"]
        assert cat.attributes["no"] == int(row["no"])
        assert cat.attributes["pp39_criterion"] == row["pp39_2012_criterion"]
        # the cluster column starts with the primary cluster ("korban / kelompok_rentan")
        assert cat.parent == re.split(r"[ /(]", row["cluster_l1"])[0]


def test_category_and_taxonomy_are_immutable(ppks: Taxonomy) -> None:
    cat = ppks.category("AT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cat.code = "XX"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cat.attributes["no"] = 99  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ppks.name = "other"  # type: ignore[misc]
    assert Taxonomy.ppks() is ppks or Taxonomy.ppks() == ppks
    assert pickle.loads(pickle.dumps(ppks)) == ppks
    assert hash(ppks) == hash(pickle.loads(pickle.dumps(ppks)))


# --------------------------------------------------------------------- roll-ups
def test_rollup_list_series_array_and_missing(ppks: Taxonomy) -> None:
    assert ppks.rollup(["AT", "FM", None, "KBS"], level=1) == [
        "anak",
        "kemiskinan",
        None,
        "bencana",
    ]
    series = pd.Series(["PD", pd.NA, "AT"], index=[10, 11, 12], name="category")
    rolled = ppks.rollup(series, level=1)
    assert rolled.dtype == "string" and rolled.name == "category"
    assert list(rolled.index) == [10, 11, 12]
    assert rolled.iloc[0] == "disabilitas" and rolled.isna().iloc[1] and rolled.iloc[2] == "anak"
    arr = ppks.rollup(np.array(["KTK", np.nan], dtype=object), level=1)
    assert isinstance(arr, np.ndarray) and list(arr) == ["korban", None]
    assert ppks.rollup("LUT", level=1) == "lansia"
    # a code at or above the level stays itself; leaves at level 2 stay themselves
    assert ppks.rollup(["anak", "AT"], level=2) == ["anak", "AT"]
    assert ppks.rollup(pd.Series(["AT", "AT"], dtype="category"), level=1).tolist() == ["anak"] * 2


def test_rollup_matches_paths_for_every_leaf(ppks: Taxonomy) -> None:
    leaves = list(ppks.leaves)
    assert ppks.rollup(leaves, level=1) == [ppks.path(c)[0] for c in leaves]
    assert ppks.rollup(leaves, level=1, hierarchy="pp39") == [
        ppks.category(c).alt_parents["pp39"] for c in leaves
    ]


def test_rollup_pp39_examples(ppks: Taxonomy) -> None:
    assert ppks.rollup(["AT", "FM", "KAT", "NAPZA", "ODHA"], level=1, hierarchy="pp39") == [
        "ketelantaran",
        "kemiskinan",
        "keterpencilan",
        "ketunaan_sosial",
        "lainnya",
    ]


def test_rollup_unknown_code_names_code_row_and_close_matches(ppks: Taxonomy) -> None:
    with pytest.raises(TaxonomyError) as info:
        ppks.rollup(["AT", "FM", "AX", "AX", "zz_unknown"], level=1)
    message = str(info.value)
    assert "'AX'" in message and "row 2" in message and "'AT'" in message
    assert "zz_unknown" in message and "2 code(s)" in message
    with pytest.raises(TaxonomyError, match="'at'.*'AT'"):
        ppks.rollup("at", level=1)


@pytest.mark.parametrize("level", [0, 3, -1])
def test_rollup_level_outside_tree(ppks: Taxonomy, level: int) -> None:
    with pytest.raises(TaxonomyError, match="level"):
        ppks.rollup(["AT"], level=level)


def test_unknown_hierarchy_and_lookups(ppks: Taxonomy) -> None:
    with pytest.raises(TaxonomyError, match="pp40"):
        ppks.rollup(["AT"], level=1, hierarchy="pp40")
    with pytest.raises(TaxonomyError, match="'ABX'"):
        ppks.category("ABX")
    assert "AT" in ppks and "XX" not in ppks and 3 not in ppks
    assert ppks["AT"].code == "AT"
    assert ppks.children() == tuple(CLUSTERS)
    assert len(ppks) == 34 and len(list(ppks)) == 34


def test_labels_follow_language(ppks: Taxonomy) -> None:
    assert ppks.label("LUT") == "Lanjut Usia Terlantar"
    assert ppks.label("LUT", lang="en") == "Neglected older person"
    set_language("en")
    assert ppks.label("anak") == "Children"
    assert ppks.category("anak").label() == "Children"


def test_to_frame_columns_and_counts(ppks: Taxonomy) -> None:
    frame = ppks.to_frame()
    fixed = ["code", "label_id", "label_en", "level", "parent", "path", "is_leaf", "n_leaves"]
    assert list(frame.columns[:8]) == fixed
    assert {"secondary", "n_keywords", "parent_pp39", "attr_no"} <= set(frame.columns)
    assert len(frame) == 34 and frame["is_leaf"].sum() == 26
    clusters = frame[frame["level"] == 1]
    assert clusters["n_leaves"].sum() == 26 and clusters["parent"].isna().all()
    assert frame.set_index("code").loc["ABT", "path"] == "anak > ABT"
    assert frame.set_index("code").loc["ADK", "secondary"] == "disabilitas"
    assert (frame.loc[frame["is_leaf"], "n_keywords"] >= 10).all()


def test_repr_html_is_a_tree_with_escaped_labels(ppks: Taxonomy) -> None:
    out = ppks._repr_html_()
    assert out.count("<li>") == 34 and "Tuna Susila" in out
    tax = Taxonomy.from_dict(
        {
            "name": "x",
            "categories": [
                {"code": "a<b", "label_id": "<script>alert(1)</script>", "label_en": "A & B"},
                {"code": "c", "parent": "a<b", "label_id": "C"},
            ],
        }
    )
    html_out = tax._repr_html_()
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out
    assert "a&lt;b" in html_out and "A &amp; B" in html_out


# --------------------------------------------------------------------- PIE
def test_pie_tree_uses_readable_codes() -> None:
    pie = Taxonomy.pie()
    assert pie.codes(level=1) == ("social_role", "environment", "mental_health", "physical_health")
    assert len(pie.children("social_role")) == 4
    assert all(len(pie.children(role)) == 9 for role in pie.children("social_role"))
    assert len(pie.children("environment")) == 6
    assert len(pie.leaves) == 4 * 9 + 6 + 2
    assert not any(re.search(r"\d", code) for code in pie.codes())  # no invented numeric codes
    assert pie.rollup(["social_role.family.loss", "mental_health"], level=2) == [
        "social_role.family",
        "mental_health",
    ]
    assert pie.path("social_role.occupational.isolation") == (
        "social_role",
        "social_role.occupational",
        "social_role.occupational.isolation",
    )


# --------------------------------------------------------------------- agency files
AGENCY = """
name: dinsos_contoh
label_id: Masalah klien
label_en: Client problems
categories:
  - code: keluarga
    label_id: Keluarga
    label_en: Family
  - code: ekonomi
    label_id: Ekonomi
  - code: konflik
    parent: keluarga
    label_id: Konflik keluarga
    label_en: Family conflict
    secondary: [ekonomi]
  - code: konflik_cerai
    parent: konflik
    label_id: Perceraian
    label_en: Divorce
    attributes: {no: 7, note: test}
    keywords: [bertengkar, cekcok, {pisah ranjang: 2}]
  - code: utang
    parent: ekonomi
    label_id: Utang
    label_en: Debt
    keywords: [utang, pinjol, rentenir]
"""


def test_from_file_agency_tree_ragged(tmp_path: Path) -> None:
    tax = Taxonomy.from_file(write(tmp_path, AGENCY))
    assert tax.name == "dinsos_contoh" and tax.depth == 3
    assert tax.leaves == ("konflik_cerai", "utang")
    assert tax.category("ekonomi").label_en == "Ekonomi"  # missing label copied
    assert tax.rollup(["konflik_cerai", "utang", "konflik"], level=2) == [
        "konflik",
        "utang",
        "konflik",
    ]
    assert tax.rollup(["konflik_cerai", "utang"], level=1) == ["keluarga", "ekonomi"]
    assert tax.category("konflik_cerai").attributes == {"no": 7, "note": "test"}  # not False
    assert [k.weight for k in tax.category("konflik_cerai").keywords] == [1.0, 1.0, 2.0]


def test_from_file_keywords_file(tmp_path: Path) -> None:
    tree = AGENCY.replace("    keywords: [bertengkar, cekcok, {pisah ranjang: 2}]\n", "")
    keywords = write(tmp_path, "konflik_cerai: [cerai, gugat cerai]\n", "kw.yaml")
    tax = Taxonomy.from_file(write(tmp_path, tree), keywords=keywords)
    assert [k.text for k in tax.category("konflik_cerai").keywords] == ["cerai", "gugat cerai"]
    assert tax.suggest("istri mau gugat cerai").codes[0] == "konflik_cerai"
    assert tax.suggest("terlilit pinjol").codes == ["utang"]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "categories:\n  - {code: a, label_id: A}\n  - {code: a, label_id: B}\n",
            r"duplicate code 'a' \(categories 1 and 2\)",
        ),
        (
            "categories:\n  - {code: a, label_id: A}\n  - {code: b, parent: zz, label_id: B}\n",
            r"'b' has parent 'zz'.*orphan",
        ),
        (
            "categories:\n  - {code: r, label_id: R}\n  - {code: a, parent: b, label_id: A}\n"
            "  - {code: b, parent: a, label_id: B}\n",
            r"cycle: a -> b -> a|cycle: b -> a -> b",
        ),
        ("categories:\n  - {code: a, lable_id: A}\n", r"unknown key 'lable_id'.*'label_id'"),
        ("name: x\nnama: y\ncategories:\n  - {code: a}\n", r"unknown key 'nama'"),
        ("name: empty\ncategories: []\n", r"no categories"),
        ("name: empty\n", r"no categories"),
        ("categories:\n  - {code: 101, label_id: A}\n", r"text 'code'.*quote"),
        ("categories: [a, b\n", r"not valid YAML at line"),
        ("- just\n- a list\n", r"expected a mapping"),
        (
            "categories:\n  - {code: a, label_id: A, keywords: [x]}\n"
            "  - {code: b, parent: a, label_id: B}\n",
            r"keywords belong on leaves; 'a'",
        ),
        (
            "categories:\n  - {code: a, label_id: A, secondary: [zz]}\n",
            r"secondary 'zz'",
        ),
        (
            "categories:\n  - {code: a, label_id: A, alt_parents: {h: g}}\n"
            "  - {code: b, label_id: B}\n"
            "hierarchies:\n  h:\n    categories:\n      - {code: g, label_id: G}\n",
            r"leaf 'b' has no alt_parents entry for 'h'",
        ),
        (
            "categories:\n  - {code: a, label_id: A, alt_parents: {h: gx}}\n"
            "hierarchies:\n  h:\n    categories:\n      - {code: g, label_id: G}\n",
            r"leaf 'a' has parent 'gx'.*'g'",
        ),
    ],
)
def test_from_file_errors_name_the_problem(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(TaxonomyError, match=pattern):
        Taxonomy.from_file(write(tmp_path, text))


def test_from_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        Taxonomy.from_file(tmp_path / "nope.yaml")


def test_long_cycle_names_every_code(tmp_path: Path) -> None:
    text = "categories:\n" + "".join(
        f"  - {{code: c{i}, parent: c{(i + 1) % 4}, label_id: C}}\n" for i in range(4)
    )
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_file(write(tmp_path, text))
    assert all(f"c{i}" in str(info.value) for i in range(4))


def test_with_keywords_rejects_unknown_and_internal_codes(ppks: Taxonomy) -> None:
    with pytest.raises(TaxonomyError, match="'ATT'.*'AT'"):
        ppks.with_keywords({"ATT": ["x"]})
    with pytest.raises(TaxonomyError, match="'anak'"):
        ppks.with_keywords({"anak": ["x"]})
    with pytest.raises(TaxonomyError, match="positive weight"):
        ppks.with_keywords({"AT": [{"x": -1}]})
    changed = ppks.with_keywords({"AT": ["kata baru"]})
    assert [k.text for k in changed.category("AT").keywords] == ["kata baru"]
    assert [k.text for k in changed.hierarchy("pp39").category("AT").keywords] == ["kata baru"]
    assert len(ppks.category("AT").keywords) > 1  # the original is unchanged
