import numpy as np
import pytest

from keras_gmlp.models import GMLPTextBackbone
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_finite_with_dtype
from tests.helpers import assert_gradients_reach_every_weight
from tests.helpers import assert_saving_round_trip
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

MAX_LENGTH = 12
TINY = {
    "vocabulary_size": 50,
    "num_layers": 2,
    "hidden_dim": 8,
    "intermediate_dim": 24,
    "max_sequence_length": MAX_LENGTH,
}
VARIANTS = {
    "dense": {},
    "toeplitz": {"spatial_weights": "toeplitz"},
    "multi_head": {"heads": 2},
    "tiny_attention": {"attention_dim": 4},
}


def token_inputs(length=MAX_LENGTH, real_length=None, pad_id=0, seed=0):
    """Two random sequences, right-padded with `pad_id` after `real_length`."""
    real_length = length if real_length is None else real_length
    token_ids = np.random.default_rng(seed).integers(1, 50, size=(2, 2 * MAX_LENGTH))
    token_ids = token_ids[:, :length]
    padding_mask = np.broadcast_to(np.arange(length) < real_length, (2, length))
    token_ids = np.where(padding_mask, token_ids, pad_id).astype("int32")
    return {"token_ids": token_ids, "padding_mask": padding_mask.astype("int32")}


def randomized_backbone(**kwargs):
    return randomize_weights(GMLPTextBackbone(**TINY, **kwargs))


@pytest.mark.parametrize("length", [MAX_LENGTH, 5])
def test_output_shape_for_any_length_up_to_the_maximum(length):
    features = GMLPTextBackbone(**TINY)(token_inputs(length))
    assert tuple(features.shape) == (2, length, 8)


def test_compiled_predict_matches_eager_call():
    backbone = randomized_backbone(attention_dim=4)
    inputs = token_inputs(real_length=7)
    np.testing.assert_allclose(
        to_numpy(backbone.predict(inputs, verbose=0)),
        to_numpy(backbone(inputs)),
        atol=1e-4,
    )


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_causal_outputs_ignore_later_tokens(kwargs):
    backbone = randomized_backbone(causal=True, **kwargs)
    inputs = token_inputs()
    t = 4
    changed = {**inputs, "token_ids": inputs["token_ids"].copy()}
    changed["token_ids"][:, t + 1 :] = token_inputs(seed=5)["token_ids"][:, t + 1 :]
    before, after = to_numpy(backbone(inputs)), to_numpy(backbone(changed))
    np.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], atol=1e-4)
    assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :], atol=1e-3)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_padding_changes_no_real_output(kwargs, causal):
    backbone = randomized_backbone(causal=causal, **kwargs)
    real_length = 6
    short = backbone(token_inputs(8, real_length, pad_id=0))
    long = backbone(token_inputs(MAX_LENGTH, real_length, pad_id=17))
    np.testing.assert_allclose(
        to_numpy(short)[:, :real_length],
        to_numpy(long)[:, :real_length],
        atol=1e-4,
    )


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_gradients_reach_every_weight(kwargs):
    backbone = GMLPTextBackbone(**TINY, **kwargs)
    assert_gradients_reach_every_weight(backbone, token_inputs())


def test_config_round_trip():
    assert_config_round_trip(
        GMLPTextBackbone(
            **TINY,
            causal=True,
            spatial_weights="toeplitz",
            heads=2,
            attention_dim=4,
            dropout=0.1,
            drop_path_rate=0.1,
            layer_norm_epsilon=1e-5,
        )
    )


def test_saving_round_trip(tmp_path):
    backbone = randomized_backbone(heads=2, attention_dim=4, causal=True)
    assert_saving_round_trip(backbone, token_inputs(real_length=9), tmp_path)


@pytest.mark.parametrize(
    "policy, output_dtype",
    [("bfloat16", "bfloat16"), ("mixed_bfloat16", "bfloat16")],
)
def test_dtype_policies(policy, output_dtype):
    backbone = GMLPTextBackbone(**TINY, attention_dim=4, dtype=policy)
    assert_finite_with_dtype(backbone(token_inputs(real_length=9)), output_dtype)


def test_token_ids_of_the_wrong_rank_raise():
    inputs = token_inputs()
    inputs["token_ids"] = inputs["token_ids"][0]
    with pytest.raises(ValueError, match=r"token_ids.*Expected shape \(None, None\)"):
        GMLPTextBackbone(**TINY)(inputs)


def test_sequence_longer_than_maximum_raises():
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH} tokens.*13"):
        GMLPTextBackbone(**TINY)(token_inputs(MAX_LENGTH + 1))
