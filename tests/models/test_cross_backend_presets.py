"""A preset saved under this backend loads under the next one.

Each run of the suite saves under its own backend and loads, in a fresh
process, under the next backend in `BACKENDS`: the three runs make a cycle,
in which every backend both writes a preset that another loads and loads one
that another wrote. (All six ordered pairs took a fresh process each, two per
run, mostly importing keras-hub.)
"""

import os
import subprocess
import sys

import keras
import numpy as np

from keras_gmlp.models import GMLPClassifier
from keras_gmlp_cli import BACKENDS

# Both presets in one process: most of its time goes to importing keras-hub.
LOAD_AND_PREDICT = """
import sys
import numpy as np
import keras_gmlp

directory = sys.argv[1]
for preset in sys.argv[2:]:
    inputs = np.load(f"{directory}/{preset}.npz")["inputs"]
    classifier = keras_gmlp.GMLPClassifier.from_preset(f"{directory}/{preset}")
    np.save(f"{directory}/{preset}.npy", classifier.predict(inputs, verbose=0))
"""
INPUTS = {
    # At the preset's image size: keras-hub preprocesses numpy inputs on the
    # backend itself where `grain` is installed, and torch's bicubic resize
    # differs from TensorFlow's and JAX's (by up to 21 of 255).
    "gmlp_tiny_image_test": np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3)),
    "amlp_tiny_text_test": np.array(["a value", "an error in the file", "return"]),
}
NEXT_BACKEND = BACKENDS[(BACKENDS.index(keras.backend.backend()) + 1) % len(BACKENDS)]


def test_presets_saved_here_load_under_the_next_backend(tmp_path):
    outputs = {}
    for preset, inputs in INPUTS.items():
        classifier = GMLPClassifier.from_preset(preset, num_classes=3)
        classifier.save_to_preset(str(tmp_path / preset))
        np.savez(tmp_path / f"{preset}.npz", inputs=inputs)
        outputs[preset] = classifier.predict(inputs, verbose=0)
    subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path), *INPUTS],
        env={**os.environ, "KERAS_BACKEND": NEXT_BACKEND},
        check=True,
    )
    for preset, expected in outputs.items():
        loaded = np.load(tmp_path / f"{preset}.npy")
        np.testing.assert_allclose(loaded, expected, atol=1e-5, err_msg=preset)
