"""The dependency rule of docs/architecture.md, read from the source with `ast`.

core imports neither adapters, flows, the CLI, the Pulumi components, an SDK, a subprocess
nor the network; adapters (the Pulumi components among them) import no flow or CLI; flows
import no CLI; and no modules of the package import each other in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "envparity"

# What talks to the outside world: only adapters (and the layers above them) may import it.
OUTSIDE = (
    "docker",
    "boto3",
    "botocore",
    "kubernetes",
    "pulumi",
    "pulumi_aws",
    "pulumi_kubernetes",
    "pynvml",
    "mlflow",
    "subprocess",
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "requests",
)
# layer -> the envparity packages it must not import
FORBIDDEN = {
    "core": ("envparity.adapters", "envparity.flows", "envparity.cli", "envparity.components"),
    "adapters": ("envparity.flows", "envparity.cli"),
    "flows": ("envparity.cli",),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST, module: str) -> set[str]:
    """Absolute names `tree` imports anywhere, lazy imports included (relative ones resolved)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    assert sources(layer), f"envparity/{layer}/ has no modules"
    offences = []
    for path in sources(layer):
        module = module_name(path)
        names = imports(ast.parse(path.read_text(encoding="utf-8")), module)
        banned = FORBIDDEN[layer] + (OUTSIDE if layer == "core" else ())
        offences += [  # `from docker.errors import X` names docker.errors once, not X too
            f"{module} imports {n}"
            for n in sorted(names)
            if n in banned or (within(n, banned) and n.rsplit(".", 1)[0] not in names)
        ]
    assert offences == []


def test_the_layer_check_sees_a_violation():
    tree = ast.parse("import subprocess\nfrom envparity.adapters import registry\n")
    names = imports(tree, "envparity.core.x")
    assert within("envparity.adapters.registry", FORBIDDEN["core"])
    assert {"subprocess", "envparity.adapters.registry"} <= names
    relative = imports(ast.parse("from ..adapters import uv\n"), "envparity.flows.build")
    assert "envparity.adapters.uv" in relative


def test_no_import_circles():
    """A lazy import inside a function still closes a circle: it only hides it."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = imports(tree, module)
    modules = set(graph)
    edges = {m: {n for n in names if n in modules and n != m} for m, names in graph.items()}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt in trail:
                circles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in done:
                visit(nxt, [*trail, nxt])
        done.add(node)

    done: set[str] = set()
    for module in sorted(modules):
        if module not in done:
            visit(module, [module])
    assert circles == []


def test_every_module_is_small():
    """A module over 500 lines holds more than one concern (docs/architecture.md, "Layers")."""
    folders = (PACKAGE, ROOT / "cli", ROOT / "components", ROOT / "stacks")
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in folders
        for path in folder.rglob("*.py")
    }
    assert len(sizes) > 50
    assert {path: n for path, n in sizes.items() if n > 500} == {}
