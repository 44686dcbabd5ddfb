import numpy as np
import pytest
from keras import ops

from keras_gmlp.layers import GMLPBlock
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_finite_with_dtype
from tests.helpers import assert_gradients_reach_every_weight
from tests.helpers import assert_saving_round_trip
from tests.helpers import masked_sequence_model
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

BATCH, LENGTH, HIDDEN, INTERMEDIATE = 2, 8, 8, 24
VARIANTS = {
    "dense": {},
    "toeplitz": {"spatial_weights": "toeplitz"},
    "multi_head": {"heads": 2},
    "tiny_attention": {"attention_dim": 4},
}


def random_inputs(length=LENGTH, seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, length, HIDDEN))


def randomized_block(**kwargs):
    block = GMLPBlock(INTERMEDIATE, **kwargs)
    block.build((None, LENGTH, HIDDEN))
    return randomize_weights(block)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_output_shape(kwargs):
    outputs = GMLPBlock(INTERMEDIATE, **kwargs)(random_inputs())
    assert tuple(outputs.shape) == (BATCH, LENGTH, HIDDEN)


def test_fresh_block_is_a_plain_ffn():
    block = GMLPBlock(INTERMEDIATE)
    x = random_inputs()
    outputs = to_numpy(block(x))
    hidden = ops.gelu(block.proj_in(block.layer_norm(x)), approximate=False)
    u = hidden[..., : INTERMEDIATE // 2]
    np.testing.assert_allclose(
        outputs, x + to_numpy(block.proj_out(u)), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_causal_outputs_ignore_later_tokens(kwargs):
    block = randomized_block(causal=True, **kwargs)
    x = random_inputs()
    t = 2
    changed = x.copy()
    changed[:, t + 1 :] = random_inputs(seed=9)[:, t + 1 :]
    before, after = to_numpy(block(x)), to_numpy(block(changed))
    np.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], atol=1e-5)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_padding_changes_no_real_output(kwargs):
    block = randomized_block(**kwargs)
    real_length = 5
    outputs = []
    for padded_length, seed in [(6, 3), (LENGTH, 4)]:
        x = random_inputs(padded_length, seed=seed)
        x[:, :real_length] = random_inputs()[:, :real_length]
        mask = np.broadcast_to(np.arange(padded_length) < real_length, x.shape[:2])
        outputs.append(to_numpy(block(x, padding_mask=mask))[:, :real_length])
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_training_and_inference_agree_without_dropout(kwargs):
    # The two modes take the GELU differently (see `_activated_halves`).
    block = randomized_block(**kwargs)
    x = random_inputs()
    mask = np.broadcast_to(np.arange(LENGTH) < 6, x.shape[:2])
    np.testing.assert_allclose(
        to_numpy(block(x, padding_mask=mask, training=True)),
        to_numpy(block(x, padding_mask=mask, training=False)),
        atol=1e-6,
    )


def test_drop_path_is_active_in_training_only():
    block = randomized_block(drop_path_rate=0.5)
    x = np.random.default_rng(0).normal(size=(64, LENGTH, HIDDEN))
    inference = to_numpy(block(x))
    np.testing.assert_array_equal(to_numpy(block(x, training=False)), inference)
    training = to_numpy(block(x, training=True))
    dropped = np.all(np.isclose(training, x, atol=1e-6), axis=(1, 2))
    assert 10 < dropped.sum() < 54  # about half the examples skip the block


def test_dropout_is_active_in_training_only():
    block = randomized_block(dropout=0.5)
    x = random_inputs()
    inference = to_numpy(block(x))
    np.testing.assert_array_equal(to_numpy(block(x, training=False)), inference)
    assert not np.allclose(to_numpy(block(x, training=True)), inference)


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_gradients_reach_every_weight(kwargs):
    block = GMLPBlock(INTERMEDIATE, causal=True, **kwargs)
    assert_gradients_reach_every_weight(block, random_inputs())


def test_layer_norm_epsilons_reach_their_norms():
    block = GMLPBlock(
        INTERMEDIATE, layer_norm_epsilon=1e-3, gate_layer_norm_epsilon=1e-2
    )
    assert block.layer_norm.epsilon == 1e-3
    assert block.spatial_gating_unit.layer_norm.epsilon == 1e-2


def test_config_round_trip():
    assert_config_round_trip(
        GMLPBlock(
            INTERMEDIATE,
            sequence_length=16,
            causal=True,
            spatial_weights="toeplitz",
            heads=2,
            attention_dim=8,
            dropout=0.1,
            drop_path_rate=0.2,
            layer_norm_epsilon=1e-5,
            gate_layer_norm_epsilon=1e-4,
            name="block",
        )
    )


def test_configs_that_carry_token_major_load_without_it():
    config = GMLPBlock(INTERMEDIATE, heads=2).get_config()
    block = GMLPBlock.from_config({**config, "token_major": True})
    assert block.get_config() == config


def test_saving_round_trip(tmp_path):
    block = GMLPBlock(INTERMEDIATE, heads=2, attention_dim=4)
    model = randomize_weights(masked_sequence_model(block, LENGTH, HIDDEN))
    mask_values = np.broadcast_to(np.arange(LENGTH) < 6, (BATCH, LENGTH))
    assert_saving_round_trip(model, [random_inputs(), mask_values], tmp_path)


@pytest.mark.parametrize(
    "policy, output_dtype",
    [("bfloat16", "bfloat16"), ("mixed_bfloat16", "bfloat16")],
)
def test_dtype_policies(policy, output_dtype):
    block = GMLPBlock(INTERMEDIATE, attention_dim=4, dtype=policy)
    assert_finite_with_dtype(block(random_inputs()), output_dtype)


def test_odd_intermediate_dim_raises():
    with pytest.raises(ValueError, match="divisible by 2.*23"):
        GMLPBlock(23)(random_inputs())
