import keras
from keras import ops

from keras_gmlp.layers.argument_checks import check_bool
from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.keras_weight_shapes import dense_shapes
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes


@keras.saving.register_keras_serializable(package="keras_gmlp")
class TinyAttention(keras.layers.Layer):
    """The single-head self-attention that turns gMLP into aMLP.

    Section 4.3 of "Pay Attention to MLPs" adds this small attention to the
    spatial gating unit: queries, keys and values of size `attention_dim`
    come from one channel projection of the input, and the attended values
    are projected to `output_dim`. The softmax always runs in float32, so the
    layer is stable under `mixed_float16` and `mixed_bfloat16` policies.

    Args:
        attention_dim: int. The size of the query, key and value (64 in the
            paper's base models, 128 in the large ones).
        output_dim: int. The size of the output channels.
        causal: bool. If `True`, position `t` attends only to positions
            `<= t`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, length, channels)`.
        padding_mask: optional boolean tensor of shape `(batch, length)`,
            `True` at real tokens. Padded positions are never attended to.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    layer = keras_gmlp.layers.TinyAttention(attention_dim=16, output_dim=32)
    layer(np.ones((2, 10, 64), "float32")).shape  # (2, 10, 32)
    ```
    """

    def __init__(self, attention_dim, output_dim, causal=False, **kwargs):
        check_positive_int("TinyAttention", "attention_dim", attention_dim)
        check_positive_int("TinyAttention", "output_dim", output_dim)
        check_bool("TinyAttention", "causal", causal)
        super().__init__(**kwargs)
        self.attention_dim = attention_dim
        self.output_dim = output_dim
        self.causal = causal
        self.query_key_value_dense = keras.layers.Dense(
            3 * attention_dim,
            dtype=self.dtype_policy,
            name="query_key_value_dense",
        )
        self.output_dense = keras.layers.Dense(
            output_dim, dtype=self.dtype_policy, name="output_dense"
        )

    def build(self, inputs_shape, padding_mask_shape=None):
        check_positive_int("TinyAttention", "input channels", inputs_shape[-1])
        shapes = self.weight_shapes(
            inputs_shape[-1], self.attention_dim, self.output_dim
        )
        check_fits_in_memory(
            weight_bytes(shapes.values(), self.dtype_policy),
            "The weights of a TinyAttention",
        )
        self.query_key_value_dense.build(inputs_shape)
        self.output_dense.build((*inputs_shape[:-1], self.attention_dim))

    def call(self, inputs, padding_mask=None):
        query, key, value = ops.split(self.query_key_value_dense(inputs), 3, -1)
        length = ops.shape(inputs)[1]
        allowed = self._allowed_keys(ops.arange(length), length, padding_mask)
        return self._attend(query, key, value, allowed)

    def call_with_cache(self, inputs, cache, index):
        """Causal attention of `inputs`, at positions `index, index + 1, ...`,
        over them and the keys and values of earlier positions in `cache`,
        of shape `(batch, 2, cache_length, attention_dim)`.

        Returns `(outputs, cache)`, the cache updated at the new positions.
        """
        query, key, value = ops.split(self.query_key_value_dense(inputs), 3, -1)
        key_value = ops.cast(ops.stack([key, value], axis=1), cache.dtype)
        cache = ops.slice_update(cache, (0, 0, index, 0), key_value)
        query_positions = index + ops.arange(ops.shape(inputs)[1])
        allowed = self._allowed_keys(query_positions, ops.shape(cache)[2])
        return self._attend(query, cache[:, 0], cache[:, 1], allowed), cache

    def _attend(self, query, key, value, allowed):
        scores = ops.einsum("bqd,bkd->bqk", query, ops.cast(key, query.dtype))
        scores = ops.cast(scores, "float32") * (self.attention_dim**-0.5)
        if allowed is not None:
            scores = ops.where(allowed, scores, -1e9)
        weights = ops.cast(ops.softmax(scores, axis=-1), query.dtype)
        value = ops.cast(value, query.dtype)
        return self.output_dense(ops.einsum("bqk,bkd->bqd", weights, value))

    def _allowed_keys(self, query_positions, num_keys, padding_mask=None):
        """A boolean mask of shape `(batch or 1, queries, keys)` or None."""
        allowed = None
        if self.causal:
            key_positions = ops.arange(num_keys)
            allowed = query_positions[None, :, None] >= key_positions[None, None, :]
        if padding_mask is not None:
            real_keys = ops.cast(padding_mask, "bool")[:, None, :]
            allowed = real_keys if allowed is None else allowed & real_keys
        return allowed

    @staticmethod
    def weight_shapes(input_dim, attention_dim, output_dim):
        """The shapes of the layer's weights on inputs of `input_dim`
        channels, keyed by their path in a Keras weights file."""
        return {
            **dense_shapes("query_key_value_dense", input_dim, 3 * attention_dim),
            **dense_shapes("output_dense", attention_dim, output_dim),
        }

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        return (*inputs_shape[:-1], self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention_dim": self.attention_dim,
                "output_dim": self.output_dim,
                "causal": self.causal,
            }
        )
        return config
