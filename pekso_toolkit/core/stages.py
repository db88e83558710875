"""The stage model: helping stages, their checklists and targets.

The default model (:meth:`StageModel.default`) holds the five helping stages of Indonesian
social-work practice plus the states ``ditutup`` (closed) and ``dibuka_kembali`` (reopened). An
agency can load its own model from YAML with :meth:`StageModel.from_file`.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from pekso_toolkit.core.errors import StageModelError
from pekso_toolkit.core.i18n import bilingual, pick

__all__ = ["FORGOTTEN", "ChecklistItem", "Stage", "StageModel", "normalise_name"]

StageKind = Literal["stage", "closed", "reopened"]
Forgotten = Literal["contract_boundaries", "analysis", "termination_contract"]

#: The article's three often-forgotten things, with bilingual labels.
FORGOTTEN: dict[str, tuple[str, str]] = {
    "contract_boundaries": ("Batas kontrak layanan", "Contract boundaries"),
    "analysis": ("Analisa masalah", "Problem analysis"),
    "termination_contract": ("Kontrak pengakhiran layanan", "Termination contract"),
}

_MODEL_KEYS = {"name", "target_unit", "stages"}
_STAGE_KEYS = {"id", "label", "kind", "target_days", "aliases", "checklist", "description"}
_ITEM_KEYS = {"id", "label", "forgotten", "source"}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def normalise_name(name: object) -> str:
    """Fold a stage name for matching: case, accents, spaces, ``-``/``_``/``&`` are ignored.

    >>> normalise_name("  Analisa_Masalah ")
    'analisa masalah'
    >>> normalise_name("Intake & Contracting")
    'intake and contracting'
    """
    text = unicodedata.normalize("NFKC", str(name)).casefold().replace("&", " and ")
    text = re.sub(r"[\s_\-]+", " ", text)
    return text.strip()


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a stage checklist.

    Attributes
    ----------
    id : str
        Identifier, unique across the whole model (e.g. ``"kontrak_layanan"``).
    label_id, label_en : str
        Labels in Bahasa Indonesia and English.
    forgotten : str or None
        ``"contract_boundaries"``, ``"analysis"`` or ``"termination_contract"`` when the item is one
        of the practice's three often-forgotten steps; None otherwise.
    source : str
        Where the item comes from (article, GIM, NASW, Primero, ...).
    """

    id: str
    label_id: str
    label_en: str
    forgotten: str | None = None
    source: str = ""

    @property
    def is_forgotten_step(self) -> bool:
        """True for items that mark one of the three often-forgotten steps."""
        return self.forgotten is not None

    def label(self, lang: str | None = None) -> str:
        """The label in ``lang`` (default: the current language)."""
        return pick(self.label_id, self.label_en, lang)


