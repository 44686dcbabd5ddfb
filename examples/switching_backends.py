"""
Title: One model, three backends: JAX, TensorFlow and PyTorch
Author: keras_gmlp contributors
Date created: 2026/11/24
Last modified: 2026/11/24
Description: Train one gMLP on each backend, time it, and move models between them.
"""

"""
## Introduction

keras_gmlp is written with `keras.ops` only, so every model runs unchanged
on JAX, TensorFlow and PyTorch. Keras picks its backend once per process,
when it is first imported, from the `KERAS_BACKEND` environment variable.
Switching is one line before `import keras`:

```python
os.environ["KERAS_BACKEND"] = "torch"  # or "jax", "tensorflow"
```

To compare the three, this tutorial runs the same training job once per
backend, each in its own Python process: `keras-gmlp train`, which trains a
small gMLP on the handwritten digits that ship with keras_gmlp, evaluates it
on held-out digits and saves a preset. Then it loads the preset each backend
saved into this process, whatever its backend, and checks they all agree.
Colab has all three backends installed; elsewhere, install keras_gmlp with
the `all` extra: `pip install -e ".[all]"` in a clone of the repository, or
the first cell's command with `[all]` for `[visualize]`.
"""

"""
## Setup

This process's own backend is set here, before Keras is imported (an
already set `KERAS_BACKEND` wins). `KERAS_GMLP_SMOKE=1` runs a tiny version
on this backend only, as the tests do.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
SMOKE = os.environ.get("KERAS_GMLP_SMOKE") == "1"

import json
import pathlib
import subprocess
import sys
import time

import keras
import numpy as np

import keras_gmlp
from keras_gmlp.data import load_digits

print("backend:", keras.backend.backend())

"""
## The same job on each backend

`--backend` sets `KERAS_BACKEND` for the command. Each run writes its preset
with a `metrics.json`: held-out accuracy and loss, and the seconds spent
training (the first epoch includes compiling the model). We also time the
whole command, Python start-up, imports and saving included.
"""

BACKENDS = [keras.backend.backend()] if SMOKE else ["jax", "tensorflow", "torch"]
# The smoke run trains one epoch on 64 digits (`--limit` is for quick trials).
JOB = ["--epochs", "1", "--limit", "64"] if SMOKE else ["--epochs", "10"]


def train_on(backend):
    """Runs `keras-gmlp train` on `backend`; returns its metrics."""
    output = pathlib.Path(f"digits_{backend}")
    command = [sys.executable, "-m", "keras_gmlp", "--backend", backend, "train"]
    start = time.perf_counter()
    subprocess.run(
        [*command, *JOB, "--output", str(output)],
        check=True,
        stdout=subprocess.DEVNULL,  # Keras' progress bars
    )
    metrics = json.loads((output / "metrics.json").read_text())
    metrics["wall seconds"] = time.perf_counter() - start
    metrics["preset"] = str(output)
    return metrics


results = {backend: train_on(backend) for backend in BACKENDS}
print(f"{'backend':12} {'accuracy':>8} {'training s':>10} {'command s':>9}")
for backend, metrics in results.items():
    print(
        f"{backend:12} {metrics['accuracy']:8.4f} {metrics['seconds']:10.1f} "
        f"{metrics['wall seconds']:9.1f}"
    )

"""
The accuracies differ a little: each backend draws its own random numbers
from the same seed, so the initial weights and dropout masks differ.
Timings on a small CPU model say more about start-up and compilation than
about speed at scale; the package's README has throughput measurements.

## A model moves between backends

A preset holds weights and configuration, not backend code, so the preset
each backend wrote loads into this process as it is.
"""

images, _ = load_digits()
predictions = {}
for backend, metrics in results.items():
    classifier = keras_gmlp.GMLPClassifier.from_preset(metrics["preset"])
    predictions[backend] = classifier.predict(images[:256], verbose=0).argmax(-1)
    print(f"trained on {backend}, predicting on {keras.backend.backend()}: done")

"""
The models were trained separately, so they are different models, but they
learned the same digits: most of their predictions agree.
"""

reference = predictions[BACKENDS[0]]
for backend, predicted in predictions.items():
    agreement = np.mean(predicted == reference)
    print(f"{backend:12} agrees with {BACKENDS[0]} on {agreement:.1%} of the digits")

"""
## What next

- The same switch works for every tutorial here: change the
  `os.environ.setdefault("KERAS_BACKEND", ...)` line at the top, or set
  `KERAS_BACKEND` before starting Python.
- `keras-gmlp --backend torch predict digits_jax digit.png` runs a model
  that JAX trained on PyTorch, from the command line.
"""
