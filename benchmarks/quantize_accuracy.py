"""Held-out accuracy of a digits classifier before and after int8
quantisation (`model.quantize("int8")`).

    KERAS_BACKEND=jax keras-gmlp train --output digits_gmlp
    KERAS_BACKEND=jax python benchmarks/quantize_accuracy.py digits_gmlp

The classifier is one that `keras-gmlp train` wrote (by default its small
gMLP on the 8x8 digits that ship with keras_gmlp); the held-out digits are
the ones `train` held out, given the same `--seed` and `--validation-split`.
Prints the accuracy, the logits' largest change and how many predictions
changed, as JSON.
"""

import argparse
import json

import numpy as np

import keras_gmlp


def held_out_digits(seed, validation_split):
    from keras_gmlp.cli_data import split_indices
    from keras_gmlp.data import load_digits

    images, labels = load_digits()
    _, held_out = split_indices(labels, validation_split, seed)
    return images[held_out], labels[held_out]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset", help="a directory `keras-gmlp train` wrote")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-split", type=float, default=0.2)
    args = parser.parse_args()

    import keras

    from keras_gmlp.cli import load_trained

    classifier, _ = load_trained(args.preset)
    images, labels = held_out_digits(args.seed, args.validation_split)
    logits = {"float32": classifier.predict(images, verbose=0)}
    classifier.quantize("int8")
    logits["int8"] = classifier.predict(images, verbose=0)
    logits = {name: keras.ops.convert_to_numpy(x) for name, x in logits.items()}
    predictions = {name: x.argmax(-1) for name, x in logits.items()}
    result = {
        "backend": keras.backend.backend(),
        "held_out_examples": len(labels),
        **{
            f"{name}_accuracy": float(np.mean(predicted == labels))
            for name, predicted in predictions.items()
        },
        "changed_predictions": int(
            np.sum(predictions["int8"] != predictions["float32"])
        ),
        "max_logit_change": float(np.max(np.abs(logits["int8"] - logits["float32"]))),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
