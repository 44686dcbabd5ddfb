"""Accuracy of a digits classifier loaded at other image sizes, with no
further training (`from_preset(..., image_shape=...)`).

    KERAS_BACKEND=jax keras-gmlp train --output digits_gmlp
    KERAS_BACKEND=jax python benchmarks/resolution.py digits_gmlp --sizes 16 24 32

The classifier is one that `keras-gmlp train` wrote (by default its small
gMLP on the 8x8 digits, upsampled to 16x16, in 2x2 patches). Each size
loads it with its spatial weights resized over the patch grid and its image
converter following, then classifies all 1797 digits. Prints the accuracy
at each size and its ratio to the native size's, as JSON, and writes it to
results/resolution.json.
"""

import argparse
import json
import os

import keras
import numpy as np

import keras_gmlp
from keras_gmlp.cli import load_trained
from keras_gmlp.data import load_digits

RESULTS = os.path.join(os.path.dirname(__file__), "results")


def accuracy_at(preset, size, images, labels):
    classifier = keras_gmlp.GMLPClassifier.from_preset(
        preset, image_shape=(size, size, 3)
    )
    logits = keras.ops.convert_to_numpy(classifier.predict(images, verbose=0))
    return float(np.mean(logits.argmax(-1) == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset", help="a directory `keras-gmlp train` wrote")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 24, 32])
    args = parser.parse_args()

    classifier, _ = load_trained(args.preset)
    native = classifier.backbone.image_shape[0]
    images, labels = load_digits()
    accuracy = {
        size: accuracy_at(args.preset, size, images, labels)
        for size in sorted({native, *args.sizes})
    }
    result = {
        "backend": keras.backend.backend(),
        "examples": len(labels),
        "native_size": native,
        "accuracy": accuracy,
        "ratio_to_native": {
            size: round(value / accuracy[native], 4) for size, value in accuracy.items()
        },
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "resolution.json"), "w") as file:
        json.dump(result, file, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
