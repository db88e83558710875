"""Shared pieces of the widgets: escaping, labels, bilingual messages next to fields, and the
change notification that keeps several widgets on one store consistent.

Widgets never keep casework state of their own: after every write they call :func:`notify`, and
every widget showing the same store re-reads it (``refresh()``).
"""

from __future__ import annotations

import functools
import html
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import ipywidgets as w

from pekso_toolkit.core.config import DEFAULT_TZ, RISK_LEVELS
from pekso_toolkit.core.errors import PeksoError, PracticeRuleError
from pekso_toolkit.core.i18n import get_language, pick
from pekso_toolkit.core.times import resolve_tz
from pekso_toolkit.store.rules import RULE_FIELDS
from pekso_toolkit.store.schema import RecordError

__all__ = [
    "LEVELS",
    "PAST_DAY_TIME",
    "Feedback",
    "at_of_date",
    "date_field",
    "esc",
    "level_options",
    "notify",
    "one_at_a_time",
    "set_disabled",
    "store_today",
    "subscribe",
    "today_local",
]

#: Time zone in which dates typed by workers are read.

#: Risk / severity levels: stored code -> (Bahasa Indonesia, English).
LEVELS = RISK_LEVELS

#: CSS classes used by the widgets (one <style> block, added to each widget once).
CSS = """
<style>
.pekso-widget { font-size: 13px; }
.pekso-error { color: #b91c1c; font-size: 12px; line-height: 1.3; }
.pekso-error .pekso-other { color: #7f1d1d; opacity: 0.8; }
.pekso-warning { color: #92400e; background: #fffbeb; border-left: 4px solid #d97706;
                 padding: 4px 8px; font-size: 12px; }
.pekso-ok { color: #166534; font-size: 12px; }
.pekso-forgotten { background: #fff7ed; border-left: 4px solid #ea580c; padding-left: 4px; }
.pekso-forgotten label { font-weight: 600; }
.pekso-overdue button, button.pekso-overdue { font-weight: 600; }
.pekso-muted { color: #6b7280; font-size: 12px; }
.pekso-table { border-collapse: collapse; font-size: 12px; }
.pekso-table th, .pekso-table td { border-bottom: 1px solid #e5e7eb; padding: 2px 6px;
                                    text-align: left; vertical-align: top; }
.pekso-table td.num { text-align: right; }
.pekso-table tr.suppressed td { color: #9ca3af; }
</style>
"""


def esc(value: object) -> str:
    """HTML-escaped text of ``value`` (``""`` for None); quotes are escaped too."""
    return html.escape("" if value is None else str(value), quote=True)


def style_block() -> w.HTML:
    """An (invisible) HTML widget carrying the widgets' CSS."""
    block = w.HTML(CSS, layout=w.Layout(display="none"))
    return block


def level_options(*, blank: str | None = None) -> list[tuple[str, str | None]]:
    """Dropdown options for a risk or severity level in the current language."""
    options: list[tuple[str, str | None]] = []
    if blank is not None:
        options.append((blank, None))
    options += [(pick(*labels), code) for code, labels in LEVELS.items()]
    return options


def level_label(code: str | None) -> str:
    """The label of a level code in the current language ("" for None)."""
    if code is None:
        return ""
    labels = LEVELS.get(code)
    return pick(*labels) if labels else code


def counted(n: int, noun_id: str, one_en: str, many_en: str) -> str:
    """``n`` and its noun in the current language: ``"1 case"``, ``"2 cases"``; Bahasa
    Indonesia does not inflect (``"1 kasus"``, ``"2 kasus"``)."""
    if get_language() == "en":
        return f"{n} {one_en if n == 1 else many_en}"
    return f"{n} {noun_id}"


def today_local() -> date:
    """Today's date in Asia/Jakarta."""
    return datetime.now(ZoneInfo(DEFAULT_TZ)).date()


# ------------------------------------------------------------------------------ dates of events
#: Local time of day at which an event dated on an earlier day is recorded: midday, inside the
#: working day, so the day reads the same in every Indonesian time zone.
PAST_DAY_TIME = time(12, 0)


def store_zone_name(store: Any) -> str:
    """The IANA name of the store's time zone (Asia/Jakarta when it has none)."""
    return resolve_tz(getattr(store, "tz", None) or DEFAULT_TZ)


def _store_zone(store: Any) -> ZoneInfo:
    return ZoneInfo(store_zone_name(store))


