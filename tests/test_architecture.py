"""The layers of docs/architecture.md, enforced: who may import whom, and no import loops.

The check reads every module's imports with :mod:`ast` (nothing is imported), so it also sees
imports inside functions. Imports under ``if TYPE_CHECKING:`` exist only for type checkers: they may
point upwards (a rule's type hints name the world it acts on), but never from a rule to the model.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each layer may import its own and lower layers only (docs/architecture.md draws the same picture).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim.scenario",),
    (
        "sim.engine.random",
        "sim.engine.ledger",
        "sim.engine.market",
        "sim.engine.compiled",
        "sim.engine.counter",
    ),
    ("sim.world",),
    ("sim.rules",),
    ("sim.engine.model", "sim.engine"),
    ("sim.analysis", "sim.fit"),
    ("sim.sweep",),
    ("sim.ui",),
    ("sim.cli", "sim"),
    ("app_pages", "app"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]
    return {_module_name(path): path for path in files}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, type-checking only) for every import in the file."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for grandchild in child.body:
                    visit_one(grandchild, True)
                for grandchild in child.orelse:
                    visit_one(grandchild, typing_only)
                continue
            visit_one(child, typing_only)

    def visit_one(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from sim import viz`` imports the module sim.viz when it exists.
            for alias in node.names:
                found.append((f"{node.module}.{alias.name}", typing_only))
            found.append((node.module, typing_only))
        visit(node, typing_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


SOURCES = _sources()


def _resolve(name: str) -> str | None:
    """The project module ``name`` refers to (a name imported from a module resolves to the module)."""
    while name:
        if name in SOURCES:
            return name
        name = name.rpartition(".")[0]
    return None


def _layer(module: str) -> int:
    best, rank = -1, 0
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert best >= 0, f"{module} is in no layer of docs/architecture.md"
    return rank


def _project_imports(module: str) -> list[tuple[str, bool]]:
    result = []
    for name, typing_only in _imports(SOURCES[module]):
        target = _resolve(name)
        if target is not None and target != module:
            result.append((target, typing_only))
    return result


def test_every_module_is_in_a_layer() -> None:
    for module in SOURCES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_imports_point_down_the_layers(module: str) -> None:
    upward = sorted(
        {
            target
            for target, typing_only in _project_imports(module)
            if not typing_only and _layer(target) > _layer(module)
        }
    )
    assert not upward, f"{module} (layer {_layer(module)}) imports higher layers: {upward}"


def _rule_modules() -> list[str]:
    return [m for m in SOURCES if m.startswith("sim.rules.") and not m.rpartition(".")[2].startswith("_")]


def test_a_rule_never_imports_another_rule_the_model_the_cli_or_the_app() -> None:
    rules = set(_rule_modules()) - {"sim.rules.base"}
    assert "sim.rules.sharing" in rules  # the check sees the rules
    forbidden_prefixes = ("sim.engine.model", "sim.cli", "sim.analysis", "sim.sweep", "sim.ui", "app")
    for module in sorted(rules):
        for target, _ in _project_imports(module):
            assert target not in rules, f"{module} imports the rule {target}"
            assert not target.startswith(forbidden_prefixes), f"{module} imports {target}"


def test_nothing_below_the_app_imports_streamlit() -> None:
    for module, path in SOURCES.items():
        if _layer(module) >= _layer("app_pages"):
            continue
        names = {name for name, _ in _imports(path)}
        assert not any(n == "streamlit" or n.startswith("streamlit.") for n in names), module


def test_runtime_imports_form_no_loop() -> None:
    graph = {
        module: {target for target, typing_only in _project_imports(module) if not typing_only}
        for module in SOURCES
    }
    # A package's __init__ importing its own submodules is the package, not a loop.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loop = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import loop: " + " → ".join(loop))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
