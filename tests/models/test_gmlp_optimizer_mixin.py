"""Every task builds its optimizer before `fit` traces its train step."""

import numpy as np
import pytest

from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models.gmlp_optimizer_mixin import GMLPOptimizerMixin


@pytest.mark.parametrize(
    "task_cls",
    [GMLPImageClassifier, GMLPTextClassifier, GMLPMaskedLM, GMLPCausalLM],
    ids=lambda cls: cls.__name__,
)
def test_every_task_builds_its_optimizer_before_fit(task_cls):
    assert issubclass(task_cls, GMLPOptimizerMixin)


@pytest.mark.parametrize("method", ["fit", "train_on_batch"])
def test_the_train_step_is_traced_once_with_the_optimizer_built(method):
    classifier = GMLPClassifier.from_preset("gmlp_tiny_image_test", num_classes=2)
    optimizer_built = []  # at each call: each trace, or each eager step
    train_step = classifier.train_step

    def recording_train_step(*args):  # JAX's takes the state before the data
        optimizer_built.append(classifier.optimizer.built)
        return train_step(*args)

    classifier.train_step = recording_train_step
    images, labels = np.zeros((4, 48, 48, 3), "uint8"), np.arange(4) % 2
    if method == "fit":
        classifier.fit(images, labels, batch_size=4, verbose=0)
    else:
        classifier.train_on_batch(images, labels)
    # Unbuilt, TensorFlow traced the step twice, first with it unbuilt.
    assert optimizer_built == [True]


@pytest.mark.parametrize("method", ["fit", "train_on_batch"])
def test_an_uncompiled_task_gets_keras_own_error(method):
    classifier = GMLPClassifier.from_preset(
        "gmlp_tiny_image_test", num_classes=2, compile=False
    )
    images, labels = np.zeros((4, 48, 48, 3), "uint8"), np.arange(4) % 2
    with pytest.raises(ValueError, match=r"You must call `compile\(\)`"):
        getattr(classifier, method)(images, labels)
