"""Features from a preset have the shapes README.md's "Features" documents."""

import keras
import numpy as np

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPImageConverter
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifierPreprocessor


def preset_images():
    converter = GMLPImageConverter.from_preset("gmlp_tiny_image_test")
    return converter(np.random.randint(0, 256, (2, 48, 40, 3), "uint8"))


def test_image_features_per_patch_pooled_and_per_block():
    backbone = GMLPBackbone.from_preset("gmlp_tiny_image_test")
    images = preset_images()
    patches = (32 // 8) * (32 // 8)
    patch_features = backbone(images)
    assert patch_features.shape == (2, patches, 16)
    assert keras.ops.mean(patch_features, axis=1).shape == (2, 16)
    for name in ("block_0", "block_1"):
        block = keras.Model(backbone.input, backbone.get_layer(name).output)
        assert block(images).shape == (2, patches, 16)


def test_text_features_per_token_and_per_block():
    preprocessor = GMLPTextClassifierPreprocessor.from_preset("amlp_tiny_text_test")
    backbone = GMLPTextBackbone.from_preset("amlp_tiny_text_test")
    inputs = preprocessor(["a short text", "and another one"])
    assert backbone(inputs).shape == (2, 32, 16)
    block = keras.Model(backbone.input, backbone.get_layer("block_1").output)
    assert block(inputs).shape == (2, 32, 16)
