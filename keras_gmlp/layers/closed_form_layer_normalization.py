import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gmlp")
class ClosedFormLayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` whose gradient on JAX is written
    out in closed form.

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
    images/s, gMLP-Ti 11.2 against 8.4. TensorFlow's XLA gained nothing
    (gMLP-S blocks 1,084 against 1,061 ms) and torch runs both passes in
    fused kernels (`torch.nn.functional.layer_norm`, which Keras calls), so
    both keep Keras' computation, as does any configuration other than an
    affine normalisation over the last axis.

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
        if keras.backend.backend() != "jax" or not self._affine_over_last_axis(inputs):
            return super().call(inputs)
        # In float32 at least, as Keras' LayerNormalization computes.
        dtype = keras.backend.result_type(inputs.dtype, "float32")
        outputs = normalize(
            ops.cast(inputs, dtype),
            ops.cast(self.gamma, dtype),
            ops.cast(self.beta, dtype),
            self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)

    def _affine_over_last_axis(self, inputs):
        return (
            self.axis in ([-1], [len(inputs.shape) - 1])
            and self.center
            and self.scale
            and not self.rms_scaling
        )


@ops.custom_gradient
def normalize(x, gamma, beta, epsilon):
    """Layer normalisation of `x` over its last axis, then `* gamma + beta`,
    with the closed-form gradient of `ClosedFormLayerNormalization`."""
    mean, variance = ops.moments(x, axes=[-1], keepdims=True)
    inverse_std = ops.rsqrt(variance + epsilon)
    normalized = (x - mean) * inverse_std

    def gradient(upstream):
        scaled = upstream * gamma
        inputs_gradient = inverse_std * (
            scaled
            - ops.mean(scaled, axis=-1, keepdims=True)
            - normalized * ops.mean(scaled * normalized, axis=-1, keepdims=True)
        )
        other_axes = tuple(range(len(x.shape) - 1))
        gamma_gradient = ops.sum(upstream * normalized, axis=other_axes)
        return inputs_gradient, gamma_gradient, ops.sum(upstream, axis=other_axes), None

    return normalized * gamma + beta, gradient
