"""Every tutorial in examples/ runs in smoke mode on the current backend, and
its notebook twin is valid and in sync with it."""

import importlib.util
import json
import pathlib
import runpy

import keras
import nbformat
import pytest

ROOT = pathlib.Path(__file__).parents[1]
TUTORIALS = sorted((ROOT / "examples").glob("*.py"))


def make_notebooks():
    """`scripts/make_notebooks.py`, imported as a module."""
    path = ROOT / "scripts" / "make_notebooks.py"
    spec = importlib.util.spec_from_file_location("make_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 6


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda path: path.stem)
def test_tutorial_runs_in_smoke_mode(script, tmp_path, monkeypatch, capsys):
    # In this process, as `python script.py` would run it: a fresh process
    # would spend most of a smoke run importing keras-hub again.
    monkeypatch.setenv("KERAS_GMLP_SMOKE", "1")
    monkeypatch.chdir(tmp_path)  # tutorials write their models and pictures here
    runpy.run_path(str(script), run_name="__main__")
    # The test's backend overrides the tutorial's default.
    assert f"backend: {keras.backend.backend()}" in capsys.readouterr().out


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda path: path.stem)
def test_notebook_is_in_sync(script):
    notebook = script.with_suffix(".ipynb")
    assert notebook.exists(), f"run `python scripts/make_notebooks.py` for {script}"
    expected = make_notebooks().notebook_text(script)
    assert notebook.read_text(encoding="utf-8") == expected, (
        f"{notebook.name} is stale: run `python scripts/make_notebooks.py`"
    )


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda path: path.stem)
def test_notebook_opens_with_a_colab_badge_and_an_install_cell(script):
    module = make_notebooks()
    notebook = nbformat.reads(module.notebook_text(script), as_version=4)
    nbformat.validate(notebook)
    title, install, *rest = notebook.cells
    badge = (
        "https://colab.research.google.com/github/"
        f"{module.REPOSITORY}/blob/main/examples/{script.stem}.ipynb"
    )
    assert badge in title.source
    assert install.source.startswith("!pip install")
    assert {cell.cell_type for cell in rest} == {"markdown", "code"}
    # The backend line the tutorials promise is the one to change.
    assert any('os.environ.setdefault("KERAS_BACKEND"' in cell.source for cell in rest)


def test_header_without_title_raises(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text('"""\nAuthor: someone\n"""\n\nprint(1)\n')
    with pytest.raises(ValueError, match="no 'Title:' line"):
        make_notebooks().notebook_text(script)


def test_markdown_strings_split_the_code_into_cells(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text('"""\nTitle: Tiny\n"""\n\nx = 1\n\n"""\n## Next\n"""\n\ny = 2\n')
    cells = json.loads(make_notebooks().notebook_text(script))["cells"]
    assert [cell["cell_type"] for cell in cells] == [
        "markdown",
        "code",
        "code",
        "markdown",
        "code",
    ]
    assert [cell["source"] for cell in cells[2:]] == [["x = 1"], ["## Next"], ["y = 2"]]
