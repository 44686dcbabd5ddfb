import keras
import numpy as np
import pytest
from keras import ops

from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.layers import spatial_gating_unit
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_finite_with_dtype
from tests.helpers import assert_gradients_reach_every_weight
from tests.helpers import assert_saving_round_trip
from tests.helpers import gradients
from tests.helpers import masked_sequence_model
from tests.helpers import randomize_weights
from tests.helpers import run_the_plain_path
from tests.helpers import to_numpy

BATCH, LENGTH, CHANNELS = 2, 8, 16
VARIANTS = {
    "dense": {},
    "toeplitz": {"spatial_weights": "toeplitz"},
    "multi_head": {"heads": 2},
    "tiny_attention": {"attention_dim": 4},
    "toeplitz_multi_head_attention": {
        "spatial_weights": "toeplitz",
        "heads": 2,
        "attention_dim": 4,
    },
}


def random_inputs(length=LENGTH, seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, length, CHANNELS))


def randomized_unit(**kwargs):
    """A built unit whose every weight is random, so no term hides at zero."""
    unit = SpatialGatingUnit(**kwargs)
    unit.build((None, LENGTH, CHANNELS))
    return randomize_weights(unit, offset=0.5)


def reference_output(unit, x):
    """numpy `u * (W LayerNorm(v) + b)` with W built from the raw kernel."""
    n, m, heads = unit.max_length, x.shape[1], unit.heads
    u, v = np.split(x, 2, axis=-1)
    gamma, beta = (to_numpy(w) for w in unit.layer_norm.weights)
    mean, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
    v = (v - mean) / np.sqrt(var + unit.layer_norm_epsilon) * gamma + beta
    kernel = to_numpy(unit.spatial_kernel)
    if unit.spatial_weights == "dense":
        w = kernel[:, :m, :m]
    else:
        i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
        w = kernel[:, i - j + n - 1]
    if unit.causal:
        w = w * np.tril(np.ones((m, m)))
    v = v.reshape(x.shape[0], m, heads, -1)
    mixed = np.einsum("hij,bjhc->bihc", w, v)
    mixed += to_numpy(unit.spatial_bias).T[:m, :, None]
    return u * mixed.reshape(x.shape[0], m, -1)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_output_shape(kwargs):
    outputs = SpatialGatingUnit(**kwargs)(random_inputs())
    assert tuple(outputs.shape) == (BATCH, LENGTH, CHANNELS // 2)


@pytest.mark.parametrize(
    "inputs_shape, output_shape",
    [
        ((None, None, CHANNELS), (None, None, CHANNELS // 2)),
        (((None, LENGTH, 4), (None, LENGTH, 4)), (None, LENGTH, 4)),  # (u, v)
        ((BATCH, LENGTH, None), (BATCH, LENGTH, None)),
    ],
    ids=["unknown_batch_and_length", "pair", "unknown_channels"],
)
def test_compute_output_shape(inputs_shape, output_shape):
    assert SpatialGatingUnit().compute_output_shape(inputs_shape) == output_shape


@pytest.mark.parametrize(
    "spatial_weights, fft",
    [("dense", False), ("toeplitz", False), ("toeplitz", True)],
    ids=["dense", "toeplitz", "toeplitz_fft"],
)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("length", [LENGTH, 5])
@pytest.mark.parametrize("plain", [False, True], ids=["cpu_kernels", "plain"])
def test_matches_numpy_reference(
    spatial_weights, fft, causal, heads, length, plain, monkeypatch
):
    if plain:
        run_the_plain_path(monkeypatch)
    if fft:  # the FFT convolution otherwise only serves long sequences
        monkeypatch.setattr(spatial_gating_unit, "FFT_MIN_LENGTH", 1)
    unit = randomized_unit(spatial_weights=spatial_weights, causal=causal, heads=heads)
    x = random_inputs(length)
    np.testing.assert_allclose(
        to_numpy(unit(x)), reference_output(unit, x), rtol=1e-4, atol=1e-4
    )


def test_toeplitz_has_2n_minus_1_shift_invariant_weights():
    unit = randomized_unit(spatial_weights="toeplitz")
    assert tuple(unit.spatial_kernel.shape) == (1, 2 * LENGTH - 1)
    w = to_numpy(unit.spatial_matrix())[0]
    np.testing.assert_array_equal(w[1:, 1:], w[:-1, :-1])
    assert not np.allclose(w[1:, :-1], w[:-1, :-1])


@pytest.mark.parametrize("heads", [1, 2])
def test_each_head_has_its_own_weights(heads):
    unit = randomized_unit(heads=heads)
    assert tuple(unit.spatial_kernel.shape) == (heads, LENGTH, LENGTH)
    assert tuple(unit.spatial_bias.shape) == (heads, LENGTH)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_causal_outputs_ignore_later_tokens(kwargs):
    unit = randomized_unit(causal=True, **kwargs)
    x = random_inputs()
    t = 3
    changed = x.copy()
    changed[:, t + 1 :] = random_inputs(seed=7)[:, t + 1 :]
    before, after = to_numpy(unit(x)), to_numpy(unit(changed))
    np.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], atol=1e-5)
    assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :], atol=1e-3)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_padding_changes_no_real_output(kwargs, causal):
    unit = randomized_unit(causal=causal, **kwargs)
    real_length = 5
    outputs = []
    for padded_length, seed in [(6, 3), (LENGTH, 4)]:
        x = random_inputs(padded_length, seed=seed)
        x[:, :real_length] = random_inputs()[:, :real_length]
        mask = np.arange(padded_length) < real_length
        mask = np.broadcast_to(mask, (BATCH, padded_length))
        outputs.append(to_numpy(unit(x, padding_mask=mask))[:, :real_length])
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_halves_as_a_pair_match_one_tensor(kwargs):
    unit = randomized_unit(**kwargs)
    x = random_inputs().astype("float32")
    halves = tuple(ops.convert_to_tensor(half) for half in np.split(x, 2, axis=-1))
    mask = np.broadcast_to(np.arange(LENGTH) < 6, (BATCH, LENGTH))
    for attention_inputs in (None, random_inputs(seed=6).astype("float32")):
        call_kwargs = {"padding_mask": mask, "attention_inputs": attention_inputs}
        np.testing.assert_allclose(
            to_numpy(unit(halves, **call_kwargs)),
            to_numpy(unit(x, **call_kwargs)),
            atol=1e-6,
        )


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_cached_decoding_matches_recomputation(kwargs):
    unit = randomized_unit(causal=True, **kwargs)
    x = random_inputs().astype("float32")
    expected = to_numpy(unit(x))
    cache = {"gate": np.zeros((BATCH, LENGTH, CHANNELS // 2), "float32")}
    if "attention_dim" in kwargs:
        cache["attention"] = np.zeros((BATCH, 2, LENGTH, 4), "float32")
    # A prompt of 3 tokens, then one token at a time.
    for start, stop in [(0, 3), *((t, t + 1) for t in range(3, LENGTH))]:
        outputs, cache = unit.call_with_cache(x[:, start:stop], cache, start)
        np.testing.assert_allclose(
            to_numpy(outputs), expected[:, start:stop], rtol=1e-5, atol=1e-5
        )


def test_fresh_unit_passes_u_through():
    unit = SpatialGatingUnit()
    x = random_inputs()
    outputs = to_numpy(unit(x))
    assert np.abs(to_numpy(unit.spatial_kernel)).max() < 1e-4
    np.testing.assert_array_equal(to_numpy(unit.spatial_bias), 1.0)
    np.testing.assert_allclose(outputs, x[..., : CHANNELS // 2], atol=1e-4)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_gradients_reach_every_weight(kwargs):
    unit = SpatialGatingUnit(causal=True, **kwargs)
    assert_gradients_reach_every_weight(unit, random_inputs())


@pytest.mark.parametrize("causal", [False, True])
def test_toeplitz_fft_gradients_match_matmul_gradients(causal, monkeypatch):
    unit = randomized_unit(spatial_weights="toeplitz", causal=causal, heads=2)
    x = random_inputs()
    matmul = gradients(unit, x)
    monkeypatch.setattr(spatial_gating_unit, "FFT_MIN_LENGTH", 1)
    fft = gradients(unit, x)
    for path, grad in matmul.items():
        np.testing.assert_allclose(
            to_numpy(fft[path]), to_numpy(grad), rtol=1e-4, atol=1e-4, err_msg=path
        )


def test_tiny_attention_is_built_on_attention_inputs():
    unit = SpatialGatingUnit(attention_dim=4)
    unit(random_inputs(), attention_inputs=random_inputs(seed=5)[..., :12])
    kernel = unit.tiny_attention.query_key_value_dense.kernel
    assert tuple(kernel.shape) == (12, 3 * 4)


def test_config_round_trip():
    assert_config_round_trip(
        SpatialGatingUnit(
            sequence_length=32,
            causal=True,
            spatial_weights="toeplitz",
            heads=4,
            attention_dim=16,
            layer_norm_epsilon=1e-6,
            name="sgu",
        )
    )


def test_configs_that_carry_token_major_load_without_it():
    config = SpatialGatingUnit(heads=2).get_config()
    unit = SpatialGatingUnit.from_config({**config, "token_major": True})
    assert unit.get_config() == config


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_saving_round_trip(kwargs, tmp_path):
    unit = SpatialGatingUnit(causal=True, **kwargs)
    model = randomize_weights(masked_sequence_model(unit, LENGTH, CHANNELS))
    mask_values = np.broadcast_to(np.arange(LENGTH) < 6, (BATCH, LENGTH))
    assert_saving_round_trip(model, [random_inputs(), mask_values], tmp_path)


@pytest.mark.parametrize(
    "policy, output_dtype",
    [("bfloat16", "bfloat16"), ("mixed_bfloat16", "bfloat16")],
)
def test_dtype_policies(policy, output_dtype):
    unit = SpatialGatingUnit(causal=True, heads=2, attention_dim=4, dtype=policy)
    outputs = unit(random_inputs())
    assert_finite_with_dtype(outputs, output_dtype)
    assert unit.spatial_kernel.dtype == unit.dtype_policy.variable_dtype


def test_odd_channels_raise():
    with pytest.raises(ValueError, match="divisible by 2.*15"):
        SpatialGatingUnit()(np.ones((1, 4, 15)))


def test_channels_not_divisible_by_heads_raise():
    with pytest.raises(ValueError, match="divisible by 6"):
        SpatialGatingUnit(heads=3)(np.ones((1, 4, 16)))


def test_longer_sequence_than_built_raises():
    unit = SpatialGatingUnit(sequence_length=LENGTH)
    unit(random_inputs())
    with pytest.raises(ValueError, match=f"at most {LENGTH} tokens.*12"):
        unit(random_inputs(12))


def test_unknown_length_without_sequence_length_raises():
    with pytest.raises(ValueError, match="pass `sequence_length`"):
        SpatialGatingUnit()(keras.Input((None, CHANNELS)))


def test_bad_options_raise():
    with pytest.raises(ValueError, match="'dense', 'toeplitz'.*'circulant'"):
        SpatialGatingUnit(spatial_weights="circulant")
    with pytest.raises(ValueError, match="heads=0"):
        SpatialGatingUnit(heads=0)
