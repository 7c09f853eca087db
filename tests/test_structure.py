"""The layout promises: one test file per module, imports only go downward, a small public API."""

from __future__ import annotations

import ast
from pathlib import Path

import napari_nssr
import napari_nssr.methods
import napari_nssr.training
from napari_nssr.core import errors

SRC = Path(napari_nssr.__file__).parent
TESTS = Path(__file__).parent
# the layers, bottom first: a module may import from its own layer and those below it
LAYERS = ["core", "io", "objectives", "networks", "models", "training", "methods", "engine", "apps", "_widgets"]


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p.name not in ("__init__.py", "_version.py")]


def _layer(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def test_every_module_has_its_own_test_file():
    missing = []
    for module in _modules():
        rel = module.relative_to(SRC)
        folder = [part.lstrip("_") for part in rel.parts[:-1]]
        expected = TESTS.joinpath(*folder, "test_" + rel.stem.lstrip("_") + ".py")
        if not expected.is_file():
            missing.append(f"{rel} -> {expected.relative_to(TESTS)}")
    assert not missing, "modules without a test file:\n" + "\n".join(missing)


def _imported_layers(path: Path) -> set[tuple[str, bool]]:
    """(layer, inside a function) of every package-internal import of ``path``."""
    found = set()
    tree = ast.parse(path.read_text())
    package = path.relative_to(SRC).parts[:-1]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.level:
                base = list(package[: len(package) - (child.level - 1)])
                target = base + (child.module.split(".") if child.module else [])
                if target:
                    found.add((target[0], inner))
                else:  # "from .. import x": x names a layer
                    found.update((alias.name, inner) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


def test_imports_only_go_downward_and_none_hide_in_functions():
    wrong = []
    for module in _modules():
        own = _layer(module)
        rank = LAYERS.index(own) if own in LAYERS else len(LAYERS)
        for target, in_function in _imported_layers(module):
            if target in LAYERS and LAYERS.index(target) > rank:
                wrong.append(f"{module.relative_to(SRC)} imports upward from {target}")
            if target in LAYERS and in_function and LAYERS.index(target) != rank:
                wrong.append(f"{module.relative_to(SRC)} imports {target} inside a function")
    assert not wrong, "\n".join(wrong)


def test_the_public_api_names_what_callers_need():
    assert set(napari_nssr.__all__) <= set(dir(napari_nssr))
    for name in ("super_resolve", "make_request", "prepare", "NSSRError", "BlindSettings", "load_model", "train_model"):
        assert name in napari_nssr.__all__
    assert not any(name.startswith("_") for name in napari_nssr.__all__ if name != "__version__")
    assert len(napari_nssr.__all__) <= 30  # the few names a user calls; the rest from its subpackage
    cancels = [name for name in dir(errors) if name.endswith("Cancelled")]
    assert cancels == ["Cancelled"]  # one cancel exception


# the public faces: the top level, and the subpackages whose __all__ holds the rest of what users import
FACES = [napari_nssr, napari_nssr.methods, napari_nssr.training]


def _public() -> list[tuple[str, object]]:
    import inspect

    seen, found = set(), []
    for face in FACES:
        for name in face.__all__:
            obj = getattr(face, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                found.append((f"{face.__name__}.{name}", obj))
    return found


def test_public_functions_have_numpydoc_sections():
    import inspect

    missing = []
    for name, obj in _public():
        doc = inspect.getdoc(obj) or ""
        if inspect.isfunction(obj):
            signature = inspect.signature(obj)
            if signature.parameters and "Parameters\n----" not in doc:
                missing.append(f"{name}: Parameters")
            documents_result = "Returns\n----" in doc or "Yields\n----" in doc
            if signature.return_annotation not in (None, "None") and not documents_result:
                missing.append(f"{name}: Returns")
        if "Examples\n----" not in doc and (inspect.isfunction(obj) or obj.__module__.startswith("napari_nssr")):
            if inspect.isfunction(obj) or name.startswith("napari_nssr."):
                if inspect.isfunction(obj) or name.count(".") == 1:  # top-level classes too
                    missing.append(f"{name}: Examples")
    assert not missing, "\n".join(missing)


def test_the_examples_of_the_public_names_run():
    import doctest

    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    ran = 0
    for name, obj in _public():
        for test in finder.find(obj, name, globs={}):
            runner.run(test)
            ran += len(test.examples)
    summary = runner.summarize(verbose=False)
    assert ran > 100 and summary.failed == 0, f"{summary.failed} of {summary.attempted} examples failed"


def test_the_methods_that_come_from_papers_cite_them():
    import inspect

    from napari_nssr.methods import deconvolution, ike, zssr

    cited = [napari_nssr.super_resolve, napari_nssr.train_model]
    cited += [napari_nssr.BlindSettings, napari_nssr.KnownPSFSettings]
    cited += [zssr.ZSSR, ike.IKE, deconvolution.Wiener, deconvolution.RichardsonLucy]
    assert [
        obj
        for obj in cited
        if "References\n----" not in (inspect.getdoc(obj) or "")
        and "References\n----" not in (inspect.getdoc(inspect.getmodule(obj)) or "")
    ] == []


MAX_FUNCTION_LINES = 80


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines without its docstring (its examples and references are not code)."""
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        length -= first.end_lineno - first.lineno + 1
    return length


def test_no_function_is_longer_than_80_lines():
    long = []
    for module in _modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = _code_lines(node)
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module.relative_to(SRC)}:{node.lineno} {node.name}: {length} lines")
    assert not long, "\n".join(long)


ROOT = Path(__file__).parents[1]


def test_the_readme_installs_the_system_packages_ci_installs():
    import re

    ci = re.search(r'X_PACKAGES="([^"]+)"', (ROOT / ".ci" / "run").read_text()).group(1)
    readme = (ROOT / "README.md").read_text()
    line = re.search(r"apt-get install -y ([^`]+?)\n```", readme, re.S).group(1)
    assert set(ci.replace("\\", " ").split()) == set(line.replace("\\", " ").split())


def test_without_an_x_server_the_gui_tests_are_skipped_with_a_reason(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:xvfb",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "widgets" / "test_task.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "no X server" in result.stdout and "skipped" in result.stdout


def test_the_readme_s_python_imports_exist():
    import re

    block = re.search(r"## Python API\n\n```python\n(.+?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    imports = [line for line in block.splitlines() if line.startswith(("import ", "from "))]
    assert len(imports) >= 3
    exec("\n".join(imports), {})  # a name the README imports that the package lost raises ImportError
