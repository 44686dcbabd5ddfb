"""
Title: Text classification with GMLPTextClassifier
Author: keras_gmlp contributors
Date created: 2026/11/24
Last modified: 2026/11/24
Description: Tell which standard-library package a docstring comes from, with a gMLP.
"""

"""
## Introduction

`GMLPTextClassifier` puts a classification head on a `GMLPTextBackbone`:
the gMLP blocks mix tokens with their spatial gating units, the head
averages the real (non-padded) tokens and applies a `Dense` layer. Its
preprocessor tokenizes raw strings, so `fit` and `predict` take text.

The task needs real text and no download: the docstrings of the Python
standard library that runs this notebook. Each docstring is labelled with
the package it comes from, `asyncio`, `email`, `logging` or `xml`, and the
model learns to tell them apart.
"""

"""
## Setup

The backend is set before Keras is imported. Switching is this one line:
`"jax"`, `"tensorflow"` or `"torch"` (an already set `KERAS_BACKEND` wins).
`KERAS_GMLP_SMOKE=1` runs a tiny version in seconds, as the tests do.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
SMOKE = os.environ.get("KERAS_GMLP_SMOKE") == "1"


import keras
import numpy as np

import keras_gmlp
from keras_gmlp.data.standard_library import standard_library_docstrings

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend())

"""
## The data

Every module, class and function docstring of four packages of the standard
library, read from its source files by `standard_library_docstrings`.
"""

PACKAGES = ("asyncio", "email", "logging", "xml")

texts, labels = [], []
for label, package in enumerate(PACKAGES):
    package_texts = standard_library_docstrings(f"{package}/**/*.py")
    texts += package_texts
    labels += [label] * len(package_texts)
    print(f"{package}: {len(package_texts)} docstrings")
texts, labels = np.array(texts), np.array(labels)
order = np.random.default_rng(0).permutation(len(labels))
if SMOKE:
    order = order[:64]
split = len(order) * 4 // 5
train, test = order[:split], order[split:]
print(texts[train[0]][:200], "->", PACKAGES[labels[train[0]]])

"""
## The model

The tokenizer is the WordPiece vocabulary of the `gmlp_base_en` preset,
which ships inside the package (it was learned from standard-library
docstrings too). The backbone is small and new: four gMLP blocks over the
first 128 tokens of each docstring.
"""

SEQUENCE_LENGTH = 32 if SMOKE else 128
tokenizer = keras_gmlp.models.GMLPTokenizer.from_preset("gmlp_base_en")
preprocessor = keras_gmlp.models.GMLPTextClassifierPreprocessor(
    tokenizer, sequence_length=SEQUENCE_LENGTH
)
backbone = keras_gmlp.models.GMLPTextBackbone(
    vocabulary_size=tokenizer.vocabulary_size(),
    num_layers=1 if SMOKE else 4,
    hidden_dim=16 if SMOKE else 64,
    intermediate_dim=64 if SMOKE else 256,
    max_sequence_length=SEQUENCE_LENGTH,
)
classifier = keras_gmlp.models.GMLPTextClassifier(
    backbone, num_classes=len(PACKAGES), preprocessor=preprocessor, dropout=0.1
)
print(preprocessor(["Return the event loop."])["token_ids"][0, :8])

"""
## Training

`fit` takes the strings and integer labels.
"""

EPOCHS = 1 if SMOKE else 8
classifier.compile(optimizer=keras.optimizers.AdamW(1e-3), metrics=["accuracy"])
classifier.fit(
    texts[train],
    labels[train],
    validation_data=(texts[test], labels[test]),
    batch_size=32,
    epochs=EPOCHS,
    verbose=2,
)
loss, accuracy = classifier.evaluate(texts[test], labels[test], verbose=0)
# Always guessing the largest package would score this much.
chance = np.bincount(labels[test]).max() / len(test)
print(f"test accuracy {accuracy:.4f}, always guessing one package {chance:.4f}")

"""
## Predictions

`predict` gives logits for raw strings.
"""

examples = [
    "Schedule the coroutine and wait for the future to complete.",
    "Return the MIME type of the message payload and its charset.",
    "Emit a record to the handler, formatting it first.",
    "Parse the element tree and return its root node.",
]
for text, logits in zip(examples, classifier.predict(examples, verbose=0), strict=True):
    print(f"{PACKAGES[int(np.argmax(logits))]:8} <- {text}")

"""
## What next

- Masked-LM pretraining on unlabelled text, then this classifier on top of
  the pretrained backbone: `masked_lm_pretraining.py`.
- `attention_dim=64` turns the backbone into aMLP, which adds a tiny
  single-head attention to each gate.
- `keras-gmlp train --data reviews.csv` trains a text classifier from a CSV
  file with no code.
"""
