"""The package's shape: no import cycles between modules; each subpackage says what it exports."""
import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retrieval"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Modules of this package imported at module level (function-level imports are deliberate late binds)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if base.split(".")[0] != "retrieval":
                continue
            for alias in node.names:  # `from . import x` may name a submodule
                candidate = f"{base}.{alias.name}"
                out.add(candidate if (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").exists() else base)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "retrieval"}
    return out


def test_no_import_cycles():
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: {i for i in imports_of(p) if i in modules and i != m} for m, p in modules.items()}
    # A package __init__ re-exports its modules: a module importing its own package is the cycle to catch,
    # a package importing its children is not. Drop the edges __init__ → own children.
    for m in graph:
        if modules[m].name == "__init__.py":
            graph[m] = {i for i in graph[m] if not i.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                loop = trail[trail.index(n):] if n in trail else [n]
                pytest.fail("import cycle: " + " → ".join(loop + [n]))
            if n not in state:
                visit(n, trail + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_subpackage_re_exports_its_public_names(package):
    module = importlib.import_module(f"retrieval.{package}")
    assert module.__doc__ and module.__all__
    for name in module.__all__:
        assert hasattr(module, name), f"retrieval.{package}.__all__ names {name}, which it does not have"
