"""A loaded gMLP model rebuilt for another input size, its weights carried.

Only the gating units' spatial weights depend on the input size: `W` is
`n x n` over the tokens and `b` has one entry per token. Everything else is
copied unchanged.

- **Images** (`image_shape`): `W` and `b` are resampled over the patch
  grid, as timm resamples a ViT's position embeddings. With `A` the linear
  interpolation from the old grid to the new one and `D` the one back (a
  triangle filter, widened when shrinking so that it averages),
  `W' = A W D` and `b' = A b`. An image upsampled to the new size, whose
  tokens are `A v`, then gets about the gate it got before, upsampled: `W'
  A v = A W (D A) v`, with `D A` a slight blur. Each row of `D` sums to
  one, so a constant `W` keeps its row sums exactly.
- **Text** (`max_sequence_length`): positions are absolute, so nothing is
  resampled. Longer: the learned block of `W` (toeplitz: the learned
  offsets) is kept and the new entries start as a fresh unit's do, at zero
  with `b` one, so new positions begin as a feed-forward network and
  sequences up to the old length give the same outputs. Shorter: the
  leading block, which is what the unit uses on shorter sequences anyway.

The same size returns the model unchanged.
"""

import keras
import numpy as np

from keras_gmlp.layers.patch_embedding import check_patch_multiples


def with_input_size(model, **size):
    """`model`, a gMLP backbone or task, rebuilt for the one new size in
    `size` (`image_shape=...` or `max_sequence_length=...`), its weights
    and its preprocessor following; `model` itself where nothing changes."""
    backbone = getattr(model, "backbone", None) or model
    config = backbone.get_config()
    ((key, value),) = size.items()
    if key not in config:
        raise ValueError(
            f"A {type(backbone).__name__} has no `{key}` to change. Its sizes: "
            f"{[name for name in SIZE_CHECKS if name in config]}"
        )
    value = SIZE_CHECKS[key](value, config)
    if config[key] == value:
        return model
    changed = {key: value}
    resize = resize_over_patch_grid if key == "image_shape" else resize_over_sequence
    new_backbone = type(backbone).from_config({**config, **changed})
    new_model = new_backbone
    if model is not backbone:
        follow_input_size(model.preprocessor, changed)
        new_model = type(model).from_config(
            {
                **model.get_config(),
                "backbone": new_backbone,
                "preprocessor": model.preprocessor,
            }
        )
    for source, target in zip(model.weights, new_model.weights, strict=True):
        if source.shape == target.shape:
            target.assign(source)
    for source, target in zip(backbone.blocks, new_backbone.blocks, strict=True):
        resize(source.spatial_gating_unit, target.spatial_gating_unit, config, changed)
    return new_model


def resize_over_patch_grid(source, target, config, changed):
    """Resamples the gating unit `source`'s `W` and `b` into `target`'s, from
    the patch grid of `config` to that of `changed`."""
    patch_size = config["patch_size"]
    grid = [side // patch_size for side in config["image_shape"][:2]]
    new_grid = [side // patch_size for side in changed["image_shape"][:2]]
    up, down = grid_interpolation(grid, new_grid), grid_interpolation(new_grid, grid)
    kernel, bias = spatial_weights(source)
    target.spatial_kernel.assign(up @ kernel @ down)
    target.spatial_bias.assign(bias @ up.T)


def resize_over_sequence(source, target, config, changed):
    """Copies the gating unit `source`'s `W` and `b` into `target`, which
    is longer (new entries: zero weights, unit bias) or shorter (cut)."""
    kernel, bias = spatial_weights(source)
    length, new_length = bias.shape[-1], changed["max_sequence_length"]
    kept = min(length, new_length)
    new_kernel = np.zeros(target.spatial_kernel.shape, "float32")
    new_bias = np.ones(target.spatial_bias.shape, "float32")
    new_bias[:, :kept] = bias[:, :kept]
    if source.spatial_weights == "dense":
        new_kernel[:, :kept, :kept] = kernel[:, :kept, :kept]
    else:  # offsets -(n - 1) ... n - 1, zero offset at index n - 1
        offsets = slice(length - kept, length + kept - 1)
        new_offsets = slice(new_length - kept, new_length + kept - 1)
        new_kernel[:, new_offsets] = kernel[:, offsets]
    target.spatial_kernel.assign(new_kernel)
    target.spatial_bias.assign(new_bias)


def spatial_weights(unit):
    """The gating unit's `W` and `b` as float32 numpy arrays."""
    return [
        keras.ops.convert_to_numpy(keras.ops.cast(weight, "float32"))
        for weight in (unit.spatial_kernel, unit.spatial_bias)
    ]


def grid_interpolation(grid, new_grid):
    """The `(n', n)` matrix resampling values on the row-major token grid
    `grid` to `new_grid`: the Kronecker product of the rows' and the
    columns' interpolations."""
    return np.kron(
        linear_interpolation(grid[0], new_grid[0]),
        linear_interpolation(grid[1], new_grid[1]),
    )


def linear_interpolation(size, new_size):
    """The `(new_size, size)` matrix resampling `size` evenly spaced values
    to `new_size` with a triangle filter on pixel centres: linear
    interpolation when growing, widened to average when shrinking. Each row
    sums to one, and the same size gives the identity."""
    scale = size / new_size
    width = max(scale, 1.0)
    centres = (np.arange(new_size) + 0.5) * scale - 0.5
    weights = 1.0 - np.abs(np.arange(size)[None, :] - centres[:, None]) / width
    weights = np.maximum(weights, 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def follow_input_size(preprocessor, changed):
    """Sets a task's preprocessor to the images or sequences the rebuilt
    model takes."""
    if preprocessor is None:
        return
    if "image_shape" in changed:
        preprocessor.image_converter.image_size = changed["image_shape"][:2]
    else:
        preprocessor.sequence_length = changed["max_sequence_length"]


def checked_image_shape(image_shape, config):
    """`image_shape` as a tuple, refused where the backbone of `config`
    cannot take it, naming the nearest valid sizes."""
    patch_size = config["patch_size"]
    channels = config["image_shape"][2]
    if (
        len(image_shape) != 3
        or image_shape[2] != channels
        or not all(isinstance(side, int) for side in image_shape)
    ):
        raise ValueError(
            f"`image_shape` must be `(height, width, {channels})`: the preset "
            f"embeds images of {channels} channels, of a fixed size. Received: "
            f"image_shape={tuple(image_shape)}"
        )
    check_patch_multiples(image_shape[:2], patch_size)
    return tuple(image_shape)


def checked_sequence_length(max_sequence_length, config):
    """`max_sequence_length`, refused unless a positive int."""
    if not isinstance(max_sequence_length, int) or max_sequence_length < 1:
        raise ValueError(
            "`max_sequence_length` must be a positive int. Received: "
            f"max_sequence_length={max_sequence_length!r}"
        )
    return max_sequence_length


SIZE_CHECKS = {
    "image_shape": checked_image_shape,
    "max_sequence_length": checked_sequence_length,
}
