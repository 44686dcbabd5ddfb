import keras
import numpy as np
import pytest

from keras_gmlp.layers import PatchEmbedding
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_saving_round_trip
from tests.helpers import to_numpy


def random_images(height=12, width=8):
    return np.random.default_rng(0).normal(size=(2, height, width, 3))


def test_tokens_are_row_major_patches():
    layer = PatchEmbedding(hidden_dim=5, patch_size=4)
    images = random_images()
    tokens = to_numpy(layer(images))
    kernel, bias = (to_numpy(w) for w in layer.projection.weights)
    # (batch, rows, 4, columns, 4, 3) -> (batch, rows * columns, 4 * 4 * 3)
    patches = images.reshape(2, 3, 4, 2, 4, 3).transpose(0, 1, 3, 2, 4, 5)
    patches = patches.reshape(2, 6, -1)
    expected = patches @ kernel.reshape(-1, 5) + bias
    np.testing.assert_allclose(tokens, expected, rtol=1e-4, atol=1e-5)


def test_compute_output_shape():
    layer = PatchEmbedding(hidden_dim=5, patch_size=4)
    assert layer.compute_output_shape((None, 12, 8, 3)) == (None, 6, 5)
    assert layer.compute_output_shape((2, None, 8, 3)) == (2, None, 5)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy", "tensor"])
def test_compute_output_spec_reads_any_array(as_tensor):
    images = random_images().astype("float32")
    if as_tensor:
        images = keras.ops.convert_to_tensor(images)
    spec = PatchEmbedding(hidden_dim=5, patch_size=4).compute_output_spec(images)
    assert (spec.shape, spec.dtype) == ((2, 6, 5), "float32")


def test_image_size_not_divisible_by_patch_raises():
    with pytest.raises(ValueError, match=r"patch size 4.*\(12, 10\)"):
        PatchEmbedding(hidden_dim=5, patch_size=4)(random_images(width=10))


def test_wrong_channel_count_raises():
    layer = PatchEmbedding(hidden_dim=5, patch_size=4)
    layer(random_images())
    with pytest.raises(ValueError, match=r"3 channels.*\(2, 12, 8, 1\)"):
        layer(random_images()[..., :1])


def test_config_round_trip():
    assert_config_round_trip(PatchEmbedding(hidden_dim=5, patch_size=4, name="p"))


def test_saving_round_trip(tmp_path):
    images = keras.Input((12, 8, 3))
    model = keras.Model(images, PatchEmbedding(hidden_dim=5, patch_size=4)(images))
    assert_saving_round_trip(model, random_images(), tmp_path)