@dataclass(frozen=True)
class Stage:
    """One stage (or state) of the stage model.

    Attributes
    ----------
    id : str
        Identifier used in data (e.g. ``"asesmen"``).
    label_id, label_en : str
        Labels in Bahasa Indonesia and English.
    kind : {"stage", "closed", "reopened"}
        ``"stage"`` for a helping stage; ``"closed"`` for the terminal state; ``"reopened"``.
    order : int
        Position in the model (0-based).
    target_days : float or None
        Target time in the stage, in the model's ``target_unit`` (None: no target).
    aliases : tuple of str
        Other names for the stage in exports, matched ignoring case and spacing.
    checklist : tuple of ChecklistItem
        The stage's checklist, in order.
    """

    id: str
    label_id: str
    label_en: str
    kind: StageKind = "stage"
    order: int = 0
    target_days: float | None = None
    aliases: tuple[str, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()
    description: str = ""

    def label(self, lang: str | None = None) -> str:
        """The label in ``lang`` (default: the current language)."""
        return pick(self.label_id, self.label_en, lang)

    @property
    def forgotten_items(self) -> tuple[ChecklistItem, ...]:
        """Checklist items that mark an often-forgotten step."""
        return tuple(item for item in self.checklist if item.forgotten)


@dataclass(frozen=True)
class StageModel:
    """An ordered set of stages with checklists, targets and aliases.

    Use :meth:`default` for the toolkit's model, or :meth:`from_file` for an agency's own YAML file
    (see ``pekso_toolkit/data/stage_model.yaml`` for the format).
    """

    name: str
    stages: tuple[Stage, ...]
    target_unit: Literal["calendar", "working"] = "calendar"
    _by_id: dict[str, Stage] = field(init=False, repr=False, compare=False)
    _names: dict[str, tuple[str, str]] = field(init=False, repr=False, compare=False)
    _items: dict[str, tuple[Stage, ChecklistItem]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.stages:
            raise StageModelError(
                "model tahapan tidak punya tahap; cantumkan paling sedikit satu di bawah 'stages'",
                "the stage model has no stages; list at least one under 'stages'",
            )
        # a stage's order is its position in the model, however the stages were built
        ordered = tuple(
            s if s.order == i else dataclasses.replace(s, order=i)
            for i, s in enumerate(self.stages)
        )
        object.__setattr__(self, "stages", ordered)
        by_id: dict[str, Stage] = {}
        items: dict[str, tuple[Stage, ChecklistItem]] = {}
        for stage in self.stages:
            if stage.id in by_id:
                raise StageModelError(
                    f"id tahap {stage.id!r} muncul dua kali; id tahap harus unik",
                    f"stage id {stage.id!r} appears twice; stage ids must be unique",
                )
            by_id[stage.id] = stage
            for item in stage.checklist:
                if item.id in items:
                    first = items[item.id][0].id
                    if first == stage.id:
                        where_id = f"dua kali di tahap {stage.id!r}"
                        where = f"twice in stage {stage.id!r}"
                    else:
                        where_id = f"di tahap {first!r} dan di tahap {stage.id!r}"
                        where = f"in stage {first!r} and in stage {stage.id!r}"
                    raise StageModelError(
                        f"id butir daftar periksa {item.id!r} muncul {where_id}; id butir harus "
                        "unik dalam model",
                        f"checklist item id {item.id!r} appears {where}; "
                        "item ids must be unique in the model",
                    )
                items[item.id] = (stage, item)
        kinds = [s.kind for s in self.stages]
        if kinds.count("closed") > 1 or kinds.count("reopened") > 1:
            raise StageModelError(
                "model tahapan punya paling banyak satu keadaan 'closed' dan satu 'reopened'",
                "a stage model has at most one 'closed' and one 'reopened' state",
            )
        if "stage" not in kinds:
            raise StageModelError(
                "model tahapan perlu paling sedikit satu tahap pertolongan (kind: stage)",
                "the stage model needs at least one helping stage (kind: stage)",
            )
        # name -> (stage id, how it matched); ids win over labels, labels over aliases
        names: dict[str, tuple[str, str]] = {}
        for how, getter in (
            ("id", lambda s: [s.id]),
            ("label", lambda s: [s.label_id, s.label_en]),
            ("alias", lambda s: list(s.aliases)),
        ):
            for stage in self.stages:
                for raw in getter(stage):
                    key = normalise_name(raw)
                    if key in names and names[key][0] != stage.id:
                        if names[key][1] == how:
                            raise StageModelError(
                                f"nama {raw!r} menunjuk dua tahap ({names[key][0]!r} dan "
                                f"{stage.id!r}); hapus dari salah satunya",
                                f"the name {raw!r} points to two stages ({names[key][0]!r} and "
                                f"{stage.id!r}); remove it from one of them",
                            )
                        continue
                    names.setdefault(key, (stage.id, how))
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_items", items)

    # ------------------------------------------------------------------ construction
    @classmethod
    def default(cls) -> StageModel:
        """The toolkit's default model: five helping stages, ``ditutup`` and ``dibuka_kembali``."""
        return _default_model()

    @classmethod
    def from_file(cls, path: str | Path) -> StageModel:
        """Load an agency's stage model from a YAML file.

        Raises
        ------
        StageModelError
            When the file cannot be read or the model is invalid; the message names the problem.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StageModelError(
                f"berkas model tahapan tidak ditemukan: {path}",
                f"stage model file not found: {path}",
                field="path",
            ) from None
        except UnicodeDecodeError:
            raise StageModelError(
                f"{path}: simpan berkas model tahapan sebagai teks UTF-8",
                f"{path}: save the stage model file as UTF-8 text",
                field="path",
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise StageModelError(
                f"{path}: bukan YAML yang sah ({exc})", f"{path}: not valid YAML ({exc})"
            ) from None
        try:
            return cls.from_dict(data)
        except StageModelError as exc:
            raise StageModelError(
                f"{path}: {exc.message_id}", f"{path}: {exc.message_en}", field=exc.field
            ) from None

    @classmethod
    def from_dict(cls, data: Any) -> StageModel:
        """Build a model from a mapping of the YAML layout (see :meth:`from_file`)."""
        if not isinstance(data, Mapping):
            raise StageModelError(
                "model tahapan harus berupa pemetaan (mapping) dengan daftar 'stages'",
                "the stage model must be a mapping with a 'stages' list",
            )
        unknown = set(data) - _MODEL_KEYS
        if unknown:
            raise StageModelError(
                f"kunci {sorted(unknown)} tidak dikenal di tingkat atas; yang boleh: "
                f"{sorted(_MODEL_KEYS)}",
                f"unknown key(s) {sorted(unknown)} at the top level; allowed: "
                f"{sorted(_MODEL_KEYS)}",
            )
        raw_stages = data.get("stages")
        if not raw_stages:
            raise StageModelError(
                "daftar tahap kosong; cantumkan tahap-tahapnya di bawah 'stages'",
                "the stage list is empty; list the stages under 'stages'",
            )
        if not isinstance(raw_stages, list):
            raise StageModelError(
                "'stages' harus berupa daftar tahap", "'stages' must be a list of stages"
            )
        unit = data.get("target_unit", "calendar")
        if unit not in ("calendar", "working"):
            raise StageModelError(
                f"target_unit harus 'calendar' atau 'working', bukan {unit!r}",
                f"target_unit must be 'calendar' or 'working', not {unit!r}",
                field="target_unit",
            )
        stages = tuple(_stage_from_dict(raw, i) for i, raw in enumerate(raw_stages))
        return cls(name=str(data.get("name", "custom")), stages=stages, target_unit=unit)

    # ------------------------------------------------------------------ access
    @property
    def ids(self) -> tuple[str, ...]:
        """All stage ids in model order."""
        return tuple(s.id for s in self.stages)

    @property
    def helping_stages(self) -> tuple[Stage, ...]:
        """The helping stages (``kind == "stage"``), in order."""
        return tuple(s for s in self.stages if s.kind == "stage")

    @property
    def closed_id(self) -> str | None:
        """Id of the closed state (``"ditutup"`` in the default model)."""
        return next((s.id for s in self.stages if s.kind == "closed"), None)

    @property
    def reopened_id(self) -> str | None:
        """Id of the reopened state (``"dibuka_kembali"`` in the default model)."""
        return next((s.id for s in self.stages if s.kind == "reopened"), None)

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """Ordered pandas categorical dtype of all stage ids in model order."""
        return pd.CategoricalDtype(list(self.ids), ordered=True)

    @property
    def targets(self) -> dict[str, float]:
        """Target days per stage (stages without a target are left out)."""
        return {s.id: s.target_days for s in self.stages if s.target_days is not None}

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; :class:`StageModelError` lists the known ids otherwise."""
        try:
            return self._by_id[stage_id]
        except KeyError:
            raise StageModelError(
                f"tahap {stage_id!r} tidak ada di model tahapan; tahap yang dikenal: "
                f"{', '.join(self.ids)}",
                f"stage {stage_id!r} is not in the stage model; known stages: "
                f"{', '.join(self.ids)}",
                field="stage",
            ) from None

    def __contains__(self, stage_id: object) -> bool:
        return stage_id in self._by_id

    def __iter__(self) -> Any:
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    def index(self, stage_id: str) -> int:
        """Position of a stage in model order."""
        return self.stage(stage_id).order

    def next_stage(self, stage_id: str) -> Stage | None:
        """The helping stage after ``stage_id`` (None after the last helping stage)."""
        helping = self.helping_stages
        ids = [s.id for s in helping]
        if stage_id not in ids:
            return helping[0] if stage_id == self.reopened_id else None
        pos = ids.index(stage_id)
        return helping[pos + 1] if pos + 1 < len(helping) else None

    def label(self, stage_id: str, lang: str | None = None) -> str:
        """Label of a stage in ``lang`` (default: current language)."""
        return self.stage(stage_id).label(lang)

    def labels(self, lang: str | None = None) -> dict[str, str]:
        """Stage id -> label in ``lang``."""
        return {s.id: s.label(lang) for s in self.stages}

    def item(self, item_id: str) -> tuple[Stage, ChecklistItem]:
        """The stage and checklist item with this id."""
        try:
            return self._items[item_id]
        except KeyError:
            raise StageModelError(
                f"butir daftar periksa {item_id!r} tidak ada di model tahapan; lihat "
                "StageModel.checklist_frame() untuk butir yang dikenal",
                f"checklist item {item_id!r} is not in the stage model; see "
                "StageModel.checklist_frame() for the known items",
                field="item_id",
            ) from None

    def has_item(self, item_id: str) -> bool:
        """True when ``item_id`` is a checklist item of the model."""
        return item_id in self._items

    @property
    def forgotten_items(self) -> tuple[tuple[Stage, ChecklistItem], ...]:
        """Every (stage, item) pair that marks an often-forgotten step."""
        return tuple((s, i) for s, i in self._items.values() if i.forgotten)

    def match(self, name: object) -> tuple[str, str] | None:
        """Match an imported stage name to a stage id.

        Returns
        -------
        (stage_id, how) or None
            ``how`` is ``"exact"`` when ``name`` is the id itself, otherwise ``"id"``, ``"label"``
            or ``"alias"`` (matched after folding case and spacing). None when nothing matches.
        """
        if isinstance(name, str) and name in self._by_id:
            return name, "exact"
        return self._names.get(normalise_name(name))

    def known_names(self) -> list[str]:
        """Every name (folded) that :meth:`match` recognises."""
        return sorted(self._names)

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """One row per stage: ``order, stage, label, kind, target_days, n_items, n_forgotten``."""
        return pd.DataFrame(
            {
                "order": [s.order for s in self.stages],
                "stage": [s.id for s in self.stages],
                "label": [s.label(lang) for s in self.stages],
                "kind": [s.kind for s in self.stages],
                "target_days": [s.target_days for s in self.stages],
                "n_items": [len(s.checklist) for s in self.stages],
                "n_forgotten": [len(s.forgotten_items) for s in self.stages],
            }
        )

    def checklist_frame(self, lang: str | None = None) -> pd.DataFrame:
        """One row per checklist item: ``stage, item, label, forgotten, source``."""
        rows = [
            (s.id, i.id, i.label(lang), i.forgotten, i.source)
            for s in self.stages
            for i in s.checklist
        ]
        return pd.DataFrame(rows, columns=["stage", "item", "label", "forgotten", "source"])

    def _repr_html_(self) -> str:
        rows = []
        for s in self.stages:
            target = "" if s.target_days is None else f"{s.target_days:g}"
            items = "".join(
                f"<li>{'★ ' if i.forgotten else ''}{html.escape(bilingual(i.label_id, i.label_en))}"
                "</li>"
                for i in s.checklist
            )
            rows.append(
                f"<tr><td>{s.order + 1}</td><td><code>{html.escape(s.id)}</code></td>"
                f"<td>{html.escape(bilingual(s.label_id, s.label_en))}</td><td>{target}</td>"
                f"<td style='text-align:left'><ul style='margin:0'>{items}</ul></td></tr>"
            )
        return (
            f"<p><b>StageModel {html.escape(self.name)}</b> — target in {self.target_unit} days; "
            "★ = sering terlupa / often forgotten</p><table><thead><tr><th>#</th><th>id</th>"
            "<th>Tahap / Stage</th><th>Target</th><th>Checklist</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )


#: Where a problem is in a stage-model file: (Bahasa Indonesia, English).
_Where = tuple[str, str]


def _invalid(where: _Where, message_id: str, message_en: str) -> StageModelError:
    return StageModelError(f"{where[0]}: {message_id}", f"{where[1]}: {message_en}")


def _labels(raw: Any, where: _Where) -> tuple[str, str]:
    if isinstance(raw, str):
        return raw, raw
    if not isinstance(raw, Mapping) or not ({"id", "en"} & set(raw)):
        raise _invalid(
            where,
            "'label' harus berupa teks atau pemetaan dengan 'id' dan 'en'",
            "'label' must be text or a mapping with 'id' and 'en'",
        )
    label_id = str(raw.get("id") or raw.get("en"))
    return label_id, str(raw.get("en") or label_id)


def _stage_from_dict(raw: Any, position: int) -> Stage:
    where = (f"tahap #{position + 1}", f"stage #{position + 1}")
    if not isinstance(raw, Mapping):
        raise _invalid(
            where,
            "setiap tahap harus berupa pemetaan dengan paling sedikit 'id'",
            "each stage must be a mapping with at least an 'id'",
        )
    unknown = set(raw) - _STAGE_KEYS
    if unknown:
        raise _invalid(
            (f"{where[0]} ({raw.get('id')!r})", f"{where[1]} ({raw.get('id')!r})"),
            f"kunci {sorted(unknown)} tidak dikenal; yang boleh: {sorted(_STAGE_KEYS)}",
            f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_STAGE_KEYS)}",
        )
    stage_id = raw.get("id")
    if not isinstance(stage_id, str) or not _ID_RE.match(stage_id):
        raise _invalid(
            where,
            f"id {stage_id!r} harus huruf kecil, angka dan '_' (mis. 'asesmen')",
            f"id {stage_id!r} must be lower-case letters, digits and '_' (e.g. 'asesmen')",
        )
    where = (f"tahap {stage_id!r}", f"stage {stage_id!r}")
    label_id, label_en = _labels(raw.get("label", stage_id), where)
    kind = raw.get("kind", "stage")
    if kind not in ("stage", "closed", "reopened"):
        raise _invalid(
            where,
            f"kind harus stage, closed atau reopened, bukan {kind!r}",
            f"kind must be stage, closed or reopened, not {kind!r}",
        )
    target = _target_days(raw.get("target_days"), where)
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list):
        raise _invalid(
            where, "'aliases' harus berupa daftar nama", "'aliases' must be a list of names"
        )
    checklist = raw.get("checklist") or []
    if not isinstance(checklist, list):
        raise _invalid(
            where, "'checklist' harus berupa daftar butir", "'checklist' must be a list of items"
        )
    return Stage(
        id=stage_id,
        label_id=label_id,
        label_en=label_en,
        kind=kind,
        order=position,
        target_days=target,
        aliases=tuple(str(a) for a in aliases),
        checklist=tuple(_item_from_dict(item, where) for item in checklist),
        description=str(raw.get("description", "")),
    )


