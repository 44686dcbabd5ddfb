"""Presets and `.keras` files saved before the core redesign load, on every
backend, and give the outputs they gave then (tests/data/saved_before_redesign,
made by its make.py)."""

import pathlib

import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPTextBackbone
from tests.helpers import to_numpy

SAVED = pathlib.Path(__file__).parents[1] / "data" / "saved_before_redesign"
OUTPUTS = dict(np.load(SAVED / "outputs.npz"))
TEXT_INPUTS = {
    "token_ids": OUTPUTS["text_token_ids"],
    "padding_mask": OUTPUTS["text_padding_mask"],
}


def assert_outputs(model, inputs, name):
    np.testing.assert_allclose(to_numpy(model(inputs)), OUTPUTS[name], atol=1e-4)


def test_image_classifier_preset_loads():
    classifier = GMLPImageClassifier.from_preset(str(SAVED / "image_classifier"))
    assert_outputs(classifier, OUTPUTS["images"], "image_classifier")


def test_causal_lm_preset_loads():
    causal_lm = GMLPCausalLM.from_preset(str(SAVED / "causal_lm"))
    assert_outputs(causal_lm, TEXT_INPUTS, "causal_lm")


def test_text_backbone_preset_loads():
    backbone = GMLPTextBackbone.from_preset(str(SAVED / "text_backbone"))
    assert_outputs(backbone, TEXT_INPUTS, "text_backbone")


@pytest.mark.parametrize(
    "filename, inputs, name",
    [
        ("image_classifier.keras", "images", "image_classifier"),
        ("layers.keras", "sequences", "layers"),
    ],
)
def test_keras_file_loads(filename, inputs, name):
    model = keras.saving.load_model(SAVED / filename)
    assert_outputs(model, OUTPUTS[inputs], name)
