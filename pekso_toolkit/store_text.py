"""Readable text of the case store: event descriptions for the audit trail and HTML views.

All user text that goes into HTML is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime

from pekso_toolkit.i18n import bilingual, pick
from pekso_toolkit.stages import StageModel
from pekso_toolkit.store_state import CaseState, Event

__all__ = ["describe", "level_label", "state_html"]

_RISK = {"high": ("tinggi", "high"), "medium": ("sedang", "medium"), "low": ("rendah", "low")}


def level_label(value: str | None, lang: str | None = None) -> str:
    """Label of a risk or severity code (``high``/``medium``/``low``)."""
    if value is None:
        return ""
    pair = _RISK.get(value)
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
    return k


# ---------------------------------------------------------------------------------------- html
def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def state_html(state: CaseState, model: StageModel | None = None) -> str:
    """HTML view of a case; every piece of user text is escaped."""
    model = model or StageModel.default()

    def stage_label(stage: str | None) -> str:
        return (
            bilingual(*(model.stage(stage).label_id, model.stage(stage).label_en))
            if (stage and stage in model)
            else str(stage)
        )

    status = bilingual("Ditutup", "Closed") if state.closed else bilingual("Aktif", "Open")
    rows = [
        ("Kasus / Case", state.case_id),
        ("Status", status),
        ("Tahap / Stage", stage_label(state.stage)),
        ("Masuk tahap / Entered", _when(state.stage_entered_at)),
        ("Kantor / Office", state.office),
        ("Peksos / Worker", state.worker),
        ("Risiko / Risk", level_label(state.risk)),
        ("Sumber rujukan / Referral source", state.referral_source),
        ("Dibuka / Opened", _when(state.opened_at)),
    ]
    if state.client_ref is not None:
        rows.append(("Klien / Client", state.client_ref))
    head = "".join(
        f"<tr><th style='text-align:left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows
    )
    parts = [f"<table>{head}</table>"]
    if state.story:
        story = state.story if len(state.story) <= 500 else state.story[:500] + " …"
        parts.append(f"<p><b>Cerita / Story</b>: {_e(story)}</p>")
    if state.problems:
        prob_rows = "".join(
            f"<tr><td>{_e(p.problem_id)}</td><td>{_e(p.category)}</td>"
            f"<td>{_e(level_label(p.severity))}</td><td>{_e(p.scope)}</td>"
            f"<td>{_e(p.referred_to)}</td>"
            f"<td style='text-align:left'>{_e((p.text or '')[:300])}</td></tr>"
            for p in state.problems
        )
        parts.append(
            "<p><b>Masalah / Problems</b></p><table><tr><th>id</th><th>kategori / category</th>"
            "<th>keparahan / severity</th><th>cakupan / scope</th><th>dirujuk / referred</th>"
            f"<th>uraian / text</th></tr>{prob_rows}</table>"
        )
    for c in state.contracts:
        versions = "".join(
            f"<li>v{v.version} {_e(_when(v.at))} — {_e(v.by)}: "
            f"{_e(', '.join(v.in_scope))} | {_e(', '.join(v.out_of_scope))}"
            f"{' — ' + _e(v.reason) if v.reason else ''}</li>"
            for v in c.versions
        )
        end = (
            f" ({_e(bilingual('berakhir', 'ended'))} {_e(_when(c.terminated_at))})"
            if (c.terminated_at)
            else ""
        )
        follows = f" ← {_e(c.follows)}" if c.follows else ""
        parts.append(
            f"<p><b>{_e(bilingual('Kontrak', 'Contract'))} {_e(c.contract_id)}</b>{follows}{end}: "
            f"{_e(c.capacity_note)}</p><ul>{versions}</ul>"
        )
    if state.plan_steps:
        steps = "".join(
            f"<li>{'✔' if s.completed_at else '☐'} {_e(s.step_id)} ({_e(s.due.isoformat())}): "
            f"{_e((s.text or '')[:300])}</li>"
            for s in state.plan_steps
        )
        parts.append(f"<p><b>Rencana / Plan</b></p><ul>{steps}</ul>")
    if state.flags:
        flags = "".join(
            f"<li>⚠ {_e(f.flag)} {_e(_when(f.at))} {_e(', '.join(f.items))}</li>"
            for f in state.flags
        )
        parts.append(f"<p><b>Tanda / Flags</b></p><ul>{flags}</ul>")
    return "".join(parts)
