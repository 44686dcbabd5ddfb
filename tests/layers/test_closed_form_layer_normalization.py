import keras
import numpy as np
import pytest

from keras_gmlp.layers import closed_form_layer_normalization
from keras_gmlp.layers.closed_form_layer_normalization import (
    ClosedFormLayerNormalization,
)
from tests.helpers import assert_config_round_trip
from tests.helpers import gradients
from tests.helpers import randomize_weights
from tests.helpers import to_numpy


def dense_then(normalization):
    """A Dense layer before `normalization`, so that the gradient with
    respect to the normalisation's inputs reaches the Dense kernel."""
    layers = [keras.Input((5, 6)), keras.layers.Dense(8), normalization]
    return randomize_weights(keras.Sequential(layers), offset=0.3)


# The last two: configurations that keep Keras' computation.
@pytest.mark.parametrize("kwargs", [{}, {"axis": [1, 2]}, {"center": False}])
def test_outputs_and_gradients_match_keras(kwargs):
    x = np.random.default_rng(0).normal(size=(3, 5, 6)).astype("float32")
    ours = dense_then(ClosedFormLayerNormalization(epsilon=1e-3, **kwargs))
    keras_own = dense_then(keras.layers.LayerNormalization(epsilon=1e-3, **kwargs))
    np.testing.assert_allclose(
        to_numpy(ours(x)), to_numpy(keras_own(x)), rtol=1e-5, atol=1e-5
    )
    ours_gradients, keras_gradients = gradients(ours, x), gradients(keras_own, x)
    # The Dense kernel and bias, gamma and, where centred, beta.
    expected_count = 3 if kwargs.get("center") is False else 4
    assert len(ours_gradients) == len(keras_gradients) == expected_count
    for ours_gradient, keras_gradient in zip(
        ours_gradients.values(), keras_gradients.values(), strict=True
    ):
        np.testing.assert_allclose(
            to_numpy(ours_gradient), to_numpy(keras_gradient), rtol=1e-4, atol=1e-5
        )


def test_mixed_precision_returns_bfloat16():
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(4, 16)).astype("float32")
    outputs = ClosedFormLayerNormalization(dtype="mixed_bfloat16")(x)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(variance + 1e-3)
    np.testing.assert_allclose(to_numpy(outputs), expected, atol=0.05)


def test_config_round_trip():
    assert_config_round_trip(ClosedFormLayerNormalization(epsilon=1e-6, name="norm"))


def test_closed_form_runs_on_jax_and_tensorflow(monkeypatch):
    """Torch keeps Keras' fused layer norm; the other backends normalise
    in closed form (whose outputs the tests above compare with Keras')."""
    calls, normalize = [], closed_form_layer_normalization.normalize

    def recorded(*args):
        calls.append(args)
        return normalize(*args)

    monkeypatch.setattr(closed_form_layer_normalization, "normalize", recorded)
    layer = ClosedFormLayerNormalization()
    layer(np.ones((2, 3), "float32"))
    assert len(calls) == (0 if keras.backend.backend() == "torch" else 1)
