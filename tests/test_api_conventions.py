"""The public API follows one set of conventions (issue 11, item 3).

Every public callable re-exported from ``pekso_toolkit`` is introspected:

* keyword-only parameters after the first argument;
* the first argument named after what it is (a small vocabulary);
* ``as_of`` (where present) defaults to None (read from ``stays.attrs`` when omitted);
* ``by`` (where present) is annotated ``str | list[str] | None`` (or a Sequence);
* ``min_count`` (where present) defaults to None: no suppression unless asked;
* plots (``plot_*``) take ``ax=None``, ``palette=None`` and ``**kwargs`` and return Axes.

Public methods of the exported classes are checked for the keyword-only rule and the parameter
defaults as well (not for the first-argument vocabulary: a method's first argument is usually an
identifier such as ``case_id``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pekso_toolkit as pk

#: Names a first argument may have: what the argument *is*.
FIRST_ARGUMENT_NAMES = frozenset(
    {
        "cases",  # the case table (one row per case)
        "column",  # a column name
        "checks",  # per-case checks of the forgotten steps (pk.forgotten_steps) or a store
        "data",  # a plot's input when it takes either a summary or stays
        "deviations",  # output of pk.deviations
        "events",  # an event table
        "flags",  # the store's flags table
        "lang",  # a language code
        "log",  # an event log (EventLog or frame)
        "log_or_store",  # an event log or a CaseStore (stage deviations or all practice rules)
        "path",  # a file
        "problems",  # the store's problems table
        "source",  # a file or frame to read
        "start",  # the start of an interval (working_days(start, end))
        "statements",  # problem statements
        "stays",  # output of time_in_stage
        "store",  # a CaseStore
        "summary",  # output of stage_summary
        "table",  # any tidy table (wip, a count table, ...)
        "taxonomy",  # a Taxonomy
    }
)

#: Callables whose leading positional parameters form one thing and may stay positional.
#: ``working_days(start, end)`` measures an interval; scikit-learn's ``fit(X, y)`` protocol.
POSITIONAL_PAIRS: dict[str, tuple[str, ...]] = {
    "working_days": ("start", "end"),
    "ProblemClassifier.fit": ("texts", "codes"),
    "ProblemClassifier.score": ("texts", "codes"),
    "ProblemClassifier.evaluate": ("texts", "codes"),
}

#: The publication gate is where the default threshold (core.config.MIN_COUNT) applies.
PUBLICATION_GATE = frozenset({"publish"})

#: Lookups ``label(code, lang)`` may take the language positionally.
POSITIONAL_OK = frozenset({"lang"})

#: Methods not checked: scikit-learn's estimator protocol has its own signatures.
SKIP_METHODS = frozenset({"get_params", "set_params", "predict", "predict_proba"})

#: Violations found when this test was written, to be removed as the API is fixed. The test
#: fails if a violation is not listed here (a new one) and if one listed here is fixed but not
#: removed (so the list only shrinks). It must end empty.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def _public_callables() -> Iterator[tuple[str, Callable[..., Any], bool]]:
    """(qualified name, callable, is_method) for every public function and method."""
    for name in sorted(pk.__all__):
        if name in ("widgets", "datasets"):
            continue
        obj = getattr(pk, name)
        if inspect.isfunction(obj):
            yield name, obj, False
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, raw in sorted(vars(obj).items()):
                if attr.startswith("_") or attr in SKIP_METHODS:
                    continue
                func = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
                if inspect.isfunction(func):
                    yield f"{name}.{attr}", func, True


def _is_by_annotation(annotation: Any, *, required: bool = False) -> bool:
    """``str | list[str] | None``; a required ``by`` (a grouping the function cannot do
    without, e.g. ``compare_groups``) is ``str | list[str]``."""
    text = str(annotation).replace(" ", "")
    parts = set(text.split("|"))
    has_list = any(p.startswith(("list[str]", "Sequence[str]")) for p in parts)
    return "str" in parts and ("None" in parts or required) and has_list


def violations_of(qualname: str, func: Callable[..., Any], *, method: bool = False) -> list[str]:
    """The conventions ``func`` breaks, as ``"<qualname>: <rule>"`` strings."""
    found: list[str] = []
    params = list(inspect.signature(func).parameters.values())
    if method and params and params[0].name in ("self", "cls"):
        params = params[1:]
    short = qualname.rsplit(".", 1)[-1]
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    allowed = POSITIONAL_PAIRS.get(qualname, positional[:1] and (positional[0].name,))
    for p in positional:
        if p.name not in allowed and p.name not in POSITIONAL_OK:
            found.append(f"{qualname}: {p.name} is not keyword-only")
    if not method and positional and positional[0].name not in FIRST_ARGUMENT_NAMES:
        found.append(f"{qualname}: first argument {positional[0].name!r} not in vocabulary")
    by_name = {p.name: p for p in params}
    if "as_of" in by_name and by_name["as_of"].default is not None:
        found.append(f"{qualname}: as_of does not default to None")
    if (
        "min_count" in by_name
        and by_name["min_count"].default is not None
        and qualname not in PUBLICATION_GATE
    ):
        found.append(f"{qualname}: min_count does not default to None")
    if (
        not method
        and "by" in by_name
        and not _is_by_annotation(
            by_name["by"].annotation,
            required=by_name["by"].default is inspect.Parameter.empty,
        )
    ):
        found.append(f"{qualname}: by is not str | list[str] | None")
    if short.startswith("plot_"):
        if "ax" not in by_name or by_name["ax"].default is not None:
            found.append(f"{qualname}: no ax=None")
        if "palette" not in by_name or by_name["palette"].default is not None:
            found.append(f"{qualname}: no palette=None")
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            found.append(f"{qualname}: no **kwargs")
        returns = inspect.signature(func).return_annotation
        if "Axes" not in str(returns):
            found.append(f"{qualname}: does not return Axes")
    return found


def _all_violations() -> set[str]:
    found: set[str] = set()
    for qualname, func, method in _public_callables():
        found.update(violations_of(qualname, func, method=method))
    return found


def test_the_scan_sees_the_public_api() -> None:
    names = {q for q, _, _ in _public_callables()}
    assert {"time_in_stage", "plot_survival", "stage_summary", "ProblemClassifier.fit"} <= names
    assert len(names) > 40


def test_no_new_violations() -> None:
    new = _all_violations() - KNOWN_VIOLATIONS
    assert not new, f"the public API breaks its conventions: {sorted(new)}"


def test_known_violations_only_shrink() -> None:
    fixed = KNOWN_VIOLATIONS - _all_violations()
    assert not fixed, f"fixed, remove from KNOWN_VIOLATIONS: {sorted(fixed)}"


def test_known_violations_are_empty() -> None:
    assert not KNOWN_VIOLATIONS


# ------------------------------------------------------------------- the scan can fail
def _bad_plot(  # type: ignore[no-untyped-def]
    wip_frame: Any, by: str = "stage", as_of: Any = "2024-06-30", min_count: int = 11
):
    """A function breaking every rule at once."""


def _good_plot(
    data: Any,
    *,
    by: str | list[str] | None = None,
    ax: Any = None,
    palette: Any = None,
    **kwargs: Any,
) -> Any:
    """A function following every rule (but returning no Axes annotation on purpose)."""


def test_a_planted_violation_is_found() -> None:
    found = violations_of("plot_bad", _bad_plot)
    expected = {
        "plot_bad: by is not keyword-only",
        "plot_bad: as_of is not keyword-only",
        "plot_bad: min_count is not keyword-only",
        "plot_bad: first argument 'wip_frame' not in vocabulary",
        "plot_bad: as_of does not default to None",
        "plot_bad: min_count does not default to None",
        "plot_bad: by is not str | list[str] | None",
        "plot_bad: no ax=None",
        "plot_bad: no palette=None",
        "plot_bad: no **kwargs",
        "plot_bad: does not return Axes",
    }
    assert set(found) == expected


def test_a_conforming_function_passes_except_its_return() -> None:
    assert violations_of("plot_good", _good_plot) == ["plot_good: does not return Axes"]


def test_a_new_public_function_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pk, "plot_planted", _bad_plot, raising=False)
    monkeypatch.setattr(pk, "__all__", [*pk.__all__, "plot_planted"])
    assert "plot_planted: no palette=None" in _all_violations() - KNOWN_VIOLATIONS
