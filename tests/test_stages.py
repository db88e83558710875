"""The stage model: the default model, name matching, and agencies' own YAML files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pekso_toolkit as pk
from pekso_toolkit.core.stages import FORGOTTEN, Stage, normalise_name

HELPING = ("proses_awal", "asesmen", "analisa_masalah", "intervensi", "terminasi")
ALL_IDS = (*HELPING, "ditutup", "dibuka_kembali")


@pytest.fixture
def model() -> pk.StageModel:
    return pk.StageModel.default()


# ------------------------------------------------------------------------------ default model
def test_default_has_the_five_stages_then_closed_and_reopened(model: pk.StageModel) -> None:
    assert model.ids == ALL_IDS
    assert tuple(s.id for s in model.helping_stages) == HELPING
    assert {s.kind for s in model.helping_stages} == {"stage"}
    assert model.closed_id == "ditutup" and model.stage("ditutup").kind == "closed"
    assert (
        model.reopened_id == "dibuka_kembali" and model.stage("dibuka_kembali").kind == "reopened"
    )
    assert [model.index(i) for i in ALL_IDS] == list(range(len(ALL_IDS)))
    assert len(model) == 7 and "asesmen" in model and "assessment" not in model


def test_default_is_loaded_once_and_shared(model: pk.StageModel) -> None:
    assert pk.StageModel.default() is model


def test_dtype_is_ordered_categorical_in_model_order(model: pk.StageModel) -> None:
    dtype = model.dtype
    assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
    assert tuple(dtype.categories) == ALL_IDS
    values = pd.Series(["terminasi", "proses_awal", "ditutup"], dtype=dtype)
    assert values.min() == "proses_awal" and values.max() == "ditutup"


def test_labels_are_bilingual(model: pk.StageModel) -> None:
    for stage in model.stages:
        assert stage.label_id.strip() and stage.label_en.strip()
    # helping stages and states have distinct Indonesian and English labels
    assert all(s.label_id != s.label_en for s in model.stages)
    assert model.stage("proses_awal").label_id == "Proses Awal"
    assert model.stage("asesmen").label_en == "Assessment"
    assert model.label("ditutup", lang="en") == "Closed"
    assert model.label("ditutup", lang="id") == "Ditutup"


def test_labels_follow_the_current_language(model: pk.StageModel) -> None:
    assert model.label("analisa_masalah") == "Analisa Masalah"
    pk.set_language("en")
    assert model.label("analisa_masalah") == "Problem analysis"
    assert model.labels()["dibuka_kembali"] == "Reopened"
    item_stage, item = model.item("kontrak_pengakhiran")
    assert item_stage.id == "terminasi"
    assert item.label() == item.label_en != item.label_id


def test_every_helping_stage_has_a_checklist_and_states_have_none(model: pk.StageModel) -> None:
    for stage in model.helping_stages:
        assert len(stage.checklist) >= 5, stage.id
        for item in stage.checklist:
            assert item.label_id.strip() and item.label_en.strip()
            assert item.label_id != item.label_en
            assert model.item(item.id) == (stage, item)
    assert model.stage("ditutup").checklist == ()
    assert model.stage("dibuka_kembali").checklist == ()
    frame = model.checklist_frame()
    assert list(frame.columns) == ["stage", "item", "label", "forgotten", "source"]
    assert frame["item"].is_unique
    assert len(frame) == sum(len(s.checklist) for s in model.stages)


def test_forgotten_steps_are_flagged_where_the_practice_forgets_them(
    model: pk.StageModel,
) -> None:
    flagged: dict[str, set[str]] = {}
    for stage in model.stages:
        for item in stage.checklist:
            assert item.forgotten in (None, *FORGOTTEN)
            assert item.is_forgotten_step == (item.forgotten is not None)
            if item.forgotten:
                flagged.setdefault(stage.id, set()).add(item.forgotten)
    assert flagged == {
        "proses_awal": {"contract_boundaries"},
        "analisa_masalah": {"analysis", "contract_boundaries"},
        "terminasi": {"termination_contract"},
    }
    # the service contract itself and the termination contract are among the flagged items
    assert model.item("kontrak_layanan")[1].forgotten == "contract_boundaries"
    assert model.item("kontrak_pengakhiran")[1].forgotten == "termination_contract"
    pairs = model.forgotten_items
    assert {(s.id, i.id) for s, i in pairs} == {
        (s.id, i.id) for s in model.stages for i in s.forgotten_items
    }
    assert set(FORGOTTEN) == {i.forgotten for _, i in pairs}


def test_target_days_per_stage(model: pk.StageModel) -> None:
    assert model.targets == {
        "proses_awal": 7.0,
        "asesmen": 14.0,
        "analisa_masalah": 7.0,
        "intervensi": 60.0,
        "terminasi": 30.0,
    }
    assert model.stage("ditutup").target_days is None
    assert model.target_unit == "calendar"
    frame = model.to_frame()
    assert list(frame["stage"]) == list(ALL_IDS)
    assert frame.set_index("stage")["n_forgotten"].to_dict()["analisa_masalah"] == 3


def test_next_stage(model: pk.StageModel) -> None:
    assert model.next_stage("proses_awal").id == "asesmen"  # type: ignore[union-attr]
    assert model.next_stage("terminasi") is None
    assert model.next_stage("dibuka_kembali").id == "proses_awal"  # type: ignore[union-attr]
    assert model.next_stage("ditutup") is None


def test_unknown_stage_and_item_errors_name_them(model: pk.StageModel) -> None:
    with pytest.raises(pk.StageModelError, match=r"'asessmen'.*known stages: proses_awal"):
        model.stage("asessmen")
    with pytest.raises(pk.StageModelError, match="'no_such_item'"):
        model.item("no_such_item")
    assert not model.has_item("no_such_item") and model.has_item("kontrak_layanan")


def test_repr_html_lists_stages_and_escapes_labels(model: pk.StageModel) -> None:
    page = model._repr_html_()
    assert "Proses Awal / Intake &amp; contracting" in page
    assert page.count("<li>★ ") == len(model.forgotten_items)
    evil = pk.StageModel(name="<i>x</i>", stages=(Stage("a", "<script>alert(1)</script>", "A"),))
    page = evil._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<i>x</i>" not in page


# ------------------------------------------------------------------------------ name matching
# (name in an export, stage id): English labels, Primero workflow values and their Indonesian
# labels, regulation stage names, GIM names
KNOWN_NAMES = [
    ("Intake & contracting", "proses_awal"),
    ("Assessment", "asesmen"),
    ("Problem analysis", "analisa_masalah"),
    ("Intervention planning & intervention", "intervensi"),
    ("Follow-up & termination", "terminasi"),
    ("Closed", "ditutup"),
    ("Reopened", "dibuka_kembali"),
    ("new", "proses_awal"),
    ("reopened", "dibuka_kembali"),
    ("assessment", "asesmen"),
    ("case_plan", "intervensi"),
    ("service_provision", "intervensi"),
    ("services_implemented", "terminasi"),
    ("closed", "ditutup"),
    ("Baru", "proses_awal"),
    ("Dibuka Kembali", "dibuka_kembali"),
    ("Penilaian", "asesmen"),
    ("Rencana Kasus", "intervensi"),
    ("Layanan telah Dilaksanakan", "terminasi"),
    ("Ditutup", "ditutup"),
    ("pendekatan awal", "proses_awal"),
    ("pengungkapan dan pemahaman masalah", "asesmen"),
    ("penyusunan rencana pemecahan masalah", "intervensi"),
    ("pemecahan masalah", "intervensi"),
    ("resosialisasi/reintegrasi", "intervensi"),
    ("terminasi", "terminasi"),
    ("bimbingan lanjut", "terminasi"),
    ("engagement", "proses_awal"),
    ("planning", "intervensi"),
    ("implementation", "intervensi"),
    ("evaluation", "terminasi"),
    ("follow-up", "terminasi"),
]


def _variants(name: str) -> list[str]:
    """The same name as exports write it: capitals, stray and doubled spaces, tabs."""
    spaced = name.replace(" ", "   ")
    return [name, name.upper(), name.lower(), f"  {name}  ", f"\t{spaced.title()} ", spaced]


@pytest.mark.parametrize(("name", "stage_id"), KNOWN_NAMES)
def test_known_names_match_ignoring_case_and_spacing(
    model: pk.StageModel, name: str, stage_id: str
) -> None:
    for variant in _variants(name):
        matched = model.match(variant)
        assert matched is not None, variant
        assert matched[0] == stage_id, variant


def test_match_says_how_a_name_matched(model: pk.StageModel) -> None:
    assert model.match("asesmen") == ("asesmen", "exact")
    assert model.match(" Asesmen") == ("asesmen", "id")
    assert model.match("ANALISA_MASALAH") == ("analisa_masalah", "id")
    assert model.match("assessment") == ("asesmen", "label")
    assert model.match("Penilaian") == ("asesmen", "alias")
    assert model.match("goats and sunflowers") is None
    assert model.match(None) is None
    assert "rencana kasus" in model.known_names()


def test_normalise_name_folds_case_space_and_separators() -> None:
    assert normalise_name("  Analisa_Masalah ") == "analisa masalah"
    assert normalise_name("Intake&Contracting") == "intake and contracting"
    assert normalise_name("Follow-Up") == normalise_name("follow up") == "follow up"
    assert normalise_name("ＡＳＥＳＭＥＮ") == "asesmen"  # full-width letters (NFKC)


# ------------------------------------------------------------------------------ agency files
AGENCY_YAML = """\
name: Dinas Sosial Kota Contoh
target_unit: working
stages:
  - id: registrasi
    label: {id: Registrasi dan Kontrak, en: Registration & contract}
    target_days: 3
    aliases: [pendaftaran kasus]
    checklist:
      - id: kontrak_ditandatangani
        label: {id: Kontrak ditandatangani, en: Contract signed}
        forgotten: contract_boundaries
  - id: asesmen
    label: {id: Asesmen Kebutuhan, en: Needs assessment}
    target_days: 10.5
  - id: konferensi
    label: Konferensi Kasus
    target_days: 2
  - id: intervensi
    label: {id: Intervensi, en: Intervention}
  - id: selesai
    label: {id: Selesai, en: Done}
    kind: closed
