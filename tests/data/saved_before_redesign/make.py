"""Writes the presets and `.keras` files that main saved before the core
redesign (commit ccf2a0b), with the outputs they gave then.

    KERAS_BACKEND=jax python tests/data/saved_before_redesign/make.py

Run once, at that commit: the files test that today's code loads what
earlier versions saved (tests/models/test_saved_before_redesign.py). Every
weight is random, so that no spatial weight hides at its near-zero start.
"""

import pathlib
import shutil

import keras
import numpy as np

import keras_gmlp
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPCausalLMPreprocessor
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPTextBackbone

HERE = pathlib.Path(__file__).parent
TEXT = {
    "vocabulary_size": 1006,
    "num_layers": 2,
    "hidden_dim": 16,
    "intermediate_dim": 64,
    "max_sequence_length": 32,
}


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(0.3 * rng.normal(size=variable.shape))
    return model


def text_inputs():
    rng = np.random.default_rng(1)
    token_ids = rng.integers(4, 1006, size=(2, 12)).astype("int32")
    padding_mask = np.ones((2, 12), "int32")
    padding_mask[1, 9:] = 0
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def main():
    keras.utils.set_random_seed(0)
    outputs = {}
    images = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    classifier = GMLPImageClassifier.from_preset("gmlp_tiny_image_test", num_classes=3)
    randomize(classifier, seed=0)
    classifier.save_to_preset(str(HERE / "image_classifier"))
    classifier.save(HERE / "image_classifier.keras")
    outputs["images"] = images
    outputs["image_classifier"] = keras.ops.convert_to_numpy(classifier(images))

    backbone = GMLPTextBackbone(
        causal=True, spatial_weights="toeplitz", heads=2, attention_dim=4, **TEXT
    )
    preprocessor = GMLPCausalLMPreprocessor.from_preset("gmlp_tiny_causal_lm_test")
    causal_lm = randomize(GMLPCausalLM(backbone, preprocessor), seed=1)
    causal_lm.save_to_preset(str(HERE / "causal_lm"))
    tokens = text_inputs()
    outputs.update({f"text_{k}": v for k, v in tokens.items()})
    outputs["causal_lm"] = keras.ops.convert_to_numpy(causal_lm(tokens))

    dense = randomize(GMLPTextBackbone(heads=2, attention_dim=4, **TEXT), seed=2)
    dense.save_to_preset(str(HERE / "text_backbone"))
    outputs["text_backbone"] = keras.ops.convert_to_numpy(dense(tokens))

    # Layers on their own, whose configs held `token_major`.
    inputs = keras.Input((8, 16))
    x = keras_gmlp.layers.GMLPBlock(64, causal=True, heads=2, attention_dim=4)(inputs)
    x = keras_gmlp.layers.SpatialGatingUnit(spatial_weights="toeplitz", heads=2)(x)
    layers = randomize(keras.Model(inputs, x), seed=3)
    layers.save(HERE / "layers.keras")
    sequences = np.random.default_rng(2).normal(size=(2, 8, 16)).astype("float32")
    outputs["sequences"] = sequences
    outputs["layers"] = keras.ops.convert_to_numpy(layers(sequences))
    np.savez(HERE / "outputs.npz", **outputs)


if __name__ == "__main__":
    for path in HERE.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
    main()
