"""A preset saved under this backend loads under the two others.

Each run of the suite saves under its own backend and loads, in a fresh
process, under each other backend; the three runs cover all six ordered pairs.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPClassifier

BACKENDS = ("jax", "tensorflow", "torch")
LOAD_AND_PREDICT = """
import sys
import numpy as np
import keras_gmlp

preset_dir, inputs_file, outputs_file = sys.argv[1:]
inputs = np.load(inputs_file)["inputs"]
classifier = keras_gmlp.GMLPClassifier.from_preset(preset_dir)
np.save(outputs_file, classifier.predict(inputs, verbose=0))
"""
INPUTS = {
    "gmlp_tiny_image_test": np.random.default_rng(0).integers(0, 256, (3, 40, 40, 3)),
    "amlp_tiny_text_test": np.array(["a value", "an error in the file", "return"]),
}
OTHER_BACKENDS = [b for b in BACKENDS if b != keras.backend.backend()]


@pytest.mark.parametrize("preset", INPUTS)
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_preset_saved_here_loads_under_another_backend(preset, backend, tmp_path):
    inputs = INPUTS[preset]
    classifier = GMLPClassifier.from_preset(preset, num_classes=3)
    classifier.save_to_preset(str(tmp_path / "preset"))
    np.savez(tmp_path / "inputs.npz", inputs=inputs)
    subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_AND_PREDICT,
            str(tmp_path / "preset"),
            str(tmp_path / "inputs.npz"),
            str(tmp_path / "outputs.npy"),
        ],
        env={**os.environ, "KERAS_BACKEND": backend},
        check=True,
    )
    np.testing.assert_allclose(
        np.load(tmp_path / "outputs.npy"),
        classifier.predict(inputs, verbose=0),
        atol=1e-5,
    )
