import os
import pathlib
import subprocess
import sys

import numpy as np

from keras_gmlp.cli import main
from keras_gmlp.models import GMLPClassifier
from tests.helpers import to_numpy

CHECKPOINT = pathlib.Path(__file__).parent / "data" / "timm_gmlp_tiny"


def test_presets_lists_every_named_preset(capsys):
    assert main(["presets"]) == 0
    output = capsys.readouterr().out
    assert "gmlp_s16_224_imagenet" in output and "amlp_tiny_text_test" in output


def test_convert_writes_a_native_preset_with_timm_logits(tmp_path):
    assert main(["convert", str(CHECKPOINT), str(tmp_path / "preset")]) == 0
    reference = np.load(CHECKPOINT / "reference.npz")
    classifier = GMLPClassifier.from_preset(str(tmp_path / "preset"))
    logits = to_numpy(classifier(reference["inputs_nchw"].transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(logits, reference["logits"], atol=1e-4, rtol=0)


def test_bad_source_is_one_line_and_a_non_zero_exit(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("keras-gmlp: error: Unknown preset")
    assert error.count("\n") == 1


def test_backend_flag_switches_the_backend():
    result = subprocess.run(
        [sys.executable, "-m", "keras_gmlp", "--backend", "torch", "presets"],
        env={**os.environ, "KERAS_BACKEND": "jax"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "gmlp_ti16_224" in result.stdout
