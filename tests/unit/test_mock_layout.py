"""The mock's structure: its modules import one another downwards only, and its state and
decisions load no aiohttp."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mockmmsc

PACKAGE = Path(mockmmsc.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every mockmmsc module -> the mockmmsc modules it imports (anywhere in it, type-only
    imports included)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("mockmmsc"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mockmmsc"):
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    targets.add(submodule if submodule in modules else str(node.module))
        graph[name] = {t for t in targets if t != name}
    return graph


def test_no_import_circle_in_the_mock() -> None:
    graph = _imports()
    assert "mockmmsc.state" in graph and "mockmmsc.decide" in graph
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for target in sorted(graph.get(name, ())):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def _imports_aiohttp(path: Path) -> bool:
    """True when the module imports aiohttp outside an ``if TYPE_CHECKING:`` block."""
    guarded: set[int] = set()
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import) and any(a.name.startswith("aiohttp") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiohttp"):
            return True
    return False


def test_state_and_decisions_need_no_aiohttp() -> None:
    graph = _imports()
    reachable: set[str] = set()
    todo = ["mockmmsc.state", "mockmmsc.decide", "mockmmsc.views"]
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(graph.get(name, ()))
    assert {"mockmmsc.store", "mockmmsc.throttle", "mockmmsc.effects"} <= reachable
    for name in sorted(reachable - {"mockmmsc"}):
        path = PACKAGE.parent.joinpath(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        assert not _imports_aiohttp(path), f"{name} imports aiohttp"


def test_state_and_decisions_load_no_aiohttp_at_run_time() -> None:
    code = (
        "import sys; import mockmmsc.state, mockmmsc.decide, mockmmsc.views; "
        "print([m for m in ('aiohttp', 'mockmmsc.app') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
