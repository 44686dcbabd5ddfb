"""Trains the tiny presets on one device, then with `keras.distribution` on
eight, and prints what `test_jax_distribution.py` checks, as JSON.

Run in a fresh process with `KERAS_BACKEND=jax` and
`XLA_FLAGS=--xla_force_host_platform_device_count=8`: JAX reads the flag
once, when it starts.
"""

import json

import jax
import keras
import numpy as np

from keras_gmlp import GMLPClassifier
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPTextBackbone

STEPS = 3
BATCH_SIZE = 16  # divides over the 8 data-parallel devices


def tiny_data(modality):
    rng = np.random.default_rng(0)
    labels = np.arange(BATCH_SIZE) % 3
    if modality == "image":
        images = rng.integers(0, 256, size=(BATCH_SIZE, 48, 48, 3))
        return images.astype("uint8"), labels
    words = np.array(["return", "a", "value", "an", "error", "raise", "list"])
    texts = [" ".join(rng.choice(words, size=6)) for _ in range(BATCH_SIZE)]
    return np.array(texts), labels


def load(preset):
    keras.utils.set_random_seed(0)
    return GMLPClassifier.from_preset(preset, num_classes=3)


def train(preset, initial_weights, layout_map=None):
    """`STEPS` SGD steps on one batch, from `initial_weights`.

    Returns the losses, the final weights, the backbone's weights as loaded
    and, given the `layout_map` in use, each weight's sharding as loaded.
    """
    classifier = load(preset)
    loaded = {
        "backbone_weights": classifier.backbone.get_weights(),
        "shardings": layout_map and shardings(classifier, layout_map),
    }
    classifier.set_weights(initial_weights)
    classifier.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # One batch an epoch: each epoch's loss is one step's.
    history = classifier.fit(
        *tiny_data(classifier.backbone.modality),
        batch_size=BATCH_SIZE,
        epochs=STEPS,
        shuffle=False,
        verbose=0,
    )
    return history.history["loss"], classifier.get_weights(), loaded


def max_difference(first, second):
    return max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(first, second, strict=True)
    )


def shardings(classifier, layout_map):
    """Each weight's sharding, and the layout the map asks for."""
    result = {}
    for variable in classifier.weights:
        layout = layout_map[variable.path]
        result[variable.path] = {
            "spec": list(variable.value.sharding.spec),
            "expected": list(layout.axes) if layout else None,
            "shape": list(variable.shape),
            "shard_shape": list(variable.value.addressable_shards[0].data.shape),
        }
    return result


def compare(preset, backbone_cls):
    """Single-device training against `DataParallel` over 8 devices and
    `ModelParallel` over a 2x4 mesh with the backbone's layout map."""
    reference = load(preset)
    initial_weights = reference.get_weights()
    losses, final_weights, _ = train(preset, initial_weights)
    mesh = keras.distribution.DeviceMesh(
        (2, 4), ("batch", "model"), keras.distribution.list_devices()
    )
    layout_map = backbone_cls.get_layout_map(mesh)
    distributions = {
        "data_parallel": (keras.distribution.DataParallel(), None),
        "model_parallel": (
            keras.distribution.ModelParallel(
                layout_map=layout_map, batch_dim_name="batch"
            ),
            layout_map,
        ),
    }
    results = {"single_device": {"losses": losses}}
    for name, (distribution, layout) in distributions.items():
        with distribution.scope():
            distributed_losses, weights, loaded = train(preset, initial_weights, layout)
        results[name] = {
            "losses": distributed_losses,
            "loss_difference": max_difference(distributed_losses, losses),
            "weight_difference": max_difference(weights, final_weights),
            "loaded_difference": max_difference(
                loaded["backbone_weights"], reference.backbone.get_weights()
            ),
            "shardings": loaded["shardings"],
        }
    return results


def main():
    results = {
        "devices": jax.device_count(),
        "image": compare("gmlp_tiny_image_test", GMLPBackbone),
        "text": compare("amlp_tiny_text_test", GMLPTextBackbone),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
