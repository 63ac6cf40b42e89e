"""The package's import graph: no cycles, and every module imports only its own layer or lower.

The graph is read from the source (``ast``), not from ``sys.modules``: every ``import`` counts,
including those under ``if TYPE_CHECKING:`` and inside functions, because a cycle of type
annotations is still two modules that cannot be understood (or moved) one without the other.
``from a.b import c`` is an import of module ``a.b.c`` when that module exists, else of ``a.b``.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import sys
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "pyomo_nn"

#: The pipeline as data flows through it (docs/design.md, "Pipeline").
PIPELINE = ("import", "ir", "bounds", "blocks", "objectives", "solve", "result")

#: Layers of the package by dependency, lowest first; each entry lists module prefixes. A module
#: may import its own layer and the layers below it, never one above. This is the pipeline with
#: two turns: the IR is the bottom (the importer *produces* it, so ``importers`` sits above
#: ``ir``), and a stage that hands work to the next one depends on it (objectives call
#: ``solve``, which builds a ``Result``), so ``result`` < ``solve`` < ``objectives``.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("errors", "file_errors", "tolerances", "highs_instance", "domains")),
    ("ir", ("ir",)),
    ("import", ("importers", "exporters", "transforms", "bundled")),
    ("bounds", ("bounds",)),
    ("blocks", ("blocks",)),
    ("result", ("result",)),
    ("solve", ("solvers",)),
    # branch and bound: bounds many branches, hands leaves to MILPs through solve
    ("branch_and_bound", ("bab",)),
    ("objectives", ("objectives", "problem", "problem_result", "comparison", "verification")),
    # units: one module per layer kind, registering its entry in every stage (bounds, blocks,
    # exporters, the vnnlib attack), so they sit on top of all of them
    # training: MIP training of binarised nets, built on solve and the exporters
    ("applications", ("vnnlib", "cli", "units", "training", "")),  # "": the package's __init__
)

#: What the IR may import besides itself: nothing of the pipeline, only the foundation.
IR_MAY_IMPORT = ("errors", "tolerances")


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__`` by the package's)."""
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def imports(name: str) -> dict[str, int]:
    """The package's modules that module ``name`` imports, each with the line of its first import."""
    known = modules()
    path = known[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target == PACKAGE or target.startswith(PACKAGE + "."):
            found.setdefault(target, line)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                add(submodule if submodule in known else origin, node.lineno)
    return found


def layer_of(name: str) -> int | None:
    """Index in :data:`LAYERS` of the longest prefix matching module ``name``."""
    relative = name.removeprefix(PACKAGE).removeprefix(".")
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = relative == prefix or relative.startswith(prefix + ".")
            if matches and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def cycles() -> list[list[str]]:
    """Strongly connected components of the import graph with more than one module (or a module
    importing itself), each as a list of module names (Tarjan's algorithm)."""
    graph = {name: sorted(imports(name)) for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, []):
                components.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    return components


def describe(component: list[str]) -> str:
    members = set(component)
    edges = [
        f"{source} -> {target} ({modules()[source].relative_to(SRC)}:{line})"
        for source in component
        for target, line in imports(source).items()
        if target in members
    ]
    return "cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(edges)


def test_the_graph_is_read():
    """Guard against a parser that silently finds nothing: known edges are there."""
    assert "pyomo_nn.ir.network" in modules()
    assert "pyomo_nn.ir" in imports("pyomo_nn.bounds.container")
    assert "pyomo_nn.objectives.base" in imports("pyomo_nn.problem")


def test_no_import_cycles():
    found = cycles()
    assert not found, "import cycles (break them; see docs/extending.md):\n" + "\n".join(
        describe(component) for component in found
    )


def test_every_module_has_a_layer():
    missing = [name for name in modules() if layer_of(name) is None]
    assert not missing, f"modules outside every layer of LAYERS (add them where they belong): {missing}"


def test_ir_imports_nothing_above_it():
    """The IR is the bottom of the pipeline (import -> ir -> bounds -> blocks -> objectives ->
    solve -> result): every stage reads it, it reads none of them."""
    allowed = [f"{PACKAGE}.ir", *(f"{PACKAGE}.{name}" for name in IR_MAY_IMPORT)]
    bad = [
        f"{source} imports {target} ({modules()[source].relative_to(SRC)}:{line})"
        for source in modules()
        if source == f"{PACKAGE}.ir" or source.startswith(f"{PACKAGE}.ir.")
        for target, line in imports(source).items()
        if not any(target == prefix or target.startswith(prefix + ".") for prefix in allowed)
    ]
    assert not bad, "the IR reaches up the pipeline:\n  " + "\n  ".join(bad)


def test_modules_import_only_their_layer_or_lower():
    bad = []
    for source in modules():
        source_layer = layer_of(source)
        for target, line in imports(source).items():
            target_layer = layer_of(target)
            if source_layer is not None and target_layer is not None and target_layer > source_layer:
                bad.append(
                    f"{source} ({LAYERS[source_layer][0]}) imports {target} ({LAYERS[target_layer][0]}) "
                    f"at {modules()[source].relative_to(SRC)}:{line}"
                )
    assert not bad, "imports up the layers (see LAYERS in this file):\n  " + "\n  ".join(bad)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a -> b -> a", [["a", "b"]]),
        ("a -> b -> c", []),
        ("a -> a", [["a"]]),
    ],
)
def test_cycle_finder_finds_cycles(monkeypatch, source, expected):
    """The cycle finder itself, on small graphs."""
    names = [name.strip() for name in source.split("->")]
    graph = {name: {} for name in names}
    for left, right in itertools.pairwise(names):
        graph[left][right] = 1
    monkeypatch.setitem(globals(), "modules", lambda: dict.fromkeys(graph, Path()))
    monkeypatch.setitem(globals(), "imports", lambda name: graph[name])
    assert cycles() == expected


def test_pipeline_stages_have_layers():
    """Every stage of the pipeline names a layer of :data:`LAYERS` (``solve`` is the
    ``solvers`` package)."""
    names = {name for name, _ in LAYERS}
    assert set(PIPELINE) <= names


def test_design_references_point_into_the_repository():
    """Code and docs cite docs/design.md, never a design file outside the repository."""
    root = SRC.parent
    stale = "DESIGN" + ".md"
    files = [root / "README.md", *(root / "docs").glob("*.md")]
    for folder in ("src", "tests", "examples", "benchmarks"):
        files += (root / folder).rglob("*.py")
    citing = [str(path.relative_to(root)) for path in files if stale in path.read_text(encoding="utf-8")]
    assert not citing, f"replace {stale} by docs/design.md in: {citing}"
    assert (root / "docs" / "design.md").is_file()


def test_no_package_attribute_hides_a_submodule():
    """``package.name`` is one thing: a package must not export a function or class under the
    name of one of its modules (``pyomo_nn.solve`` was both the function and the sub-package)."""
    for name in modules():
        importlib.import_module(name)
    hidden = [
        f"{name} is hidden by {getattr(sys.modules[parent], child)!r}"
        for name in modules()
        if "." in name
        for parent, _, child in [name.rpartition(".")]
        if getattr(sys.modules[parent], child, None) is not sys.modules[name]
    ]
    assert not hidden, "rename the module or the export:\n  " + "\n  ".join(hidden)
