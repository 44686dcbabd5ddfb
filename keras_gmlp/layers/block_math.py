"""The computations of a gMLP block in plain `keras.ops`, each replaced by its
CPU kernel where `cpu_kernels.applies` says so."""

import math

from keras import ops

from keras_gmlp.layers import cpu_kernels


def mix_tokens(kernel, v, bias):
    """`kernel v + bias` over the tokens of `v`, one of each per head.

    Args:
        kernel: tensor of shape `(heads, rows, length)`.
        v: tensor of shape `(batch, length, channels)`, whose channels are
            split into `heads` groups.
        bias: tensor of shape `(heads, rows)`.

    Returns:
        A tensor of shape `(batch, rows, channels)`.
    """
    if cpu_kernels.applies("token_mixing", v):
        return cpu_kernels.token_mixing(kernel, v, bias)
    batch_size, length = ops.shape(v)[0], ops.shape(v)[1]
    heads, rows = ops.shape(kernel)[0], ops.shape(kernel)[1]
    kernel, bias = ops.cast(kernel, v.dtype), ops.cast(bias, v.dtype)
    v = ops.reshape(v, (batch_size, length, heads, -1))
    mixed = ops.einsum("hrl,blhc->brhc", kernel, v) + ops.transpose(bias)[:, :, None]
    return ops.reshape(mixed, (batch_size, rows, -1))


def layer_norm(layer, x):
    """`layer(x)` for a `keras.layers.LayerNormalization` over the channels."""
    if cpu_kernels.applies("layer_norm", x):
        return cpu_kernels.layer_norm(layer, x)
    return layer(x)


def dense(layer, x):
    """`layer(x)` for a `keras.layers.Dense` on `(batch, tokens, channels)`."""
    if layer.quantization_mode is None and cpu_kernels.applies("dense", x):
        return cpu_kernels.dense(layer, x)
    return layer(x)


def gelu_halves(layer, x):
    """The halves `u, v` of `gelu(layer(x))`, `layer` a `keras.layers.Dense`."""
    if layer.quantization_mode is None and cpu_kernels.applies("proj_in_halves", x):
        return cpu_kernels.proj_in_halves(layer, x, gelu)
    return tuple(ops.split(gelu(dense(layer, x)), 2, axis=-1))


def gelu(x):
    """The exact GELU of the paper and timm, `x * Phi(x)`, written with `erf`:
    it exports to ONNX from every backend, where TensorFlow's own uses Erfc."""
    if cpu_kernels.applies("gelu", x):
        return cpu_kernels.gelu(x)
    return 0.5 * x * (1.0 + ops.erf(x * math.sqrt(0.5)))
