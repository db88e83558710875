"""The package layout shows the flow of data: every import points down the layers, never back.

Layers, lowest first (a module may import from its own layer and the layers below it):

core -> publish -> events -> store -> datasets -> stays -> categories -> plotting -> widgets
-> report -> cli

Imports are read from the source (``ast``), wherever they stand: at module level, inside a
function or under ``TYPE_CHECKING``. A function-level import of the package would hide a cycle
from this test's module graph only if it were skipped, so every import counts, and imports inside
functions are refused outright (the one exception: ``pk.widgets`` is loaded on first use so that
``import pekso_toolkit`` does not import ipywidgets).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pekso_toolkit"

LAYERS = [
    "core",
    "publish",
    "events",
    "store",
    "datasets",
    "stays",
    "categories",
    "plotting",
    "widgets",
    "report",
    "cli",
]

# (importing module, imported module) pairs allowed inside a function, with the reason
LAZY_ALLOWED = {
    ("pekso_toolkit", "pekso_toolkit.widgets"): "ipywidgets is imported only when widgets are used",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports() -> dict[str, list[tuple[str, bool]]]:
    """module -> [(imported pekso_toolkit module, imported inside a function?)]."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, list[tuple[str, bool]]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: list[tuple[str, bool]] = []

        def visit(
            node: ast.AST,
            in_function: bool,
            name: str = name,
            path: Path = path,
            found: list[tuple[str, bool]] = found,
        ) -> None:
            for child in ast.iter_child_nodes(node):
                nested = in_function or isinstance(
                    child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                )
                targets: list[str] = []
                if isinstance(child, ast.Import):
                    targets = [a.name for a in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = _resolve(name, child, path.name == "__init__.py")
                    targets = [base]
                    # `from pekso_toolkit import datasets` imports a module
                    targets += [
                        f"{base}.{a.name}" for a in child.names if f"{base}.{a.name}" in modules
                    ]
                for target in targets:
                    if target.startswith("pekso_toolkit") and target in modules:
                        found.append((target, in_function))
                visit(child, nested)

        visit(tree, False)
        graph[name] = found
    return graph


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself re-exports everything
    return LAYERS.index(parts[1])


def test_every_module_has_a_layer() -> None:
    for module in _imports():
        parts = module.split(".")
        if len(parts) >= 2:
            assert parts[1] in LAYERS, f"{module} is in no layer; add it to LAYERS"


def test_imports_point_down_the_layers() -> None:
    backward = []
    for module, targets in _imports().items():
        own = _layer(module)
        if own is None:
            continue
        for target, _ in targets:
            other = _layer(target)
            if other is not None and other > own:
                backward.append(f"{module} -> {target}")
    assert not backward, "imports reaching back up the flow:\n" + "\n".join(backward)


def test_no_import_inside_a_function() -> None:
    lazy = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        for target, in_function in targets
        if in_function and (module, target) not in LAZY_ALLOWED
    ]
    assert not lazy, "imports inside functions (move them to the top):\n" + "\n".join(lazy)