"""


def test_agency_model_renames_adds_and_drops_stages(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(AGENCY_YAML, encoding="utf-8")
    model = pk.StageModel.from_file(path)
    assert model.name == "Dinas Sosial Kota Contoh"
    assert model.ids == ("registrasi", "asesmen", "konferensi", "intervensi", "selesai")
    assert "analisa_masalah" not in model and "dibuka_kembali" not in model
    assert model.targets == {"registrasi": 3.0, "asesmen": 10.5, "konferensi": 2.0}
    assert model.target_unit == "working"
    assert model.closed_id == "selesai" and model.reopened_id is None
    assert model.label("asesmen", "en") == "Needs assessment"
    assert model.label("konferensi", "en") == model.label("konferensi", "id") == "Konferensi Kasus"
    assert model.match(" Pendaftaran  Kasus") == ("registrasi", "alias")
    assert model.match("registration & contract") == ("registrasi", "label")
    assert model.match("penilaian") is None  # the default model's alias is not carried over
    assert model.item("kontrak_ditandatangani")[1].forgotten == "contract_boundaries"
    assert [model.index(i) for i in model.ids] == [0, 1, 2, 3, 4]


def test_packaged_default_file_loads_through_from_file() -> None:
    import pekso_toolkit

    path = Path(pekso_toolkit.__file__).parent / "data" / "stage_model.yaml"
    loaded = pk.StageModel.from_file(path)
    default = pk.StageModel.default()
    assert loaded.ids == default.ids
    assert loaded.targets == default.targets
    assert loaded.forgotten_items == default.forgotten_items


def test_a_model_built_in_code_orders_its_stages_by_position() -> None:
    model = pk.StageModel(
        name="x", stages=(Stage("satu", "Satu", "One"), Stage("dua", "Dua", "Two"))
    )
    assert [s.order for s in model.stages] == [0, 1]
    assert model.index("dua") == 1
    with pytest.raises(pk.StageModelError, match="no stages"):
        pk.StageModel(name="x", stages=())


ONE = "stages:\n  - id: asesmen\n"

# (YAML text, fragments the error message must contain)
BAD_MODELS = {
    "duplicate_stage_id": (
        "stages:\n  - id: asesmen\n  - id: terminasi\n  - id: asesmen\n",
        ["'asesmen'", "appears twice"],
    ),
    "unknown_top_key": ("stagez: []\n" + ONE, ["'stagez'", "top level"]),
    "unknown_stage_key": (
        "stages:\n  - id: asesmen\n    target: 7\n",
        ["'asesmen'", "'target'", "target_days"],
    ),
    "unknown_item_key": (
        "stages:\n  - id: asesmen\n    checklist:\n"
        "      - id: kontrak\n        forgoten: analysis\n",
        ["'kontrak'", "'forgoten'"],
    ),
    "empty_stage_list": ("name: x\nstages: []\n", ["stage list is empty"]),
    "no_stage_list": ("name: x\n", ["stage list is empty"]),
    "negative_target": (
        "stages:\n  - id: asesmen\n    target_days: -3\n",
        ["'asesmen'", "target_days", "-3"],
    ),
    "zero_target": (
        "stages:\n  - id: asesmen\n    target_days: 0\n",
        ["'asesmen'", "target_days", "positive"],
    ),
    "text_target": (
        "stages:\n  - id: asesmen\n    target_days: seminggu\n",
        ["'asesmen'", "target_days", "'seminggu'"],
    ),
    "quoted_number_target": (
        "stages:\n  - id: asesmen\n    target_days: '7'\n",
        ["'asesmen'", "target_days", "'7'"],
    ),
    "duplicate_item_across_stages": (
        "stages:\n  - id: asesmen\n    checklist: [{id: kontrak}]\n"
        "  - id: terminasi\n    checklist: [{id: kontrak}]\n",
        ["'kontrak'", "'asesmen'", "'terminasi'"],
    ),
    "duplicate_item_in_one_stage": (
        "stages:\n  - id: asesmen\n    checklist: [{id: kontrak}, {id: kontrak}]\n",
        ["'kontrak'", "twice in stage 'asesmen'"],
    ),
    "bad_forgotten": (
        "stages:\n  - id: asesmen\n    checklist: [{id: kontrak, forgotten: contract}]\n",
        ["'kontrak'", "forgotten", "'contract'", "contract_boundaries"],
    ),
    "bad_kind": ("stages:\n  - id: asesmen\n    kind: open\n", ["'asesmen'", "'open'"]),
    "bad_stage_id": ("stages:\n  - id: Asesmen Awal\n", ["'Asesmen Awal'", "lower-case"]),
    "two_stages_share_an_alias": (
        "stages:\n  - id: a\n    aliases: [intake]\n  - id: b\n    aliases: [' INTAKE']\n",
        ["'a'", "'b'", "INTAKE"],
    ),
    "only_closed_state": ("stages:\n  - id: tutup\n    kind: closed\n", ["helping stage"]),
    "bad_target_unit": ("target_unit: hours\n" + ONE, ["target_unit", "'hours'"]),
    "stages_not_a_list": ("stages: {id: asesmen}\n", ["'stages' must be a list"]),
    "not_a_mapping": ("- id: asesmen\n", ["mapping"]),
    "invalid_yaml": ("stages:\n  - id: a\n   label: [\n", ["not valid YAML", "line 3"]),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_invalid_model_file_errors_name_the_problem(tmp_path: Path, case: str) -> None:
    text, fragments = BAD_MODELS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(pk.StageModelError) as info:
        pk.StageModel.from_file(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_model_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "tidak_ada.yaml"
    with pytest.raises(pk.StageModelError, match="not found") as info:
        pk.StageModel.from_file(path)
    assert "tidak_ada.yaml" in str(info.value)


def test_model_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("stages:\n  - id: a\n    label: Pérez\n".encode("cp1252"))
    with pytest.raises(pk.StageModelError, match="UTF-8"):
        pk.StageModel.from_file(path)


def test_stage_model_error_is_a_value_error() -> None:
    assert issubclass(pk.StageModelError, ValueError)
    assert issubclass(pk.StageModelError, pk.PeksoError)
