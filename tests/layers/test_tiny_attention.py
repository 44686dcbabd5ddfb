import numpy as np
import pytest

from keras_gmlp.layers import TinyAttention
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_finite_with_dtype
from tests.helpers import assert_gradients_reach_every_weight
from tests.helpers import to_numpy


def random_inputs(length=6, seed=0):
    return np.random.default_rng(seed).normal(size=(2, length, 10))


def reference_attention(layer, x, allowed):
    qkv_kernel, qkv_bias, out_kernel, out_bias = (to_numpy(w) for w in layer.weights)
    q, k, v = np.split(x @ qkv_kernel + qkv_bias, 3, axis=-1)
    scores = np.einsum("bqd,bkd->bqk", q, k) / np.sqrt(layer.attention_dim)
    scores = np.where(allowed, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bqk,bkd->bqd", weights, v) @ out_kernel + out_bias


def test_output_shape():
    assert tuple(TinyAttention(4, 7)(random_inputs()).shape) == (2, 6, 7)


@pytest.mark.parametrize("causal", [False, True])
def test_matches_numpy_reference_with_masks(causal):
    layer = TinyAttention(4, 7, causal=causal)
    x = random_inputs()
    padding_mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    outputs = to_numpy(layer(x, padding_mask=padding_mask))
    allowed = np.broadcast_to(padding_mask[:, None, :], (2, 6, 6))
    if causal:
        allowed = allowed & np.tril(np.ones((6, 6), bool))
    np.testing.assert_allclose(
        outputs, reference_attention(layer, x, allowed), rtol=1e-4, atol=1e-5
    )


def test_gradients_reach_every_weight():
    assert_gradients_reach_every_weight(TinyAttention(4, 7), random_inputs())


def test_softmax_stays_finite_under_mixed_precision():
    layer = TinyAttention(4, 7, causal=True, dtype="mixed_bfloat16")
    outputs = layer(100.0 * random_inputs(), padding_mask=np.ones((2, 6), bool))
    assert_finite_with_dtype(outputs, "bfloat16")


def test_config_round_trip():
    assert_config_round_trip(TinyAttention(16, 32, causal=True, name="attention"))