def store_today(store: Any) -> date:
    """Today by the store's clock, in the store's time zone (what "today" means when recording)."""
    now = store._now() if hasattr(store, "_now") else datetime.now(ZoneInfo("UTC"))
    return now.astimezone(_store_zone(store)).date()


def date_field(store: Any) -> w.DatePicker:
    """A "Tanggal kejadian / Date it happened" picker: the store's today, no later day."""
    today = store_today(store)
    return w.DatePicker(
        value=today,
        max=today,
        description=pick("Tanggal kejadian", "Date it happened"),
        style={"description_width": "120px"},
    )


def follow_today(picker: w.DatePicker, store: Any) -> None:
    """Move a date field on when the store's day has changed: its latest day becomes today, and a
    field still showing the old today shows the new one (it was left at "today")."""
    today = store_today(store)
    if picker.max is None or today > picker.max:
        left_at_today = picker.value is not None and picker.value == picker.max
        picker.max = today
        if left_at_today:
            picker.value = today


def at_of_date(
    store: Any,
    picked: date | None,
    *,
    since: datetime | None = None,
    what: tuple[str, str] = ("awal tahap sekarang", "the start of the current stage"),
) -> datetime | None:
    """The ``at=`` of a recording from the date a worker picked ("date it happened").

    The store's today (its clock, its time zone) gives None: the store stamps the moment of
    recording. An earlier day gives :data:`PAST_DAY_TIME` (12:00) local time that day, or
    ``since`` when that was later the same day (nothing is placed before the start it follows).

    Raises
    ------
    RecordError
        On ``at``, bilingual: no date, a date after the store's today, or a day before that of
        ``since`` (``what`` names it: Bahasa Indonesia, English). Nothing is written.
    """
    if picked is None:
        raise RecordError(
            "at: tanggal kosong; pilih tanggal kejadian",
            "at: the date is missing; pick the date it happened",
            field="at",
        )
    zone = _store_zone(store)
    today = store_today(store)
    if picked > today:
        raise RecordError(
            f"at: {picked.isoformat()} ada di masa depan (hari ini {today.isoformat()}); catat "
            "yang sudah terjadi",
            f"at: {picked.isoformat()} is in the future (today {today.isoformat()}); record what "
            "has happened",
            field="at",
        )
    start = None if since is None else since.astimezone(zone)
    if start is not None and picked < start.date():
        shown = start.strftime("%Y-%m-%d %H:%M")
        raise RecordError(
            f"at: {picked.isoformat()} lebih awal dari {what[0]} ({shown}); pilih tanggal itu "
            "atau sesudahnya",
            f"at: {picked.isoformat()} is earlier than {what[1]} ({shown}); pick that date or a "
            "later one",
            field="at",
        )
    if picked == today:
        return None
    moment = datetime.combine(picked, PAST_DAY_TIME, tzinfo=zone)
    return start if start is not None and start > moment else moment


# ----------------------------------------------------------------------------------- messages
def split_message(exc: BaseException) -> tuple[str | None, str, str]:
    """(field, message in Bahasa Indonesia, message in English) of an error.

    A toolkit error (:class:`~pekso_toolkit.core.errors.PeksoError`) carries them as fields
    (``field``, ``message_id``, ``message_en``); anything else is shown as it is in both places.
    """
    if isinstance(exc, PeksoError):
        return exc.field, exc.message_id, exc.message_en
    text = str(exc)
    return None, text, text


def message_html(message_id: str, message_en: str, *, css: str = "pekso-error") -> str:
    """A bilingual message as escaped HTML: the current language first, the other below."""
    first, second = (message_en, message_id) if get_language() == "en" else (message_id, message_en)
    body = f"⚠ {esc(first)}"
    if second != first:
        body += f"<br><span class='pekso-other'>{esc(second)}</span>"
    return f"<div class='{css}'>{body}</div>"


