import keras
from keras import ops


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
        self.query_key_value_dense.build(inputs_shape)
        self.output_dense.build((*inputs_shape[:-1], self.attention_dim))

    def call(self, inputs, padding_mask=None):
        query, key, value = ops.split(self.query_key_value_dense(inputs), 3, -1)
        scores = ops.einsum("bqd,bkd->bqk", query, key)
        scores = ops.cast(scores, "float32") * (self.attention_dim**-0.5)
        allowed = self._allowed_keys(ops.shape(inputs)[1], padding_mask)
        if allowed is not None:
            scores = ops.where(allowed, scores, -1e9)
        weights = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        return self.output_dense(ops.einsum("bqk,bkd->bqd", weights, value))

    def _allowed_keys(self, length, padding_mask):
        """A boolean mask of shape `(batch or 1, queries, keys)` or None."""
        allowed = None
        if self.causal:
            positions = ops.arange(length)
            allowed = positions[None, :, None] >= positions[None, None, :]
        if padding_mask is not None:
            real_keys = ops.cast(padding_mask, "bool")[:, None, :]
            allowed = real_keys if allowed is None else allowed & real_keys
        return allowed

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
