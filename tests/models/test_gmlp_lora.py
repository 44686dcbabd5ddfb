"""LoRA on both backbones: only the factors train, and they save and load."""

import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPTextBackbone
from tests.helpers import to_numpy

LORA_FACTORS = ("lora_kernel_a", "lora_kernel_b")


def lora_classifier(rank=4):
    keras.utils.set_random_seed(0)
    classifier = GMLPClassifier.from_preset("gmlp_tiny_image_test", num_classes=4)
    classifier.backbone.enable_lora(rank)
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2))
    images = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), "uint8")
    return classifier, images, np.arange(16) % 4


@pytest.mark.parametrize(
    "load, preset, targets",
    [
        (GMLPBackbone.from_preset, "gmlp_tiny_image_test", {"proj_in", "proj_out"}),
        (
            GMLPTextBackbone.from_preset,
            "amlp_tiny_text_test",  # aMLP: the tiny attention's projections too
            {"proj_in", "proj_out", "query_key_value_dense", "output_dense"},
        ),
    ],
)
def test_only_the_lora_factors_of_the_projections_train(load, preset, targets):
    backbone = load(preset)
    backbone.enable_lora(2)
    trainable = backbone.trainable_weights
    assert trainable and all(v.path.endswith(LORA_FACTORS) for v in trainable)
    layers = {v.path.split("/")[-2] for v in trainable}
    assert layers == targets
    per_block = {v.path.split("/")[0] for v in trainable}
    assert per_block == {f"block_{index}" for index in range(backbone.num_layers)}


def test_fit_lowers_the_loss_and_leaves_the_frozen_weights_alone():
    classifier, images, labels = lora_classifier()
    frozen = {
        v.path: to_numpy(v)
        for v in classifier.backbone.weights
        if not v.path.endswith(LORA_FACTORS)
    }
    before = classifier.evaluate(images, labels, verbose=0, return_dict=True)["loss"]
    classifier.fit(images, labels, batch_size=8, epochs=8, verbose=0)
    after = classifier.evaluate(images, labels, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before
    for variable in classifier.backbone.weights:
        if variable.path in frozen:
            np.testing.assert_array_equal(to_numpy(variable), frozen[variable.path])


def test_lora_weights_round_trip(tmp_path):
    classifier, images, labels = lora_classifier()
    classifier.fit(images, labels, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "adapter.lora.h5")
    classifier.backbone.save_lora_weights(path)
    backbone = GMLPBackbone.from_preset("gmlp_tiny_image_test")
    backbone.load_lora_weights(path)
    inputs = np.random.default_rng(1).uniform(size=(2, 32, 32, 3))
    np.testing.assert_allclose(
        to_numpy(backbone(inputs)), to_numpy(classifier.backbone(inputs)), atol=1e-6
    )


def test_a_preset_saved_after_lora_training_loads(tmp_path):
    classifier, images, labels = lora_classifier()
    classifier.fit(images, labels, batch_size=8, epochs=2, verbose=0)
    classifier.save_to_preset(tmp_path / "preset")
    restored = GMLPImageClassifier.from_preset(str(tmp_path / "preset"))
    np.testing.assert_allclose(
        restored.predict(images, verbose=0),
        classifier.predict(images, verbose=0),
        atol=1e-5,
    )
