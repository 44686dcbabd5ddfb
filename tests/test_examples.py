"""The README's quick start and every public docstring example run."""

import inspect
import pathlib
import re

import pytest

import keras_gmlp
from keras_gmlp.layers.toeplitz_fft import toeplitz_fft_mix

CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
PUBLIC_CLASSES = [
    getattr(module, name)
    for module in (keras_gmlp.layers, keras_gmlp.models)
    for name in module.__all__
]
# Internal ones that document themselves with an example all the same.
DOCUMENTED = PUBLIC_CLASSES + [toeplitz_fft_mix]


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    readme = pathlib.Path(__file__).parents[1] / "README.md"
    monkeypatch.chdir(tmp_path)  # the quick start saves a preset
    blocks = CODE_BLOCK.findall(readme.read_text())
    assert blocks
    for block in blocks:
        exec(block, {})


@pytest.mark.parametrize("cls", DOCUMENTED, ids=lambda cls: cls.__name__)
def test_docstring_example_runs(cls):
    docstring = inspect.getdoc(cls)
    if cls.__init__ is not object.__init__:
        assert "Args:" in docstring
    (example,) = CODE_BLOCK.findall(docstring)
    exec(example, {})
