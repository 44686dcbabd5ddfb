"""
Title: What gMLP learns: the spatial weights of its gating units
Author: keras_gmlp contributors
Date created: 2026/11/24
Last modified: 2026/11/24
Description: Train a small vision gMLP on digits and plot its learned filters W.
"""

"""
## Introduction

A gMLP block mixes information across tokens in one place only: the Spatial
Gating Unit computes `u * (W v + b)`, where `W` is a learned `n x n` matrix
over the `n` tokens. For an image model, row `i` of `W`, reshaped to the
patch grid, is the *spatial filter* of token `i`: how much every other patch
feeds the gate of patch `i`.

`W` starts near zero, so an untrained block sees no other token at all.
Figure 4 of "Pay Attention to MLPs" shows what ImageNet training makes of it:
local filters, a small blob around each token, of the same shape wherever the
token sits. Nothing in the architecture says that images are local and
shift-invariant; the model learns it from the data.

We can watch this happen in a minute on a CPU. A small gMLP learns to fill
in hidden pixels of the 8x8 handwritten digits that ship with keras_gmlp,
the image counterpart of BERT's masked-language-model task, with every pixel
a token. A hidden pixel is best guessed from its neighbours, so that is what
`W` should learn to look at. We plot `W` with
`keras_gmlp.visualize.plot_spatial_weights` and measure how local it became.
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
from keras_gmlp.data import load_digits
from keras_gmlp.visualize import plot_spatial_weights
from keras_gmlp.visualize import spatial_gating_units

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend())

"""
## The data

1797 grey 8x8 digits (scikit-learn's copy of UCI optdigits), scaled to
[0, 1]. Each training example hides a random half of the pixels: the input
has two channels, the pixel's value (0 where hidden) and a flag saying
whether it is hidden, and the target is every pixel's true value.
"""

digits = load_digits()[0][..., 0].astype("float32") / 255.0
if SMOKE:
    digits = digits[:128]
SIDE = digits.shape[1]
rng = np.random.default_rng(0)


def hide_pixels(images):
    """Inputs with a random half of the pixels hidden, targets, and weights
    that count the loss on the hidden pixels only."""
    hidden = rng.random(images.shape) < 0.5
    inputs = np.stack([np.where(hidden, 0.0, images), hidden], axis=-1)
    targets = images.reshape(len(images), -1, 1)
    return inputs.astype("float32"), targets, hidden.reshape(len(images), -1)


"""
## The model

`GMLPBackbone` with `patch_size=1` makes each pixel a token: 64 tokens on an
8x8 grid, so each `W` is 64 x 64 and each filter an 8x8 picture. A `Dense`
layer reads each token's features out as that pixel's value.
"""

backbone = keras_gmlp.models.GMLPBackbone(
    num_layers=2 if SMOKE else 4,
    hidden_dim=16 if SMOKE else 64,
    intermediate_dim=64 if SMOKE else 256,
    image_shape=(SIDE, SIDE, 2),
    patch_size=1,
)
inputs = keras.Input((SIDE, SIDE, 2))
model = keras.Model(inputs, keras.layers.Dense(1)(backbone(inputs)))
model.compile(optimizer=keras.optimizers.AdamW(2e-3), loss="mse")
untrained_weights = backbone.get_weights()

"""
## Training

Every epoch hides a fresh random half of each digit's pixels.
"""

EPOCHS = 1 if SMOKE else 40
for epoch in range(EPOCHS):
    masked, targets, hidden = hide_pixels(digits)
    history = model.fit(
        masked, targets, sample_weight=hidden, batch_size=64, epochs=1, verbose=0
    )
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch + 1}: loss {history.history['loss'][0]:.4f}")

"""
## The learned filters

One row per gating unit, one column per token of a 3x3 lattice across the
grid; each panel is that token's row of `W` on the 8x8 grid, with the token
marked `+`. Red is positive, blue negative, each panel on its own scale.
"""

figure = plot_spatial_weights(backbone, path="spatial_weights.png")
print("wrote spatial_weights.png")
figure

"""
In the first and last units the filters are small crosses around their
token, the same shape at every position: local and shift-invariant, as in
the paper. The middle units spread wide, collecting context from the whole
digit.

## How local is W?

Put a number on the picture: the share of each filter's absolute weight on
its token and the 8 pixels around it, averaged over tokens. A filter blind
to position would put 9 / 64, about 14%, of its weight there (less at the
borders). The untrained `W` is random noise, so it starts near that.
"""

rows, columns = np.divmod(np.arange(SIDE * SIDE), SIDE)
near = (np.abs(rows[:, None] - rows[None, :]) <= 1) & (
    np.abs(columns[:, None] - columns[None, :]) <= 1
)


def locality(backbone):
    """Per gating unit: the share of |W| next to each filter's token."""
    shares = []
    for unit in spatial_gating_units(backbone):
        w = np.abs(keras.ops.convert_to_numpy(unit.spatial_matrix())[0])
        shares.append(float(np.mean((w * near).sum(1) / w.sum(1))))
    return shares


trained_weights = backbone.get_weights()
trained = locality(backbone)
backbone.set_weights(untrained_weights)
untrained = locality(backbone)
backbone.set_weights(trained_weights)
for index, (start, end) in enumerate(zip(untrained, trained, strict=True)):
    print(f"unit {index}: {start:.0%} of |W| next to the token before, {end:.0%} after")

"""
## What next

- `plot_spatial_weights(text_backbone)` draws each unit's whole `n x n`
  matrix for a text model: a band along the diagonal where it learned
  locality, lower-triangular for a causal model.
- `GMLPTextBackbone(spatial_weights="toeplitz")` builds shift invariance in:
  `W[i, j]` depends on `i - j` only, `2n - 1` parameters instead of `n^2`.
"""
