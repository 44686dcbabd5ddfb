"""Trains the tiny image classifier with `fit` under a
`tf.distribute.MirroredStrategy` over two logical CPU devices, and prints
what `test_tf_distribution.py` checks, as JSON.

Run in a fresh process with `KERAS_BACKEND=tensorflow`: logical devices must
be configured before TensorFlow initialises its runtime.
"""

import json

import tensorflow as tf

(cpu,) = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gmlp import GMLPClassifier  # noqa: E402


def main():
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(32, 48, 48, 3)).astype("uint8")
    labels = np.arange(32) % 2
    # The classes differ in brightness, so that a few steps can learn them.
    images[labels == 1] //= 4
    with strategy.scope():
        classifier = GMLPClassifier.from_preset("gmlp_tiny_image_test", num_classes=2)
        classifier.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = classifier.fit(images, labels, batch_size=16, epochs=3, verbose=0)
    print(
        json.dumps(
            {
                "replicas": strategy.num_replicas_in_sync,
                "losses": history.history["loss"],
                "variable_types": sorted(
                    {type(v.value).__name__ for v in classifier.trainable_weights}
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
