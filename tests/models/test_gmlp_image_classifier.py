import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPImageClassifierPreprocessor
from keras_gmlp.models import GMLPImageConverter
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_fit_lowers_the_loss
from tests.helpers import to_numpy


def tiny_classifier(**kwargs):
    backbone = GMLPBackbone(
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        image_shape=(16, 16, 3),
        patch_size=4,
    )
    converter = GMLPImageConverter(image_size=(16, 16), scale=2 / 255, offset=-1.0)
    preprocessor = GMLPImageClassifierPreprocessor(converter)
    return GMLPImageClassifier(backbone, 2, preprocessor=preprocessor, **kwargs)


def dark_and_bright_images(count=32):
    """A learnable task on raw uint8 images: dark is class 0, bright 1."""
    rng = np.random.default_rng(0)
    labels = np.arange(count) % 2
    low = np.where(labels == 1, 128, 0)[:, None, None, None]
    images = low + rng.integers(0, 128, size=(count, 24, 24, 3))
    return images.astype("uint8"), labels


def as_tf_dataset(images, labels):
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)


def as_torch_data_loader(images, labels):
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(images), torch.from_numpy(labels)
    )
    return torch.utils.data.DataLoader(dataset, batch_size=8)


SOURCES = {
    "numpy": lambda images, labels: ((images, labels), {"batch_size": 8}),
    "tf_data": lambda images, labels: ((as_tf_dataset(images, labels),), {}),
    "torch_data_loader": lambda images, labels: (
        (as_torch_data_loader(images, labels),),
        {},
    ),
}


def test_head_is_a_dense_layer_on_the_token_mean():
    classifier = tiny_classifier()
    images = np.random.default_rng(0).normal(size=(3, 16, 16, 3))
    features = classifier.backbone(images)
    expected = classifier.output_dense(keras.ops.mean(features, axis=1))
    np.testing.assert_allclose(
        to_numpy(classifier(images)), to_numpy(expected), atol=1e-5
    )


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_fit_lowers_the_loss_on_raw_images(source):
    classifier = tiny_classifier()
    classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
    predictions = assert_fit_lowers_the_loss(
        classifier, *source(*dark_and_bright_images())
    )
    assert predictions.shape == (32, 2)


def test_predict_takes_float_images_of_any_size():
    classifier = tiny_classifier()
    images = np.random.default_rng(0).uniform(0, 255, size=(4, 40, 30, 3))
    assert classifier.predict(images.astype("float32"), verbose=0).shape == (4, 2)


def test_wrong_channel_count_raises():
    images, _ = dark_and_bright_images(4)
    with pytest.raises(ValueError, match="3 channels"):
        tiny_classifier().predict(images[..., :1], verbose=0)


def test_config_round_trip():
    classifier = tiny_classifier(activation="softmax", dropout=0.2)
    config = classifier.get_config()
    assert {"num_classes": 2, "activation": "softmax", "dropout": 0.2}.items() <= (
        config.items()
    )
    assert_config_round_trip(classifier)
