"""Trains a gMLP classifier on the digits with `keras.distribution` on JAX:
data parallel, or with `--model-parallel N` on a mesh of
`(devices / N, N)` whose weights `GMLPBackbone.get_layout_map` shards.

One host, all its devices (on a CPU, eight pretended ones):

    XLA_FLAGS=--xla_force_host_platform_device_count=8 \\
        python examples/distributed/jax_multi_host.py --model-parallel 4

Several hosts: the same command on every host, each with its own
`--process-id` (on Cloud TPU VMs and under SLURM, `--initialize` alone
does, as JAX finds the cluster itself):

    python examples/distributed/jax_multi_host.py --model-parallel 4 \\
        --coordinator 10.0.0.1:1234 --num-processes 2 --process-id 0

`keras.distribution.initialize` connects the processes; from then on
`list_devices()` lists every host's devices, and `fit` gives each process
its share of the global batch of the `tf.data.Dataset`. The model and its
preprocessing are `keras-gmlp train`'s default ones.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"

import argparse

import keras
import tensorflow as tf

from keras_gmlp.cli import small_image_classifier
from keras_gmlp.cli_data import split_indices
from keras_gmlp.data import load_digits
from keras_gmlp.models import GMLPBackbone


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-parallel", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64, help="global")
    parser.add_argument("--initialize", action="store_true")
    parser.add_argument("--coordinator", help="host:port of process 0")
    parser.add_argument("--num-processes", type=int)
    parser.add_argument("--process-id", type=int)
    return parser.parse_args()


def distribution(model_parallel):
    devices = keras.distribution.list_devices()
    if model_parallel == 1:
        return keras.distribution.DataParallel(devices=devices)
    mesh = keras.distribution.DeviceMesh(
        (len(devices) // model_parallel, model_parallel), ("batch", "model"), devices
    )
    return keras.distribution.ModelParallel(
        layout_map=GMLPBackbone.get_layout_map(mesh), batch_dim_name="batch"
    )


def digits(indices, batch_size):
    images, labels = load_digits()
    dataset = tf.data.Dataset.from_tensor_slices((images[indices], labels[indices]))
    # Whole batches only: a batch must split evenly over the batch axis.
    return dataset.shuffle(len(indices), seed=0).batch(batch_size, drop_remainder=True)


def main():
    args = parse_args()
    if args.initialize or args.coordinator:
        keras.distribution.initialize(
            args.coordinator, args.num_processes, args.process_id
        )
    keras.distribution.set_distribution(distribution(args.model_parallel))
    keras.utils.set_random_seed(0)  # the same initial weights everywhere
    classifier = small_image_classifier(num_classes=10)
    classifier.compile(
        optimizer=keras.optimizers.AdamW(2e-3),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    train, held_out = split_indices(load_digits()[1], 0.2, seed=0)
    classifier.fit(digits(train, args.batch_size), epochs=args.epochs, verbose=2)
    print(classifier.evaluate(digits(held_out, args.batch_size), return_dict=True))


if __name__ == "__main__":
    main()