def _target_days(target: Any, where: _Where) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, int | float):
        raise _invalid(
            where,
            f"target_days harus berupa jumlah hari, bukan {target!r}",
            f"target_days must be a number of days, not {target!r}",
        )
    if not math.isfinite(target) or target <= 0:
        raise _invalid(
            where,
            f"target_days harus bilangan positif, bukan {target!r}",
            f"target_days must be a positive number, not {target!r}",
        )
    return float(target)


def _item_from_dict(raw: Any, where: _Where) -> ChecklistItem:
    if not isinstance(raw, Mapping):
        raise _invalid(
            where,
            "setiap butir daftar periksa harus berupa pemetaan dengan 'id' dan 'label'",
            "each checklist item must be a mapping with 'id' and 'label'",
        )
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise _invalid(
            (f"{where[0]}, butir {raw.get('id')!r}", f"{where[1]}, item {raw.get('id')!r}"),
            f"kunci {sorted(unknown)} tidak dikenal; yang boleh: {sorted(_ITEM_KEYS)}",
            f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_ITEM_KEYS)}",
        )
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not _ID_RE.match(item_id):
        raise _invalid(
            where,
            f"id butir daftar periksa {item_id!r} harus seperti 'kontrak_layanan'",
            f"checklist item id {item_id!r} must be like 'kontrak_layanan'",
        )
    at_item = (f"{where[0]}, butir {item_id!r}", f"{where[1]}, item {item_id!r}")
    forgotten = raw.get("forgotten")
    if forgotten is not None and forgotten not in FORGOTTEN:
        raise _invalid(
            at_item,
            f"forgotten harus salah satu dari {sorted(FORGOTTEN)}, bukan {forgotten!r}",
            f"forgotten must be one of {sorted(FORGOTTEN)}, not {forgotten!r}",
        )
    label_id, label_en = _labels(raw.get("label", item_id), at_item)
    return ChecklistItem(
        id=item_id,
        label_id=label_id,
        label_en=label_en,
        forgotten=forgotten,
        source=str(raw.get("source", "")),
    )


_DEFAULT: list[StageModel] = []


def _default_model() -> StageModel:
    if not _DEFAULT:
        text = resources.files("pekso_toolkit").joinpath("data/stage_model.yaml").read_text("utf-8")
        _DEFAULT.append(StageModel.from_dict(yaml.safe_load(text)))
    return _DEFAULT[0]


def stage_ids(stages: Iterable[Stage]) -> list[str]:
    """Ids of an iterable of stages."""
    return [s.id for s in stages]
