"""The code stays ruff-clean and mypy-clean: checked as part of the test command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(exe).exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return exe


def test_ruff_lint():
    out = subprocess.run(
        [_tool("ruff"), "check", "src", "tests", "scripts"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format():
    out = subprocess.run(
        [_tool("ruff"), "format", "--check", "src", "tests", "scripts"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy():
    out = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_core_imports_no_io_layers():
    """The core never imports providers, the CLI, pipelines or network clients, and opens no files.

    ``rasterio.features`` (vectorising arrays) is pure and allowed; ``rasterio.open`` is I/O and is not.
    """
    forbidden_imports = (
        "sitewatch.providers",
        "sitewatch.cli",
        "sitewatch.pipeline",
        "sitewatch.batch",
        "sentinelhub",
        "pystac_client",
        "requests",
        "urllib",
        "odc.stac",
        "http",
    )
    forbidden_calls = ("rasterio.open(", "open(", "to_netcdf(", "to_zarr(", ".write_text(", ".write_bytes(")
    for folder in ("core", "objects"):
        for path in (REPO / "src" / "sitewatch" / folder).rglob("*.py"):
            text = path.read_text()
            for name in forbidden_imports:
                assert f"import {name}" not in text and f"from {name}" not in text, f"{path} imports {name}"
            code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
            for call in forbidden_calls:
                assert f" {call}" not in code and f"({call}" not in code and f"={call}" not in code, (
                    f"{path} calls {call} (I/O belongs in providers/, export or pipeline)"
                )


# --------------------------------------------------------------------------- the import graph

SRC = REPO / "src"
PACKAGE = SRC / "sitewatch"
NETWORK = (
    "requests",
    "urllib",
    "http",
    "httpx",
    "aiohttp",
    "socket",
    "sentinelhub",
    "pystac_client",
    "odc.stac",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` of every import the file runs (``if TYPE_CHECKING:`` blocks left out)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(test):
            typing_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            out.append((base, [a.name for a in node.names], node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    """File-level import graph of ``src/sitewatch`` (``from pkg import module`` counts as the module)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        for target, names, _ in _runtime_imports(path):
            if not target.startswith("sitewatch"):
                continue
            hits = {f"{target}.{n}" for n in names if f"{target}.{n}" in modules}
            if target in modules and (not names or len(hits) < len(names)):
                hits.add(target)
            graph[mod] |= {h for h in hits if h != mod}
    return graph


def test_no_import_cycle_between_files():
    """No file imports, at run time, a file that imports it back (directly or through others).

    A package's ``__init__`` re-exporting its modules is not a cycle with them unless a module
    imports its own package's front door.
    """
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _imports_of(folder: str) -> list[tuple[Path, str, list[str], int]]:
    return [
        (path, target, names, line)
        for path in (PACKAGE / folder).rglob("*.py")
        for target, names, line in _runtime_imports(path)
    ]


def test_core_imports_no_upper_layer_and_no_network():
    upper = (
        "sitewatch.objects",
        "sitewatch.pipeline",
        "sitewatch.providers",
        "sitewatch.cli",
        "sitewatch.batch",
    )
    bad = [
        f"{p.relative_to(REPO)}:{line} imports {t}"
        for p, t, _, line in _imports_of("core")
        if t.startswith(upper) or t == "sitewatch" or t.split(".")[0] in NETWORK or t.startswith(NETWORK)
    ]
    assert not bad, "\n".join(bad)


def test_objects_import_only_core_and_types():
    allowed = ("sitewatch.core", "sitewatch.objects", "sitewatch.types", "sitewatch.errors")
    bad = [
        f"{p.relative_to(REPO)}:{line} imports {t}"
        for p, t, _, line in _imports_of("objects")
        if t.startswith("sitewatch") and not t.startswith(allowed)
    ]
    assert not bad, "\n".join(bad)


def test_no_private_name_crosses_a_module_and_no_front_door_below_the_cli():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        in_cli = "cli" in path.relative_to(PACKAGE).parts
        for target, names, line in _runtime_imports(path):
            if not target.startswith("sitewatch"):
                continue
            where = f"{path.relative_to(REPO)}:{line}"
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private_module = any(
                part.startswith("_") and part != "__init__" for part in target.split(".")[1:]
            )
            # the CLI's own helper modules (cli/_batch.py) are private to the CLI
            if (private or private_module) and not (in_cli and target.startswith("sitewatch.cli")):
                bad.append(f"{where} imports a private name: {target} {private}")
            if target == "sitewatch" and not in_cli and path != PACKAGE / "__init__.py":
                bad.append(f"{where} imports the package front door (sitewatch); import the module it needs")
    assert not bad, "\n".join(bad)


def test_no_capability_sniffing_or_stand_in_providers():
    text = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    assert "inspect.signature" not in text
    assert "_sitewatch-batch" not in text
