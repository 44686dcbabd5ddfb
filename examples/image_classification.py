"""
Title: Image classification: fine-tuning timm's ImageNet gMLP-S
Author: keras_gmlp contributors
Date created: 2026/11/24
Last modified: 2026/11/24
Description: Fine-tune the ImageNet gMLP-S on handwritten digits, head first, then all.
"""

"""
## Introduction

The only published gMLP weights are timm's `gmlp_s16_224.ra3_in1k`: gMLP-S,
19M parameters, 79.65% ImageNet-1k top-1. keras_gmlp loads them on every
backend as the preset `gmlp_s16_224_imagenet`, with timm's preprocessing
(224x224, bicubic resize and center crop, mean and std 0.5).

We fine-tune it on the 8x8 handwritten digits that ship with keras_gmlp, the
usual two-step way: first the new 10-class head alone on the frozen
backbone, then every weight with a small learning rate.

The first run downloads the checkpoint (about 80 MB) from the Hugging Face
hub and caches it. Without network the tutorial runs the same steps on
`gmlp_tiny_image_test`, a tiny preset that ships inside the package, so that
it still runs end to end (that model starts from random weights, not
ImageNet, and learns much less from a few epochs).
"""

"""
## Setup

The backend is set before Keras is imported. Switching is this one line:
`"jax"`, `"tensorflow"` or `"torch"` (an already set `KERAS_BACKEND` wins).
`KERAS_GMLP_SMOKE=1` runs a tiny version offline in seconds, as the tests do.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
SMOKE = os.environ.get("KERAS_GMLP_SMOKE") == "1"

import socket

import keras
import numpy as np

import keras_gmlp
from keras_gmlp.data import load_digits

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend())


def hub_reachable():
    """Whether the Hugging Face hub answers, so that the weights download."""
    try:
        socket.create_connection(("huggingface.co", 443), timeout=5).close()
    except OSError:
        return False
    return True


PRETRAINED = not SMOKE and hub_reachable()
# The preset, the number of training digits, and the epochs of each step.
if PRETRAINED:
    # gMLP-S runs at 224x224: a few hundred digits keep a CPU run short.
    PRESET, TRAIN_SIZE, HEAD_EPOCHS, EPOCHS = "gmlp_s16_224_imagenet", 500, 2, 1
elif SMOKE:
    PRESET, TRAIN_SIZE, HEAD_EPOCHS, EPOCHS = "gmlp_tiny_image_test", 64, 1, 1
else:
    PRESET, TRAIN_SIZE, HEAD_EPOCHS, EPOCHS = "gmlp_tiny_image_test", 1438, 5, 20
print("preset:", PRESET)

"""
## The data

1797 digits as RGB uint8 images of 8x8 pixels. The preset's preprocessor
resizes them to the model's input size, so they go in as they are. The last
359 digits of a fixed shuffle are held out for testing.
"""

images, labels = load_digits()
order = np.random.default_rng(0).permutation(len(labels))
train, test = order[:TRAIN_SIZE], order[-359:]
if SMOKE:
    test = test[:32]
print(f"{len(train)} training and {len(test)} test digits")

"""
## The model

`GMLPClassifier.from_preset` returns a `GMLPImageClassifier` with the
preset's backbone and preprocessing; `num_classes=10` replaces ImageNet's
1000-class head with a new one.
"""

classifier = keras_gmlp.GMLPClassifier.from_preset(PRESET, num_classes=10)
classifier.summary()

"""
## Step 1: the head alone

With the backbone frozen, only the new head learns, so the pretrained
features are not disturbed by the large gradients of a random head.
"""

classifier.backbone.trainable = False
classifier.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
classifier.fit(
    images[train], labels[train], batch_size=32, epochs=HEAD_EPOCHS, verbose=2
)
_, head_accuracy = classifier.evaluate(images[test], labels[test], verbose=0)
print(f"head only: test accuracy {head_accuracy:.4f}")

"""
## Step 2: every weight

Now the whole model trains, with a learning rate ten times smaller.
"""

classifier.backbone.trainable = True
classifier.compile(optimizer=keras.optimizers.AdamW(1e-4), metrics=["accuracy"])
classifier.fit(images[train], labels[train], batch_size=32, epochs=EPOCHS, verbose=2)
_, accuracy = classifier.evaluate(images[test], labels[test], verbose=0)
print(f"fine-tuned: test accuracy {accuracy:.4f}")

"""
## Predict, save, load

`predict` takes raw images too. The saved preset loads back on any backend,
with its preprocessing.
"""

logits = classifier.predict(images[test[:8]], verbose=0)
print("predicted:", np.argmax(logits, axis=-1), "true:", labels[test[:8]])
# A fresh compile drops the optimizer's state, which a preset need not keep.
classifier.compile(metrics=["accuracy"])
classifier.save_to_preset("digits_gmlp")
restored = keras_gmlp.GMLPClassifier.from_preset("digits_gmlp")
np.testing.assert_allclose(
    restored.predict(images[test[:8]], verbose=0), logits, atol=1e-4
)

"""
## What next

- `keras-gmlp train --preset gmlp_s16_224_imagenet --data photos/
  --learning-rate 1e-4` does the same from the command line, for a folder of
  images with one sub-folder per class.
- `keras-gmlp convert hf://timm/gmlp_s16_224.ra3_in1k gmlp_s16/` writes an
  offline copy of the ImageNet model.
"""
