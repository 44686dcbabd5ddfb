"""keras_gmlp's modules import each other without a cycle, at module level
only, and importing keras_gmlp changes nothing in the process."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).parents[1] / "keras_gmlp"


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(node):
    """The keras_gmlp modules an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module:
        names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    else:
        return []
    return [name for name in names if name.split(".")[0] == "keras_gmlp"]


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
TREES = {name: ast.parse(path.read_text()) for name, path in MODULES.items()}


def module_level_imports(name):
    """The keras_gmlp modules `name` imports at its top level, less the
    packages that hold it, which are being imported already."""
    imports = set()
    for node in TREES[name].body:
        for imported in imported_modules(node):
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and not (name + ".").startswith(imported + "."):
                imports.add(imported)
    return imports


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_inside_a_function(name):
    nested = [
        ast.unparse(node)
        for function in ast.walk(TREES[name])
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
        if imported_modules(node)
    ]
    assert not nested, f"{name} imports keras_gmlp inside a function: {nested}"


def test_no_import_cycle():
    graph = {name: module_level_imports(name) for name in MODULES}
    visiting, done = [], set()

    def visit(name):
        if name in visiting:
            cycle = visiting[visiting.index(name) :] + [name]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if name in done:
            return
        visiting.append(name)
        for imported in graph[name]:
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_import_changes_no_malloc_setting():
    """glibc's malloc settings stay the defaults: `mallopt` is not called."""
    script = (
        "import ctypes, unittest.mock\n"
        "calls = []\n"
        "real = ctypes.CDLL\n"
        "def recording(name, *args, **kwargs):\n"
        "    calls.append(name)\n"
        "    return real(name, *args, **kwargs)\n"
        "with unittest.mock.patch.object(ctypes, 'CDLL', recording):\n"
        "    import keras_gmlp\n"
        "print([name for name in calls if 'libc.so' in str(name)])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.split("\n")[-2] == "[]"