def test_no_import_cycles() -> None:
    graph = {m: {t for t, _ in ts if t != m} for m, ts in _imports().items()}
    # a package's __init__ re-exporting its own modules is not a cycle of design
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("fixture", ["backward", "cycle"])
def test_the_checks_can_fail(fixture: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph checks find a planted backward import and a planted cycle."""
    pkg = tmp_path / "pekso_toolkit"
    for sub in ("core", "stays"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    if fixture == "backward":
        (pkg / "core" / "a.py").write_text("from pekso_toolkit.stays import b\n")
        (pkg / "stays" / "b.py").write_text("")
        check = test_imports_point_down_the_layers
    else:
        (pkg / "core" / "a.py").write_text("from pekso_toolkit.core import b\n")
        (pkg / "core" / "b.py").write_text("def f():\n    from pekso_toolkit.core import a\n")
        check = test_no_import_cycles
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    with pytest.raises(AssertionError):
        check()


# ------------------------------------------------------------------------- function length
#: The longest a function may be, in lines from ``def`` to its end, its docstring not counted
#: (a numpy-style docstring documenting the returned columns is wanted, however long).
MAX_FUNCTION_LINES = 120

#: Functions longer than that when this check was written, with their length then: each may
#: not grow, and must leave this list once it is split (the list only shrinks).
LONG_FUNCTIONS: dict[str, int] = {
    "pekso_toolkit/store/checks.py:review_case": 170,
    "pekso_toolkit/stays/drivers.py:_drivers_of_stage": 167,
    "pekso_toolkit/plotting/process.py:plot_process_map": 126,
    "pekso_toolkit/datasets.py:synthesize_store": 134,
}


def function_lengths(package: Path) -> dict[str, int]:
    """``"<file>:<Class.function>"`` -> lines of code (docstring left out), nested ones too."""
    lengths: dict[str, int] = {}
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, prefix: str, where: str = where) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = f"{prefix}{child.name}"
                    lines = (child.end_lineno or child.lineno) - child.lineno + 1
                    first = child.body[0]
                    if (
                        isinstance(first, ast.Expr)
                        and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str)
                    ):
                        lines -= (first.end_lineno or first.lineno) - first.lineno + 1
                    lengths[f"{where}:{name}"] = lines
                    visit(child, f"{name}.")
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")
                else:
                    visit(child, prefix)

        visit(tree, "")
    return lengths


def test_no_function_is_longer_than_the_limit() -> None:
    lengths = function_lengths(PACKAGE)
    longest = sorted(lengths.items(), key=lambda kv: -kv[1])[:10]
    print("longest functions:\n" + "\n".join(f"{n:4d} {name}" for name, n in longest))
    too_long = {
        name: n
        for name, n in lengths.items()
        if n > max(MAX_FUNCTION_LINES, LONG_FUNCTIONS.get(name, 0))
    }
    assert not too_long, (
        f"functions longer than {MAX_FUNCTION_LINES} lines (or longer than when listed in "
        f"LONG_FUNCTIONS); split them into small helpers: {too_long}"
    )


def test_the_long_function_list_only_shrinks() -> None:
    lengths = function_lengths(PACKAGE)
    stale = sorted(name for name in LONG_FUNCTIONS if lengths.get(name, 0) <= MAX_FUNCTION_LINES)
    assert not stale, f"split or gone: remove from LONG_FUNCTIONS: {stale}"


def test_the_length_check_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "pekso_toolkit"
    pkg.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    doc = '"""A docstring' + "\n" * 30 + '"""\n'
    (pkg / "long.py").write_text(
        f"class A:\n    def ok(self):\n        {doc}        return 1\n\n\ndef f():\n    {doc}{body}"
    )
    lengths = function_lengths(pkg)
    assert lengths == {"pekso_toolkit/long.py:A.ok": 2, "pekso_toolkit/long.py:f": 121}
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    with pytest.raises(AssertionError, match="long.py:f"):
        test_no_function_is_longer_than_the_limit()


# ---------------------------------------------------------------------------------- pandas
#: Private names of pandas objects (arrays, frames, indexes) that a module could reach into.
PANDAS_PRIVATE = {
    "_ndarray",
    "_mgr",
    "_values",
    "_codes",
    "_data",
    "_from_sequence",
    "_simple_new",
    "_pa_array",
    "_engine",
    "_item_cache",
    "_internal_get_values",
    "_libs",
}


def pandas_internals(package: Path) -> list[str]:
    """Places that use pandas internals: private attributes read from an object other than
    ``self``/``cls`` (also through ``getattr(obj, "_name")``), and imports of ``pandas.core`` or
    ``pandas._*``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in PANDAS_PRIVATE:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    found.append(f"{where}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.Attribute) and node.attr == "core":
                if isinstance(node.value, ast.Name) and node.value.id in ("pd", "pandas"):
                    found.append(f"{where}:{node.lineno} pandas.core")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in PANDAS_PRIVATE
            ):
                found.append(f"{where}:{node.lineno} {node.args[1].value!r}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    if name.startswith(("pandas.core", "pandas._")):
                        found.append(f"{where}:{node.lineno} import {name}")
    return found


def test_nothing_reaches_into_pandas_internals() -> None:
    assert pandas_internals(PACKAGE) == []


def test_the_pandas_internals_check_can_fail(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text(
        "import pandas as pd\n"
        "from pandas.core.arrays import StringArray\n"
        "def f(s):\n"
        "    x = s.array._ndarray\n"
        "    y = getattr(s.array, '_mgr', None)\n"
        "    return pd.core.dtypes, x, y, self_ok()\n"
        "class C:\n"
        "    def g(self):\n"
        "        return self._data\n",
        encoding="utf-8",
    )
    found = pandas_internals(package)
    assert sorted(f.split(" ", 1)[1] for f in found) == sorted(
        ["import pandas.core.arrays", "._ndarray", "'_mgr'", "pandas.core"]
    )
