"""Toolkit errors carry their message as structured, bilingual fields.

Every toolkit error (a subclass of :class:`pekso_toolkit.core.errors.PeksoError`) is built with
the message in Bahasa Indonesia and in English as two arguments (``message_id``, ``message_en``),
optionally the ``field`` it concerns, never as one string gluing both languages with ``" / "``.
Widgets read those fields; none splits the text of a message with a regular expression or at
``" / "``. The source is read with ``ast``: every call that builds a toolkit error counts,
wherever it stands.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import pekso_toolkit
from pekso_toolkit.core.errors import PeksoError
from pekso_toolkit.store import RecordError
from pekso_toolkit.widgets import _common

PACKAGE = Path(pekso_toolkit.__file__).resolve().parent
GLUE = " / "


def error_classes() -> set[str]:
    """Names of every toolkit error class, from the loaded package."""
    for module in pkgutil.walk_packages(pekso_toolkit.__path__, "pekso_toolkit."):
        importlib.import_module(module.name)
    names: set[str] = set()
    todo: list[type] = [PeksoError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _texts(node: ast.AST) -> list[str]:
    """The literal text pieces of a string expression (f-string parts included)."""
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def error_violations(source: str, where: str, classes: set[str]) -> list[str]:
    """Calls building a toolkit error with one message only or a glued two-language one."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _called_name(node) not in classes:
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        messages = list(node.args[:2])
        messages += [keywords[k] for k in ("message_id", "message_en") if k in keywords]
        name = f"{where}:{node.lineno} {_called_name(node)}"
        if any(isinstance(a, ast.Starred) for a in node.args) or None in keywords:
            continue  # passed on from elsewhere (*args / **kwargs)
        if any(GLUE in text for m in messages for text in _texts(m)):
            found.append(f"{name}: a message glues two languages with ' / '")
        elif len(messages) < 2:
            found.append(f"{name}: one message; give message_id and message_en")
    return found


def glued_raise_violations(source: str, where: str) -> list[str]:
    """Any ``raise`` (toolkit error or not) whose message glues two languages with ``" / "``."""
    return [
        f"{where}:{node.lineno}: raise with a glued two-language message"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and any(GLUE in text for arg in node.exc.args for text in _texts(arg))
    ]


def splitting_violations(source: str, where: str) -> list[str]:
    """Regular expressions or ``split(" / ")`` that take a message's text apart."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if not isinstance(func, ast.Attribute):
            continue
        is_re = isinstance(func.value, ast.Name) and func.value.id == "re"
        is_split = func.attr in ("split", "rsplit", "partition")
        if is_re and func.attr == "split":
            found.append(f"{where}:{node.lineno}: re.split")
        elif (is_re or is_split) and any(
            "/" in text for arg in node.args[:1] for text in _texts(arg)
        ):
            found.append(f"{where}:{node.lineno}: splits text at '/'")
    return found


def _sources(folder: Path) -> list[tuple[str, str]]:
    return [
        (p.relative_to(PACKAGE.parent).as_posix(), p.read_text(encoding="utf-8"))
        for p in sorted(folder.rglob("*.py"))
    ]


def test_the_scan_knows_every_toolkit_error() -> None:
    names = error_classes()
    assert {"PeksoError", "RecordError", "EventLogError", "StageModelError"} <= names
    assert {"ReportError", "PublicationError", "TimeValueError"} <= names


def test_every_toolkit_error_is_built_with_both_messages() -> None:
    classes = error_classes()
    found = [v for where, src in _sources(PACKAGE) for v in error_violations(src, where, classes)]
    assert not found, "toolkit errors without structured bilingual messages:\n" + "\n".join(found)


def test_no_raise_glues_two_languages() -> None:
    found = [v for where, src in _sources(PACKAGE) for v in glued_raise_violations(src, where)]
    assert not found, "raise a toolkit error with message_id and message_en:\n" + "\n".join(found)


def test_no_widget_splits_message_text() -> None:
    found = [
        v for where, src in _sources(PACKAGE / "widgets") for v in splitting_violations(src, where)
    ]
    assert not found, "widgets must read message_id / message_en / field:\n" + "\n".join(found)


PLANTED = """
import re
from pekso_toolkit.core.errors import EventLogError
def f(path, field, exc):
    raise EventLogError(f"{path}: berkas kosong / {path}: the file is empty")
def g():
    raise EventLogError("only English")
def h(path):
    raise EventLogError(f"{path}: berkas kosong", f"{path}: the file is empty", field="source")
def k(text):
    return re.split(r" / ", text), text.split(" / ")
def m():
    raise ValueError("kosong / empty")
def again(exc):
    raise EventLogError(exc.message_id, exc.message_en, field=exc.field) from exc
"""


def test_the_scans_can_fail() -> None:
    found = error_violations(PLANTED, "planted.py", {"EventLogError"})
    assert found == [
        "planted.py:5 EventLogError: a message glues two languages with ' / '",
        "planted.py:7 EventLogError: one message; give message_id and message_en",
    ]
    assert glued_raise_violations(PLANTED, "planted.py") == [
        "planted.py:5: raise with a glued two-language message",
        "planted.py:13: raise with a glued two-language message",
    ]
    assert splitting_violations(PLANTED, "planted.py") == [
        "planted.py:11: re.split",
        "planted.py:11: splits text at '/'",
    ]


def test_widgets_place_a_store_error_by_its_field() -> None:
    exc = RecordError("kantor wajib diisi", "the office is required", field="office")
    assert _common.split_message(exc) == ("office", "kantor wajib diisi", "the office is required")
    fb = _common.Feedback(("office", "story"), aliases={"at": "story"})
    assert fb.show(exc) == "office"
    assert (
        "kantor wajib diisi" in fb["office"].value
        and "the office is required" in fb["office"].value
    )
    fb.clear()
    assert fb.show(RecordError("besok", "tomorrow", field="at")) == "story"
    fb.clear()
    # a message that merely contains " / " is shown whole, in the general place
    assert fb.show(RecordError("a / b")) is None and "a / b" in fb.general.value


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_store_error_from_the_store_names_its_field(lang: str, tmp_path: Path) -> None:
    from pekso_toolkit.store import CaseStore

    store = CaseStore(tmp_path / "c.sqlite", worker="ani")
    with pytest.raises(RecordError) as info:
        store.open_case(
            "k1", office="", worker="ani", risk="tinggi", referral_source="RT", story="x"
        )
    exc = info.value
    assert exc.field == "office"
    assert exc.message_id != exc.message_en and GLUE not in exc.message_id
    assert exc.message(lang) == (exc.message_en if lang == "en" else exc.message_id)
