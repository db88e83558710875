"""Readable text of the case store: event descriptions for the audit trail, risk labels."""

from __future__ import annotations

from collections.abc import Iterable

from pekso_toolkit.core.config import RISK_LEVELS
from pekso_toolkit.core.i18n import pick
from pekso_toolkit.core.stages import StageModel
from pekso_toolkit.store.records import Event

__all__ = ["describe", "level_label"]


def level_label(value: str | None, lang: str | None = None) -> str:
    """Label of a risk or severity code (``high``/``medium``/``low``)."""
    if value is None:
        return ""
    pair = RISK_LEVELS.get(value)
    return pick(*pair, lang) if pair else value


def describe(ev: Event, model: StageModel, lang: str | None = None) -> str:
    """A readable one-line description of an event, in ``lang`` (default: current language)."""
    p = ev.payload

    def stage_label(stage: str | None) -> str:
        return model.label(stage, lang) if stage and stage in model else str(stage)

    def ids(values: Iterable[str]) -> str:
        return ", ".join(values) or "—"

    k = ev.kind
    if k == "case_opened":
        return pick(
            f"Kasus dibuka di kantor {p.get('office')} oleh peksos {p.get('worker')} "
            f"(risiko {level_label(p.get('risk'), 'id')}, rujukan dari {p.get('referral_source')})",
            f"Case opened at office {p.get('office')} for worker {p.get('worker')} "
            f"(risk {level_label(p.get('risk'), 'en')}, referred by {p.get('referral_source')})",
            lang,
        )
    if k in ("stage_entered", "stage_imported"):
        extra = pick(" (impor)", " (imported)", lang) if k == "stage_imported" else ""
        return pick("Masuk tahap ", "Entered stage ", lang) + stage_label(ev.stage) + extra
    if k == "problem_added":
        cat = f" [{p.get('category')}]" if p.get("category") else ""
        return pick("Masalah ", "Problem ", lang) + f"{p.get('problem_id')}{cat}: {p.get('text')}"
    if k == "problem_referred":
        return pick(
            f"Masalah {p.get('problem_id')} dirujuk ke {p.get('to')}",
            f"Problem {p.get('problem_id')} referred to {p.get('to')}",
            lang,
        )
    if k == "contract_signed":
        return pick(
            f"Kontrak layanan {p.get('contract_id')} ditandatangani; dalam cakupan: "
            f"{ids(p.get('in_scope', ()))}; di luar cakupan: {ids(p.get('out_of_scope', ()))}",
            f"Service contract {p.get('contract_id')} signed; in scope: "
            f"{ids(p.get('in_scope', ()))}; out of scope: {ids(p.get('out_of_scope', ()))}",
            lang,
        )
    if k == "contract_amended":
        return pick(
            f"Kontrak diubah dengan persetujuan klien: tambah {ids(p.get('add', ()))}, "
            f"hapus {ids(p.get('drop', ()))}. Alasan: {p.get('reason')}",
            f"Contract amended with the client's agreement: add {ids(p.get('add', ()))}, "
            f"drop {ids(p.get('drop', ()))}. Reason: {p.get('reason')}",
            lang,
        )
    if k == "contract_followed_up":
        return pick(
            f"Kontrak lanjutan {p.get('contract_id')} menggantikan {p.get('follows')}; dalam "
            f"cakupan: {ids(p.get('in_scope', ()))}. Alasan: {p.get('reason')}",
            f"Follow-up contract {p.get('contract_id')} follows {p.get('follows')}; in scope: "
            f"{ids(p.get('in_scope', ()))}. Reason: {p.get('reason')}",
            lang,
        )
    if k in ("item_ticked", "item_unticked"):
        item = p.get("item", "")
        label = model.item(item)[1].label(lang) if model.has_item(item) else item
        verb = pick("Dicentang: ", "Ticked: ", lang)
        if k == "item_unticked":
            verb = pick("Centang dibatalkan: ", "Unticked: ", lang)
        if p.get("derived_from") is not None:
            return (
                verb
                + label
                + pick(
                    " (otomatis, dari kejadian #{0})", " (automatically, from event #{0})", lang
                ).format(p["derived_from"])
            )
        return verb + label
    if k == "plan_step_added":
        return pick("Langkah rencana ", "Plan step ", lang) + (
            f"{p.get('step_id')} ({pick('tenggat', 'due', lang)} {p.get('due')}): {p.get('text')}"
        )
    if k == "plan_step_completed":
        return pick("Langkah selesai: ", "Step completed: ", lang) + str(p.get("step_id"))
    if k == "case_closed":
        return pick(
            f"Kasus ditutup dengan kontrak pengakhiran: {p.get('termination_contract')}. "
            f"Alasan: {p.get('reason')}",
            f"Case closed with termination contract: {p.get('termination_contract')}. "
            f"Reason: {p.get('reason')}",
            lang,
        )
    if k == "case_reopened":
        return pick("Kasus dibuka kembali. Alasan: ", "Case reopened. Reason: ", lang) + str(
            p.get("reason")
        )
    if k == "event_corrected":
        return pick(
            f"Koreksi: kejadian #{ev.voids} dibatalkan. Alasan: {p.get('reason')}",
            f"Correction: event #{ev.voids} voided. Reason: {p.get('reason')}",
            lang,
        )
    if k == "case_voided":
        return pick(
            f"Kasus dibatalkan (dibuka karena keliru). Alasan: {p.get('reason')}",
            f"Case voided (opened by mistake). Reason: {p.get('reason')}",
            lang,
        )
    return k
