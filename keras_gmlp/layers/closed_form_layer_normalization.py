import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gmlp")
class ClosedFormLayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` whose gradient is written out in
    closed form, on JAX and TensorFlow.

    Over the last axis, with `x_hat = (x - mean) r`, `r = 1 / sqrt(variance
    + epsilon)` and `y = x_hat gamma + beta`, the gradient is `dx = r (g -
    mean(g) - x_hat mean(g x_hat))` for `g = dy gamma`, `dgamma = sum(dy
    x_hat)` and `dbeta = sum(dy)` over the other axes: two reductions over
    the channels. Differentiating Keras' form of the forward pass instead
    (`x inv + res`, with `inv = r gamma` and `res = beta - mean inv`) leaves
    XLA more of them. Six gMLP blocks' forward and backward on JAX, one
    process taking turns (median of 21, the 2-core AMD EPYC with AVX2 of
    benchmarks/README.md): gMLP-S 814 against 871 ms, gMLP-Ti 339 against
    349; the whole gMLP-S classifier's training step 3.70 against 3.20
    images/s, gMLP-Ti 11.2 against 8.4. On TensorFlow the closed form alone
    gained nothing (gMLP-S blocks 1,084 against 1,061 ms); what gains there
    is the forward pass's statistics as matmuls (`channel_moments`). Torch
    runs both passes in fused kernels (`torch.nn.functional.layer_norm`,
    which Keras calls), so it keeps Keras' computation, as does any
    configuration other than an affine normalisation over the last axis.

    Args:
        **kwargs: those of `keras.layers.LayerNormalization`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.layers.closed_form_layer_normalization import (
        ClosedFormLayerNormalization,
    )

    layer = ClosedFormLayerNormalization(epsilon=1e-5)
    # Each row becomes [-1.34, -0.45, 0.45, 1.34].
    layer(np.arange(8, dtype="float32").reshape(2, 4))
    ```
    """

    def call(self, inputs):
        if not self._in_closed_form(inputs):
            return super().call(inputs)
        # In float32 at least, as Keras' LayerNormalization computes.
        dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = inputs
        if keras.backend.backend() == "tensorflow":
            # The tokens as rows of a matrix, which TensorFlow's XLA reduces
            # faster (see `normalize`).
            x = ops.reshape(inputs, (-1, ops.shape(inputs)[-1]))
        outputs = normalize(
            ops.cast(x, dtype),
            ops.cast(self.gamma, dtype),
            ops.cast(self.beta, dtype),
            self.epsilon,
        )
        return ops.reshape(ops.cast(outputs, self.compute_dtype), ops.shape(inputs))

    def _in_closed_form(self, inputs):
        """Off on torch, and in all but an affine normalisation over the
        last axis."""
        return (
            keras.backend.backend() != "torch"
            and self.axis in ([-1], [len(inputs.shape) - 1])
            and self.center
            and self.scale
            and not self.rms_scaling
        )


@ops.custom_gradient
def normalize(x, gamma, beta, epsilon):
    """Layer normalisation of `x` over its last axis, then `* gamma + beta`,
    with the closed-form gradient of `ClosedFormLayerNormalization`.

    On TensorFlow `x` is a matrix, the tokens as its rows: TensorFlow's XLA
    on CPU sums the columns of a `(tokens, batch, channels)` product
    (`dgamma`) through windows over two axes, about 1.5x slower than over
    the rows of a matrix (`(196, 16, 384)`: 1.71 against 1.15 ms on the
    2-core Intel Xeon of benchmarks/README.md), and the gradient's means
    over channels are matmuls there (`channel_mean`). gMLP-Ti's training
    step on TensorFlow (one process taking turns, median of 9): 1,240 ms
    before, 1,206 with the columns summed in 2D, 1,164 with the means as
    matmuls too. JAX keeps `x`'s shape: as a matrix, its inference ran
    slower (gMLP-Ti 301 against 270 ms a batch, gMLP-S 790 against 729).
    """
    mean, variance = channel_moments(x)
    inverse_std = ops.rsqrt(variance + epsilon)
    normalized = (x - mean) * inverse_std

    def gradient(upstream):
        scaled = upstream * gamma
        inputs_gradient = inverse_std * (
            scaled
            - channel_mean(scaled)
            - normalized * channel_mean(scaled * normalized)
        )
        other_axes = tuple(range(len(x.shape) - 1))
        gamma_gradient = ops.sum(upstream * normalized, axis=other_axes)
        return inputs_gradient, gamma_gradient, ops.sum(upstream, axis=other_axes), None

    return normalized * gamma + beta, gradient


def channel_moments(x):
    """`ops.moments(x, axes=[-1], keepdims=True)`; on TensorFlow, where `x`
    is a matrix, each mean taken by `channel_mean`."""
    if keras.backend.backend() != "tensorflow":
        return ops.moments(x, axes=[-1], keepdims=True)
    mean = channel_mean(x)
    return mean, channel_mean(ops.square(x - mean))


def channel_mean(x):
    """`ops.mean(x, axis=-1, keepdims=True)`; on TensorFlow, where `x` is a
    matrix, the product of `x` with a vector of `1 / channels`.

    TensorFlow's XLA on CPU rewrites a reduction into a `reduce-window` of 32
    elements and a reduction of what is left, slower than that product (row
    sums of a `(4096, 1536)` tensor: 9.0 against 2.9 ms). On TensorFlow 2.21
    and the 2-core AMD EPYC with AVX2 of benchmarks/README.md (one process
    taking turns, median of 40), this layer's forward pass on the blocks'
    shapes ran 1.12-1.47x as fast as Keras' `LayerNormalization` ((196,
    16, 256) to (512, 8, 768); 0.96x at (196, 16, 128)), its forward and
    backward 1.04-1.18x (1.08x at (196, 16, 128)). The gradient's two means
    were reductions there, which XLA fused with the products they sum (four
    gMLP-S blocks' forward and backward 750 against 721 ms with them as
    products, on 3D inputs); on the 2-core Intel Xeon, with the rows of a
    matrix, the products are faster (see `normalize`). JAX's XLA runs
    reductions through YNNPACK, faster than as products (this forward pass
    on (4096, 768) 2.9 against 7.0 ms), so JAX keeps `ops.mean`.
    """
    if keras.backend.backend() != "tensorflow":
        return ops.mean(x, axis=-1, keepdims=True)
    weights = ops.full((ops.shape(x)[1], 1), 1 / ops.shape(x)[1], x.dtype)
    return ops.matmul(x, weights)
