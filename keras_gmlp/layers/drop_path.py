import keras
from keras import ops

from keras_gmlp.layers.argument_checks import check_rate


@keras.saving.register_keras_serializable(package="keras_gmlp")
class DropPath(keras.layers.Layer):
    """Stochastic depth: drops a whole residual branch per example.

    During training each example's input is zeroed with probability `rate`
    and the survivors are scaled by `1 / (1 - rate)`, so the expected value
    is unchanged. At inference the layer is the identity.

    Args:
        rate: float in `[0, 1)`. The probability of dropping the branch.
            The survival probability of the gMLP paper is `1 - rate`.
        seed: int. Seed for the random drops.
        batch_axis: int. The axis of the examples, `1` for token-major
            inputs of shape `(length, batch, channels)`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    layer = keras_gmlp.layers.DropPath(rate=0.2, seed=0)
    branch = np.ones((4, 16, 8), "float32")
    layer(branch, training=True)  # Some examples are zeros, others 1.25.
    layer(branch)  # Unchanged.
    ```
    """

    def __init__(self, rate=0.0, seed=None, batch_axis=0, **kwargs):
        check_rate("DropPath", "rate", rate)
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.batch_axis = batch_axis
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep_probability = 1.0 - self.rate
        # One draw per example, broadcast over all other axes.
        noise_shape = [1] * len(inputs.shape)
        noise_shape[self.batch_axis] = ops.shape(inputs)[self.batch_axis]
        keep = keras.random.uniform(
            noise_shape, seed=self.seed_generator, dtype=inputs.dtype
        ) < ops.cast(keep_probability, inputs.dtype)
        return ops.where(keep, inputs / keep_probability, ops.zeros_like(inputs))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"rate": self.rate, "seed": self.seed, "batch_axis": self.batch_axis}
        )
        return config
