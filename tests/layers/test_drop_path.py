import numpy as np
import pytest

from keras_gmlp.layers import DropPath
from tests.helpers import assert_config_round_trip
from tests.helpers import to_numpy


def test_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(8, 4, 3))
    layer = DropPath(0.5)
    np.testing.assert_allclose(to_numpy(layer(x)), x, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(layer(x, training=False)), x, rtol=1e-6)


def test_training_drops_whole_examples_and_rescales():
    x = np.ones((400, 4, 3), "float32")
    outputs = to_numpy(DropPath(0.25, seed=1)(x, training=True))
    per_example = outputs.reshape(400, -1)
    assert np.all(per_example == per_example[:, :1])  # whole examples
    assert set(np.unique(per_example)) == {0.0, np.float32(1 / 0.75)}
    assert 0.15 < np.mean(per_example[:, 0] == 0) < 0.35
    assert abs(outputs.mean() - 1.0) < 0.15  # unbiased


def test_batch_axis_picks_the_examples():
    x = np.ones((4, 400, 3), "float32")  # token-major: examples on axis 1
    outputs = to_numpy(DropPath(0.25, seed=1, batch_axis=1)(x, training=True))
    per_example = np.swapaxes(outputs, 0, 1).reshape(400, -1)
    assert np.all(per_example == per_example[:, :1])
    assert 0.15 < np.mean(per_example[:, 0] == 0) < 0.35


def test_config_round_trip():
    assert_config_round_trip(DropPath(0.3, seed=4, batch_axis=1, name="drop"))


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_bad_rate_raises(rate):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        DropPath(rate)
