import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from keras_gmlp.models import GMLPTextClassifier
from tests.helpers import assert_config_round_trip
from tests.helpers import assert_fit_lowers_the_loss
from tests.helpers import to_numpy

PRESET = "amlp_tiny_text_test"


def tiny_classifier(**kwargs):
    return GMLPTextClassifier.from_preset(PRESET, num_classes=2, **kwargs)


def error_or_return_texts(count=32):
    """A learnable task on raw strings: texts with "error" are class 1."""
    rng = np.random.default_rng(0)
    words = ["value", "file", "string", "list", "true", "false"]
    labels = np.arange(count) % 2
    texts = [
        " ".join([*rng.choice(words, size=4), "error" if label else "return"])
        for label in labels
    ]
    return np.array(texts), labels


class TextDataset(torch.utils.data.Dataset):
    def __init__(self, texts, labels):
        self.texts, self.labels = texts, labels

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, index):
        return str(self.texts[index]), int(self.labels[index])


SOURCES = {
    "numpy": lambda texts, labels: ((texts, labels), {"batch_size": 8}),
    "tf_data": lambda texts, labels: (
        (tf.data.Dataset.from_tensor_slices((texts, labels)).batch(8),),
        {},
    ),
    "torch_data_loader": lambda texts, labels: (
        (torch.utils.data.DataLoader(TextDataset(texts, labels), batch_size=8),),
        {},
    ),
}


def test_pooling_is_a_mean_over_real_tokens():
    classifier = tiny_classifier()
    inputs = classifier.preprocessor(["value error", "the list of files"])
    features = to_numpy(classifier.backbone(inputs))
    mask = to_numpy(inputs["padding_mask"])[:, :, None]
    pooled = (features * mask).sum(1) / mask.sum(1)
    kernel, bias = (to_numpy(w) for w in classifier.output_dense.weights)
    np.testing.assert_allclose(
        to_numpy(classifier(inputs)), pooled @ kernel + bias, atol=1e-5
    )


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_fit_lowers_the_loss_on_raw_strings(source):
    classifier = tiny_classifier()
    classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
    predictions = assert_fit_lowers_the_loss(
        classifier, *source(*error_or_return_texts())
    )
    assert predictions.shape == (32, 2)


def test_string_pairs():
    classifier = tiny_classifier()
    first = np.array(["a value", "a file"])
    second = np.array(["an error", "a list"])
    pairs = tf.data.Dataset.from_tensor_slices(((first, second), [1, 0])).batch(2)
    classifier.fit(pairs, epochs=1, verbose=0)
    assert classifier.predict((first, second), verbose=0).shape == (2, 2)


def test_preprocessor_packs_token_ids_and_padding_mask_only():
    packed = tiny_classifier().preprocessor(["a value", "an error"])
    assert set(packed) == {"token_ids", "padding_mask"}
    assert tuple(packed["token_ids"].shape) == (2, 32)


def test_non_string_text_raises():
    with pytest.raises(ValueError, match="expects text.*int"):
        tiny_classifier().predict(np.array([[1, 2, 3]]), verbose=0)


def test_config_round_trip():
    classifier = tiny_classifier(activation="softmax", dropout=0.1)
    assert_config_round_trip(classifier)