class Feedback:
    """Bilingual error messages shown next to the fields of a form.

    ``slots`` maps a field name to the HTML widget placed beside that field; ``general`` is
    the place for messages that concern no single field (shown beside the action button).
    ``aliases`` maps other field names (as the store names them) to a slot.
    """

    def __init__(
        self,
        slots: Iterable[str],
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.slots: dict[str, w.HTML] = {name: w.HTML("") for name in slots}
        self.general = w.HTML("")
        self.aliases = dict(aliases or {})
        for slot in self.slots.values():
            slot.add_class("pekso-feedback")
        self.general.add_class("pekso-feedback")

    def __getitem__(self, field: str) -> w.HTML:
        return self.slots[field]

    def clear(self) -> None:
        """Remove every message."""
        for slot in (*self.slots.values(), self.general):
            slot.value = ""

    def place(self, field: str | None) -> w.HTML:
        """The widget where a message about ``field`` goes."""
        if field is None:
            return self.general
        field = self.aliases.get(field, field)
        return self.slots.get(field, self.general)

    def error(self, field: str | None, message_id: str, message_en: str) -> None:
        """Show an error next to ``field`` (or in the general place)."""
        self.place(field).value = message_html(message_id, message_en)

    def show(self, exc: BaseException, *, fields: Mapping[str, str] | None = None) -> str | None:
        """Show a store or practice-rule error next to the field it concerns; returns the slot.

        ``fields`` maps the store's field names to slots for this one message (e.g. ``at`` to
        the date of the action), before :attr:`aliases`.
        """
        field, message_id, message_en = split_message(exc)
        if isinstance(exc, PracticeRuleError):
            field = RULE_FIELDS.get(exc.rule, field)
        if field is not None and fields:
            field = fields.get(field, field)
        place = self.place(field)
        place.value = message_html(message_id, message_en)
        for name, slot in self.slots.items():
            if slot is place:
                return name
        return None

    def ok(self, message_id: str, message_en: str) -> None:
        """A confirmation in the general place."""
        self.general.value = f"<div class='pekso-ok'>✔ {esc(pick(message_id, message_en))}</div>"

    def messages(self) -> dict[str, str]:
        """Field -> shown HTML, for the fields that show something (``""`` = general)."""
        out = {name: slot.value for name, slot in self.slots.items() if slot.value}
        if self.general.value:
            out[""] = self.general.value
        return out


def attempt(
    feedback: Feedback, action: Callable[[], Any], *, fields: Mapping[str, str] | None = None
) -> tuple[bool, Any]:
    """Run a store call; on a toolkit error show it (bilingual, next to its field).

    Returns ``(True, result)`` or ``(False, None)``. Only the toolkit's own errors and
    ``ValueError`` are shown; anything else is a bug and propagates. ``fields``: as in
    :meth:`Feedback.show`.
    """
    try:
        return True, action()
    except (PeksoError, ValueError) as exc:
        feedback.show(exc, fields=fields)
        return False, None


# ------------------------------------------------------------------------------ action buttons
_locks: weakref.WeakKeyDictionary[object, threading.Lock] = weakref.WeakKeyDictionary()
_locks_lock = threading.Lock()
#: Buttons whose action runs now -> the disabled state each gets when the action ends.
_running: weakref.WeakKeyDictionary[w.Widget, bool] = weakref.WeakKeyDictionary()


def _lock_of(owner: object) -> threading.Lock:
    with _locks_lock:
        lock = _locks.get(owner)
        if lock is None:
            lock = _locks[owner] = threading.Lock()
        return lock


def set_disabled(widget: w.Widget, disabled: bool) -> None:
    """Disable or enable a widget; while the action of a button runs, the button stays disabled
    and this is the state it gets when the action ends."""
    if widget in _running:
        _running[widget] = bool(disabled)
    else:
        widget.disabled = bool(disabled)


F = TypeVar("F", bound=Callable[..., Any])


def one_at_a_time(button: str, *, busy: Any = None) -> Callable[[F], F]:
    """Make a widget method the action of its button; a widget runs one action at a time.

    While the method runs, the button (the widget's attribute ``button``) is disabled, so the
    page sends no second click, and any other action of the same widget called meanwhile (a
    click delivered while the first one's store call runs, from the same thread or another)
    does nothing and returns ``busy``. When the method ends, also by an error, the button gets
    back the state it had, or the one the action asked for with :func:`set_disabled` (e.g. "no
    next stage").
    """

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            lock = _lock_of(self)
            if not lock.acquire(blocking=False):
                return busy  # an action of this widget is still at work: this call is a no-op
            widget = getattr(self, button)
            try:
                _running[widget] = bool(widget.disabled)
                widget.disabled = True
                try:
                    return method(self, *args, **kwargs)
                finally:
                    widget.disabled = _running.pop(widget)
            finally:
                lock.release()

        return run  # type: ignore[return-value]

    return wrap


# ------------------------------------------------------------------------------ notifications
_subscribers: dict[object, list[Callable[[], Any]]] = {}


def _key(store: Any) -> object:
    path = getattr(store, "path", None)
    if path is None or str(path) == ":memory:":
        return ("object", id(store))
    try:
        return ("file", str(Path(path).resolve()))
    except OSError:
        return ("file", str(path))


def subscribe(store: Any, callback: Callable[[str | None], None]) -> None:
    """Call ``callback(case_id)`` after any widget writes to ``store`` (or to the same file).

    Bound methods are held weakly, so a widget that is gone stops being called; plain functions
    are held until the store's last subscriber is gone.
    """
    ref: Callable[[], Any]
    if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
        ref = weakref.WeakMethod(callback)
    else:

        def ref() -> Any:
            return callback

    _subscribers.setdefault(_key(store), []).append(ref)


def notify(store: Any, case_id: str | None = None) -> None:
    """Tell every widget on ``store`` that ``case_id`` changed (None: anything may have)."""
    key = _key(store)
    for ref in list(_subscribers.get(key, [])):
        callback = ref()
        if callback is not None:
            callback(case_id)
    # drop the widgets that are gone (callbacks may have subscribed new ones meanwhile)
    alive = [ref for ref in _subscribers.get(key, []) if ref() is not None]
    if alive:
        _subscribers[key] = alive
    else:
        _subscribers.pop(key, None)


def fmt_date(moment: datetime | None, store: Any = None) -> str:
    """A stored time as a date in the store's time zone, ``2025-01-31`` ("" for None)."""
    if moment is None:
        return ""
    return moment.astimezone(_store_zone(store)).strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------------- base view
class StoreView(w.VBox):
    """Base of the widgets that show a case store: re-read on every change notification.

    Store calls go through :attr:`db`. JupyterLab may deliver widget events on another thread
    than the one that ran the cells; :class:`~pekso_toolkit.store.CaseStore` serialises its
    own work, so the same store serves both.
    """

    def __init__(self, store: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.add_class("pekso-widget")
        subscribe(store, self._on_store_change)

    @property
    def db(self) -> Any:
        """The store the widget shows and writes to."""
        return self.store

    def _concerns(self, case_id: str | None) -> bool:
        """Whether a change of ``case_id`` (None: any) needs this widget to re-read the store."""
        return True

    def _on_store_change(self, case_id: str | None) -> None:
        # a widget left over on a closed store object (the notebook opened the same file
        # again) has nothing to re-read; the widgets on the open store object do the work
        if getattr(self.store, "closed", False):
            return
        if self._concerns(case_id):
            self.refresh()

    def refresh(self) -> None:
        """Re-read the store and show what it holds now."""

    def _changed(self, case_id: str | None) -> None:
        """After a write: every widget on this store (this one too) re-reads it."""
        notify(self.store, case_id)


def labelled(field: w.Widget, feedback: w.HTML) -> w.VBox:
    """A field with its message place right under it."""
    return w.VBox([field, feedback], layout=w.Layout(margin="0 0 4px 0"))


def wide(width: str = "620px") -> w.Layout:
    """A fresh layout for a full-width form field."""
    return w.Layout(width=width, max_width="95%")


#: Style of form fields: room for the label.
DESC = {"description_width": "180px"}


def iter_widgets(root: w.Widget) -> Iterator[w.Widget]:
    """``root`` and every widget inside it (children of boxes), depth first."""
    yield root
    for child in getattr(root, "children", ()) or ():
        yield from iter_widgets(child)


def shown_html(root: w.Widget) -> str:
    """All HTML that ``root`` shows (the values of its HTML widgets), joined: for checks."""
    return "\n".join(str(x.value) for x in iter_widgets(root) if isinstance(x, w.HTML | w.HTMLMath))


_CSS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def name_fields(owner: object, names: Iterable[str], prefix: str = "pekso-field-") -> None:
    """Give each named widget attribute of ``owner`` the CSS class ``pekso-field-<name>``, so
    pages (and browser tests) can find it."""
    for name in names:
        getattr(owner, name).add_class(f"{prefix}{name}")


def css_class(prefix: str, key: str) -> str | None:
    """``prefix + key`` when ``key`` is safe in a CSS class name, else None."""
    return f"{prefix}{key}" if _CSS_NAME.match(key) else None
