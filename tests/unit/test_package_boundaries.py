"""The structure the architecture promises: the pure core loads no HTTP stack (nor the Redis
client), the library does not import its test double, and ``mm7 send`` finds the embedded mock
through an entry point."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mm7client.cli.embedded import ENTRY_POINT_GROUP, EmbeddedMMSCError, load_embedded_mmsc

LIBRARY = Path(__file__).resolve().parents[2] / "mm7client"


@pytest.mark.parametrize(
    "module",
    [
        "mm7client",
        "mm7client.codec",
        "mm7client.model",
        "mm7client.profiles",
        "mm7client.codes",
        "mm7client.server",
        "mm7client.policy",
        "mm7client.throttle",
        "mm7client.settings",
    ],
)
def test_pure_core_loads_no_http_stack(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "stacks = ('aiohttp', 'yarl', 'multidict', 'redis')\n"
        "loaded = sorted(m for m in stacks if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_client_names_still_import_from_the_package() -> None:
    import mm7client

    assert mm7client.MM7Client.__module__ == "mm7client.client"
    assert mm7client.SyncMM7Client.__name__ == "SyncMM7Client"
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = mm7client.no_such_name  # type: ignore[attr-defined]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_library_never_imports_the_mock() -> None:
    files = sorted(LIBRARY.rglob("*.py"))
    assert len(files) > 20
    offenders = {
        str(path.relative_to(LIBRARY.parent)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "mockmmsc"
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_embedded_mmsc_is_found_through_its_entry_point() -> None:
    factory = load_embedded_mmsc()
    assert factory.__module__ == "mockmmsc.embedded"
    assert load_embedded_mmsc("mockmmsc") is factory


def test_unknown_embedded_mmsc_is_named_in_the_error() -> None:
    with pytest.raises(EmbeddedMMSCError, match=r"'nosuchmmsc'.*" + ENTRY_POINT_GROUP):
        load_embedded_mmsc("nosuchmmsc")
