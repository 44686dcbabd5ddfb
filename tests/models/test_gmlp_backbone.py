import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPBackbone
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_finite_with_dtype
from tests.helpers import assert_gradients_reach_every_weight
from tests.helpers import assert_saving_round_trip
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

TINY = {
    "num_layers": 2,
    "hidden_dim": 8,
    "intermediate_dim": 24,
    "image_shape": (16, 16, 3),
    "patch_size": 4,
}


def random_images(batch=2):
    return np.random.default_rng(0).uniform(size=(batch, 16, 16, 3))


def test_outputs_normalised_token_features():
    backbone = GMLPBackbone(**TINY)
    features = to_numpy(backbone(random_images()))
    assert features.shape == (2, 16, 8)
    np.testing.assert_allclose(features.mean(-1), 0.0, atol=1e-4)


def test_every_block_outputs_batch_major_features():
    """`(batch, tokens, hidden_dim)`, as feature extraction from a block
    expects."""
    backbone = GMLPBackbone(**TINY)
    block = backbone.get_layer("block_0")
    features = keras.Model(backbone.input, block.output)(random_images(batch=3))
    assert tuple(features.shape) == (3, 16, 8)
    assert tuple(block.output.shape) == (None, 16, 8)


def test_output_spec_of_numpy_images():
    spec = GMLPBackbone(**TINY).compute_output_spec(random_images(batch=3))
    assert (spec.shape, spec.dtype) == ((3, 16, 8), "float32")


def test_inside_another_functional_model():
    backbone = GMLPBackbone(**TINY)
    images = keras.Input((16, 16, 3), batch_size=3)  # not the backbone's batch
    model = keras.Model(images, keras.layers.Dense(2)(backbone(images)))
    assert tuple(model.output.shape) == (3, 16, 2)
    spec = model.compute_output_spec(random_images(batch=5))
    assert spec.shape == (5, 16, 2)


def test_compiled_predict_matches_eager_call():
    backbone = GMLPBackbone(**TINY)
    images = random_images()
    np.testing.assert_allclose(
        to_numpy(backbone.predict(images, verbose=0)),
        to_numpy(backbone(images)),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "hidden_dim, intermediate_dim, drop_path_rate, parameters",
    [
        (128, 768, 0.0, 5_867_328),  # gMLP-Ti
        (256, 1536, 0.05, 19_422_656),  # gMLP-S
        (512, 3072, 0.2, 73_075_392),  # gMLP-B
    ],
)
def test_paper_sizes_match_timm_parameter_counts(
    hidden_dim, intermediate_dim, drop_path_rate, parameters
):
    backbone = GMLPBackbone(
        num_layers=30,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        drop_path_rate=drop_path_rate,
    )
    pooled = keras.ops.mean(backbone.output, axis=1)
    classifier = keras.Model(backbone.input, keras.layers.Dense(1000)(pooled))
    assert classifier.count_params() == parameters


def test_drop_path_is_active_in_training_only():
    backbone = GMLPBackbone(**TINY, drop_path_rate=0.5)
    images = random_images(batch=8)
    inference = to_numpy(backbone(images))
    np.testing.assert_array_equal(to_numpy(backbone(images)), inference)
    assert not np.allclose(to_numpy(backbone(images, training=True)), inference)


def test_gradients_reach_every_weight():
    assert_gradients_reach_every_weight(GMLPBackbone(**TINY), random_images())


def test_config_round_trip():
    assert_config_round_trip(
        GMLPBackbone(**TINY, dropout=0.1, drop_path_rate=0.1, layer_norm_epsilon=1e-5)
    )


def test_saving_round_trip(tmp_path):
    backbone = randomize_weights(GMLPBackbone(**TINY))
    assert_saving_round_trip(backbone, random_images(), tmp_path)


@pytest.mark.parametrize(
    "policy, output_dtype",
    [("bfloat16", "bfloat16"), ("mixed_bfloat16", "bfloat16")],
)
def test_dtype_policies(policy, output_dtype):
    backbone = GMLPBackbone(**TINY, dtype=policy)
    assert_finite_with_dtype(backbone(random_images()), output_dtype)


def test_image_size_not_divisible_by_patch_raises():
    with pytest.raises(ValueError, match=r"patch size 4.*\(16, 18\)"):
        GMLPBackbone(**{**TINY, "image_shape": (16, 18, 3)})
