"""Faster forms of parts of a gMLP block on a CPU, and the rule of where each runs.

The layers compute gMLP in plain `keras.ops`, the default on every device.
On a CPU, XLA (JAX, TensorFlow) and eager torch run some of those
computations faster in another form with the same result. Each such form is
a function here, and `applies` alone decides where it replaces the plain
path: on a CPU, for the backends that `KERNELS` lists. Off the CPU the plain
path runs, since nobody measured these forms there. Each kernel is tested
equal to the plain path, outputs and gradients
(tests/layers/test_cpu_kernels.py). benchmarks/README.md ("CPU kernels")
has the side-by-side figures, from `benchmarks/cpu_kernels.py`, that keep
each one here.
"""

import keras
from keras import ops

if keras.backend.backend() == "torch":
    import torch

# The backends on whose CPU each kernel replaces the plain path.
KERNELS = {
    "layer_norm": ("jax", "tensorflow"),
    "dense": ("jax", "tensorflow", "torch"),
    "proj_in_halves": ("tensorflow",),
    "token_mixing": ("jax", "tensorflow", "torch"),
    "gelu": ("torch",),
}


def applies(kernel, x):
    """Whether `kernel`, a key of `KERNELS`, replaces the plain path for `x`:
    on the current backend, if `KERNELS` lists it, for tensors on a CPU."""
    return keras.backend.backend() in KERNELS[kernel] and on_cpu(x)


def on_cpu(x):
    """Whether `x`, a tensor of the Keras backend, is computed on a CPU.

    Traced JAX and TensorFlow tensors name no device, so for those backends
    this asks where Keras places computations: on the first of
    `keras.distribution.list_devices()`, which lists accelerators first.
    """
    if keras.backend.backend() == "torch":
        return x.device.type == "cpu"
    return keras.distribution.list_devices()[0].startswith("cpu")


def layer_norm(layer, x):
    """`layer(x)` for an affine `keras.layers.LayerNormalization` over the
    last axis, with its gradient written out in closed form.

    With `x_hat = (x - mean) r` and `r = 1 / sqrt(variance + epsilon)`, the
    input gradient is `r (g - mean(g) - x_hat mean(g x_hat))` for
    `g = dy gamma`: XLA differentiates Keras' form into more reductions. On
    TensorFlow the tokens are the rows of a matrix and the means over
    channels are matmuls, which its XLA runs faster than reductions.
    """
    dtype = keras.backend.result_type(x.dtype, "float32")
    rows = x
    if keras.backend.backend() == "tensorflow":
        rows = ops.reshape(x, (-1, ops.shape(x)[-1]))
    outputs = _normalize(
        ops.cast(rows, dtype),
        ops.cast(layer.gamma, dtype),
        ops.cast(layer.beta, dtype),
        layer.epsilon,
    )
    return ops.reshape(ops.cast(outputs, layer.compute_dtype), ops.shape(x))


@ops.custom_gradient
def _normalize(x, gamma, beta, epsilon):
    mean = _channel_mean(x)
    inverse_std = ops.rsqrt(_channel_mean(ops.square(x - mean)) + epsilon)
    normalized = (x - mean) * inverse_std

    def gradient(upstream):
        scaled = upstream * gamma
        inputs_gradient = inverse_std * (
            scaled
            - _channel_mean(scaled)
            - normalized * _channel_mean(scaled * normalized)
        )
        other_axes = tuple(range(len(x.shape) - 1))
        gamma_gradient = ops.sum(upstream * normalized, axis=other_axes)
        return inputs_gradient, gamma_gradient, ops.sum(upstream, axis=other_axes), None

    return normalized * gamma + beta, gradient


def _channel_mean(x):
    """The mean over the last axis; on TensorFlow, where `x` is a matrix, its
    product with a vector of `1 / channels`."""
    if keras.backend.backend() != "tensorflow":
        return ops.mean(x, axis=-1, keepdims=True)
    channels = ops.shape(x)[-1]
    return ops.matmul(x, ops.full((channels, 1), 1 / channels, x.dtype))


def dense(layer, x):
    """`layer(x)` for an unquantized `keras.layers.Dense` on `(batch, tokens,
    channels)`: one 2D matmul with the tokens as rows, whose kernel gradient
    XLA computes faster than the 3D matmul's. On torch, `addmm` adds the
    bias inside the matmul, as torch's `Linear` does."""
    return _matmul_over_tokens(x, layer.kernel, layer.bias)


def proj_in_halves(layer, x, activation):
    """`ops.split(activation(layer(x)), 2, axis=-1)`, each half a matmul of its
    own on half of the kernel: split from one output, the halves are slices
    that XLA copies and whose gradients it concatenates."""
    half = layer.units // 2
    return tuple(
        activation(_matmul_over_tokens(x, layer.kernel[:, part], layer.bias[part]))
        for part in (slice(None, half), slice(half, None))
    )


def token_mixing(kernel, v, bias):
    """The gating unit's `kernel v + bias` over the tokens of `v` (see
    `mix_tokens` in block_math.py), with the tokens first:
    `(heads, tokens, batch * channels)`, one plain matmul per head, whose
    gradient XLA computes faster than the einsum's. On torch, `baddbmm`."""
    batch_size, length = ops.shape(v)[0], ops.shape(v)[1]
    heads, rows = ops.shape(kernel)[0], ops.shape(kernel)[1]
    kernel, bias = ops.cast(kernel, v.dtype), ops.cast(bias, v.dtype)
    v = ops.reshape(v, (batch_size, length, heads, -1))
    v = ops.reshape(ops.transpose(v, (2, 1, 0, 3)), (heads, length, -1))
    if keras.backend.backend() == "torch":
        mixed = torch.baddbmm(bias[:, :, None], kernel, v)
    else:
        mixed = ops.matmul(kernel, v) + bias[:, :, None]
    mixed = ops.reshape(mixed, (heads, rows, batch_size, -1))
    mixed = ops.transpose(mixed, (2, 1, 0, 3))
    return ops.reshape(mixed, (batch_size, rows, -1))


def gelu(x):
    """The exact GELU in torch's fused kernel."""
    return torch.nn.functional.gelu(x)


def _matmul_over_tokens(x, kernel, bias):
    """`x @ kernel + bias` with `x`'s tokens as the rows of a matrix."""
    kernel, bias = ops.cast(kernel, x.dtype), ops.cast(bias, x.dtype)
    rows = ops.reshape(x, (-1, ops.shape(x)[-1]))
    if keras.backend.backend() == "torch":
        outputs = torch.addmm(bias, rows, kernel)
    else:
        outputs = ops.matmul(rows, kernel) + bias
    return ops.reshape(outputs, (*ops.shape(x)[:-1], ops.shape(kernel)[-1]))
