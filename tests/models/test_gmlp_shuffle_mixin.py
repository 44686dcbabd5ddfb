"""`fit` on arrays sees the samples in a new order each epoch, on every task."""

import warnings

import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models.gmlp_shuffle_mixin import holds_arrays

NUM_SAMPLES = 16
# Texts of 1 to 16 words: a sample's length names it in any batch.
TEXTS = [" ".join(["the"] * (index + 1)) for index in range(NUM_SAMPLES)]


def image_classifier():
    classifier = GMLPClassifier.from_preset(
        "gmlp_tiny_image_test", num_classes=NUM_SAMPLES
    )
    images = np.zeros((NUM_SAMPLES, 32, 32, 3), "uint8")
    return classifier, images, np.arange(NUM_SAMPLES)


def text_classifier():
    classifier = GMLPClassifier.from_preset(
        "amlp_tiny_text_test", num_classes=NUM_SAMPLES
    )
    return classifier, TEXTS, np.arange(NUM_SAMPLES)


def masked_lm():
    return GMLPMaskedLM.from_preset("amlp_tiny_masked_lm_test"), TEXTS, None


def causal_lm():
    return GMLPCausalLM.from_preset("gmlp_tiny_causal_lm_test"), TEXTS, None


TASKS = [image_classifier, text_classifier, masked_lm, causal_lm]


def sample_order(task, x, y, epochs=2, **fit_kwargs):
    """The samples each epoch's steps saw, in order, one list per epoch: the
    labels, or for language models each sample's length."""
    task.compile(optimizer="sgd", loss=task.loss, run_eagerly=True)
    seen = []
    train_step = task.train_step

    def recording_train_step(*args):  # JAX's takes the state before the data
        x, y, _ = keras.utils.unpack_x_y_sample_weight(args[-1])
        if isinstance(x, dict):  # a language model: its samples by length
            names = np.sum(keras.ops.convert_to_numpy(x["padding_mask"]), axis=1)
        else:
            names = keras.ops.convert_to_numpy(y)
        seen.extend(int(name) for name in names)
        return train_step(*args)

    task.train_step = recording_train_step
    task.fit(x, y, batch_size=4, epochs=epochs, verbose=0, **fit_kwargs)
    steps = len(seen) // epochs
    return [seen[epoch * steps : (epoch + 1) * steps] for epoch in range(epochs)]


@pytest.mark.parametrize("make_task", TASKS, ids=lambda make: make.__name__)
def test_fit_on_arrays_sees_a_new_order_each_epoch(make_task):
    keras.utils.set_random_seed(0)
    task, x, y = make_task()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*shuffle=True.*ignored")
        first, second = sample_order(task, x, y)
    assert sorted(first) == sorted(second)
    assert len(set(first)) == NUM_SAMPLES
    assert first != second


@pytest.mark.parametrize(
    "make_task", [image_classifier, causal_lm], ids=lambda make: make.__name__
)
def test_shuffle_false_keeps_the_order(make_task):
    task, x, y = make_task()
    first, second = sample_order(task, x, y, shuffle=False)
    assert first == second
    assert first == sorted(first)


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    keras.utils.set_random_seed(0)
    task, x, y = image_classifier()
    first, second = sample_order(task, x, y, validation_split=0.25)
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != second


def test_a_validation_split_that_leaves_no_samples_is_refused():
    task, x, y = image_classifier()
    with pytest.raises(ValueError, match="leaves no samples"):
        task.fit(x, y, validation_split=0.99, verbose=0)


def test_datasets_and_generators_are_left_to_the_caller():
    assert holds_arrays(np.zeros((2, 3)))
    assert holds_arrays((TEXTS, np.arange(NUM_SAMPLES)))
    assert holds_arrays({"token_ids": np.zeros((2, 3)), "padding_mask": [[1, 1]]})
    assert not holds_arrays(iter([np.zeros((2, 3))]))
    assert not holds_arrays(None)
