"""Mixed precision: training stays finite and close to float32, and the parts
that need float32 (the gating unit's LayerNorm, the tiny attention's softmax)
keep it."""

import keras
import numpy as np
import pytest

from keras_gmlp import GMLPClassifier
from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.layers import TinyAttention
from tests.helpers import to_numpy

PRESET = "amlp_tiny_text_test"  # an aMLP: gating units with tiny attention
MIXED_POLICIES = ["mixed_bfloat16", "mixed_float16"]


def two_class_texts():
    texts = ["return a value", "raise an error", "a value to return", "an error"]
    return texts * 4, np.array([0, 1, 0, 1] * 4)


def train_losses(dtype, weights=None, epochs=5):
    """The loss of each epoch of `fit` (two steps each), from `weights`."""
    classifier = GMLPClassifier.from_preset(PRESET, num_classes=2, dtype=dtype)
    if weights is not None:
        classifier.set_weights(weights)
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = classifier.fit(
        *two_class_texts(), batch_size=8, epochs=epochs, shuffle=False, verbose=0
    )
    return classifier, history.history["loss"]


@pytest.fixture(scope="module")
def float32_run():
    keras.utils.set_random_seed(0)
    classifier = GMLPClassifier.from_preset(PRESET, num_classes=2)
    weights = classifier.get_weights()
    return weights, train_losses("float32", weights)[1]


def test_mixed_bfloat16_training_tracks_float32(float32_run):
    weights, float32_losses = float32_run
    classifier, losses = train_losses("mixed_bfloat16", weights)
    assert classifier.backbone.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in classifier.weights)
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_allclose(losses, float32_losses, atol=0.05)


def test_mixed_float16_training_scales_the_loss(float32_run):
    weights, float32_losses = float32_run
    classifier, losses = train_losses("mixed_float16", weights)
    # `compile` wraps the optimizer for float16 policies.
    assert isinstance(classifier.optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(to_numpy(classifier.optimizer.dynamic_scale))
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]
    # The first steps may be skipped while the loss scale drops from 2**15
    # to a scale whose gradients do not overflow; the end matches float32.
    assert abs(losses[-1] - float32_losses[-1]) < 0.05


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_the_gating_units_layer_norm_runs_in_float32(policy):
    unit = SpatialGatingUnit(sequence_length=4, dtype=policy)
    unit.build((None, 4, 64))
    norm = unit.layer_norm
    assert norm.dtype_policy.name == policy
    assert norm.gamma.dtype == norm.beta.dtype == "float32"
    # Values from 256 to 318, exact in both half types, whose mean and
    # variance need float32: in bfloat16 their sum alone rounds by up to 32.
    rows = 256.0 + 2.0 * np.random.default_rng(0).permutation(32)[None, :]
    v = keras.ops.cast(np.repeat(rows, 4, axis=0)[None], norm.compute_dtype)
    outputs = norm(v)
    assert keras.backend.standardize_dtype(outputs.dtype) == norm.compute_dtype
    expected = (rows - rows.mean()) / np.sqrt(rows.var() + norm.epsilon)
    # Only the rounding of the output to 16 bits.
    np.testing.assert_allclose(
        to_numpy(outputs)[0], np.repeat(expected, 4, 0), atol=1e-2
    )


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_the_tiny_attentions_softmax_runs_in_float32(policy, monkeypatch):
    softmax_dtypes = []
    softmax = keras.ops.softmax

    def recording_softmax(x, *args, **kwargs):
        softmax_dtypes.append(keras.backend.standardize_dtype(x.dtype))
        return softmax(x, *args, **kwargs)

    monkeypatch.setattr(keras.ops, "softmax", recording_softmax)
    x = 3.0 * np.random.default_rng(0).normal(size=(2, 6, 10))
    reference = TinyAttention(8, 12)
    expected = to_numpy(reference(x))
    layer = TinyAttention(8, 12, dtype=policy)
    layer.build(x.shape)
    layer.set_weights(reference.get_weights())
    outputs = layer(x)
    assert softmax_dtypes == ["float32", "float32"]
    assert keras.backend.standardize_dtype(outputs.dtype) == policy.split("_")[1]
    np.testing.assert_allclose(to_numpy(outputs), expected, rtol=0.05, atol=0.05)
