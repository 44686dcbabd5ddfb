"""`quantize("int8")` on the image and text classifiers: their dense kernels
become int8 and their logits stay close to float32's."""

import keras
import numpy as np
import pytest

from keras_gmlp import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPTextClassifier
from tests.helpers import to_numpy


def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(4, 32, 32, 3)).astype("uint8")


def texts():
    return np.array(["return a value", "raise an error", "a", "the list of values"])


@pytest.mark.parametrize(
    "preset, task_cls, inputs",
    [
        ("gmlp_tiny_image_test", GMLPImageClassifier, images),
        ("amlp_tiny_text_test", GMLPTextClassifier, texts),
    ],
)
def test_int8_logits_stay_close_to_float(preset, task_cls, inputs):
    classifier = GMLPClassifier.from_preset(preset, num_classes=3)
    assert isinstance(classifier, task_cls)
    expected = to_numpy(classifier.predict(inputs(), verbose=0))
    classifier.quantize("int8")
    kernel_dtypes = {
        variable.path: keras.backend.standardize_dtype(variable.dtype)
        for variable in classifier.weights
        if variable.path.endswith(("proj_in/kernel", "proj_out/kernel"))
    }
    assert kernel_dtypes and set(kernel_dtypes.values()) == {"int8"}
    logits = to_numpy(classifier.predict(inputs(), verbose=0))
    assert not np.array_equal(logits, expected)  # it did quantize
    # Measured: at most 0.024 off, on logits of up to 1.25.
    np.testing.assert_allclose(logits, expected, atol=0.05)


def test_a_classifier_that_has_not_run_quantizes():
    classifier = GMLPClassifier.from_preset("gmlp_tiny_image_test", num_classes=3)
    classifier.quantize("int8")
    assert classifier.predict(images(), verbose=0).shape == (4, 3)
