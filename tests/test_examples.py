"""The README's quick start and every public docstring example run."""

import inspect
import pathlib
import re

import numpy as np
import PIL.Image
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


def write_image_folder(root, classes=("cat", "dog"), per_class=5):
    """The README's `my_images`: a few small random PNGs per class folder."""
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (30, 40, 3), dtype="uint8")
            PIL.Image.fromarray(pixels).save(root / name / f"{index}.png")


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    readme = pathlib.Path(__file__).parents[1] / "README.md"
    monkeypatch.chdir(tmp_path)  # the quick start saves a preset
    write_image_folder(tmp_path / "my_images")
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
