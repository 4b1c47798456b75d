"""Guard rails of the layout (docs/ARCHITECTURE.md): no import cycles, no layer importing upward,
no printing below the presentation layer, every module documented.

Imports are read from the source (every `import` statement, at module level or inside a
function), so a cycle hidden in a function body counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("solver", "formulations")

# layer of each package prefix: a module may import its own layer and the layers below it.
# (`solver.money` words numbers for every layer; `solver` itself only re-exports lazily.)
LAYERS = {
    "formulations": 0,
    "solver.money": 0,
    "solver.io": 1,
    "solver.engine": 2,
    "solver.analysis": 3,
    "solver.present": 4,
    "solver.cli": 5,
    "solver.web": 5,
    "solver.devtools": 5,
}
# layers that return data only: nothing there prints or makes a console
SILENT = ("formulations", "solver.money", "solver.io", "solver.engine", "solver.analysis")


def module_files() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = module_files()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, type-checking only) for every import statement."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for name in names:
            # the longest project module the name starts with (`from solver.io import loading`)
            target = next((name[: len(m)] for m in sorted(MODULES, key=len, reverse=True)
                           if name == m or name.startswith(m + ".")), None)
            if target and target != module and (target not in PACKAGES or name == target):
                found.append((target, node.lineno, node.lineno in typing_only))
    return found


def layer_of(module: str) -> int | None:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=None)
    return LAYERS[best] if best else None


def test_no_import_cycles_even_inside_functions():
    graph = nx.DiGraph()
    for module in MODULES:
        graph.add_node(module)
        for target, _line, _typing in imports_of(module):
            if target in PACKAGES:  # the package namespace itself, not a module of it
                continue
            graph.add_edge(module, target)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_no_layer_imports_upward():
    upward = []
    for module in MODULES:
        own = layer_of(module)
        if own is None:
            continue
        for target, line, typing_only in imports_of(module):
            theirs = layer_of(target)
            if theirs is not None and theirs > own and not typing_only:
                upward.append(f"{module}:{line} imports {target}")
    assert not upward, "layers import upward:\n" + "\n".join(upward)


def test_every_module_belongs_to_a_layer():
    orphans = [m for m in MODULES if m not in PACKAGES and layer_of(m) is None]
    assert not orphans, f"modules outside every layer (add them to docs/ARCHITECTURE.md and LAYERS): {orphans}"


@pytest.mark.parametrize("prefix", SILENT)
def test_data_layers_never_print(prefix):
    noisy = []
    for module, path in MODULES.items():
        if not (module == prefix or module.startswith(prefix + ".")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("print", "Console", "rich.console.Console") or name.endswith(".print"):
                    noisy.append(f"{module}:{node.lineno} {name}(…)")
    assert not noisy, "printing below the presentation layer:\n" + "\n".join(noisy)


def test_every_module_is_named_in_the_architecture_page():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    def named(module: str, path: Path) -> bool:
        rel = path.relative_to(ROOT)
        shown = f"{rel.parent}/" if rel.name == "__init__.py" else str(rel)  # a package by its folder
        return shown in page or f"`{module}`" in page

    missing = [m for m, p in MODULES.items() if not named(m, p)]
    assert not missing, f"modules docs/ARCHITECTURE.md does not name: {missing}"


def test_no_reference_to_a_document_users_do_not_have():
    """Users have the repository, not the project's shared contract: the model is cited as
    docs/model.md."""
    stale = []
    for path in [*MODULES.values(), ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "MODEL.md" in line or "../shared" in line:
                stale.append(f"{path.relative_to(ROOT)}:{k}")
    assert not stale, f"references to files outside the repository: {stale}"
