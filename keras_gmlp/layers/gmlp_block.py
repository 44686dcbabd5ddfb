import keras

from keras_gmlp.layers.argument_checks import check_positive_float
from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.argument_checks import check_rate
from keras_gmlp.layers.block_math import dense
from keras_gmlp.layers.block_math import gelu
from keras_gmlp.layers.block_math import gelu_halves
from keras_gmlp.layers.block_math import layer_norm
from keras_gmlp.layers.drop_path import DropPath
from keras_gmlp.layers.keras_weight_shapes import dense_shapes
from keras_gmlp.layers.keras_weight_shapes import layer_norm_shapes
from keras_gmlp.layers.keras_weight_shapes import prefixed
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes
from keras_gmlp.layers.spatial_gating_unit import SpatialGatingUnit


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPBlock(keras.layers.Layer):
    """A gMLP block: a residual channel MLP gated across tokens.

    Computes `x + drop_path(proj_out(SGU(gelu(proj_in(LayerNorm(x))))))`:
    `proj_in` widens the channels to `intermediate_dim`, the
    `SpatialGatingUnit` halves them and `proj_out` returns to the input
    width. GELU is the exact (erf) form. As in timm, dropout follows the GELU
    and `proj_out`.

    Args:
        intermediate_dim: int. The width after `proj_in`. Must be even: the
            gating unit splits it into halves.
        sequence_length: int. The longest sequence the block accepts. If
            `None`, the length of the first input it is built on.
        causal: bool. Passed to `SpatialGatingUnit`.
        spatial_weights: `"dense"` or `"toeplitz"`. Passed to
            `SpatialGatingUnit`.
        heads: int. Passed to `SpatialGatingUnit`.
        attention_dim: int or `None`. aMLP's tiny attention size, passed to
            `SpatialGatingUnit`. The attention reads the normalised block
            input.
        dropout: float. Dropout rate after the GELU and after `proj_out`.
        drop_path_rate: float. Stochastic depth: the probability of dropping
            the residual branch in training. Off at inference.
        layer_norm_epsilon: float. Epsilon of the block's LayerNorm.
        gate_layer_norm_epsilon: float. Epsilon of the LayerNorm inside the
            gating unit (timm uses 1e-5 there and 1e-6 elsewhere).
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, length, hidden_dim)`.
        padding_mask: optional boolean tensor of shape `(batch, length)`,
            `True` at real tokens.
        training: bool. Whether dropout and drop path are active.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    block = keras_gmlp.layers.GMLPBlock(intermediate_dim=96)
    block(np.ones((2, 16, 32), "float32")).shape  # (2, 16, 32)
    ```
    """

    def __init__(
        self,
        intermediate_dim,
        sequence_length=None,
        causal=False,
        spatial_weights="dense",
        heads=1,
        attention_dim=None,
        dropout=0.0,
        drop_path_rate=0.0,
        layer_norm_epsilon=1e-6,
        gate_layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        kwargs.pop("token_major", None)  # a layout older configs saved; ignored
        check_intermediate_dim(intermediate_dim)
        check_rate("GMLPBlock", "dropout", dropout)
        check_rate("GMLPBlock", "drop_path_rate", drop_path_rate)
        check_positive_float("GMLPBlock", "layer_norm_epsilon", layer_norm_epsilon)
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.sequence_length = sequence_length
        self.causal = causal
        self.spatial_weights = spatial_weights
        self.heads = heads
        self.attention_dim = attention_dim
        self.dropout = dropout
        self.drop_path_rate = drop_path_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.gate_layer_norm_epsilon = gate_layer_norm_epsilon

        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.proj_in = keras.layers.Dense(
            intermediate_dim, dtype=self.dtype_policy, name="proj_in"
        )
        self.spatial_gating_unit = SpatialGatingUnit(
            sequence_length=sequence_length,
            causal=causal,
            spatial_weights=spatial_weights,
            heads=heads,
            attention_dim=attention_dim,
            layer_norm_epsilon=gate_layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="spatial_gating_unit",
        )
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.drop_path = DropPath(
            drop_path_rate, dtype=self.dtype_policy, name="drop_path"
        )
        self.proj_out = None

    def build(self, inputs_shape, padding_mask_shape=None):
        check_positive_int("GMLPBlock", "input channels", inputs_shape[-1])
        # First, as it checks the sequence length and its own size.
        self.spatial_gating_unit.build(
            (*inputs_shape[:-1], self.intermediate_dim),
            attention_inputs_shape=inputs_shape,
        )
        shapes = self.weight_shapes(
            inputs_shape[-1],
            self.intermediate_dim,
            self.spatial_gating_unit.max_length,
            self.spatial_weights,
            self.heads,
            self.attention_dim,
        )
        check_fits_in_memory(
            weight_bytes(shapes.values(), self.dtype_policy),
            "The weights of a GMLPBlock",
        )
        self.layer_norm.build(inputs_shape)
        self.proj_in.build(inputs_shape)
        self.proj_out = keras.layers.Dense(
            inputs_shape[-1], dtype=self.dtype_policy, name="proj_out"
        )
        self.proj_out.build((*inputs_shape[:-1], self.intermediate_dim // 2))
        # Built here as they may never be called (at rate 0): Keras rebuilds a
        # model eagerly in every `predict_on_batch` while a layer is unbuilt.
        self.dropout_layer.build(inputs_shape)
        self.drop_path.build(inputs_shape)

    def call(self, inputs, padding_mask=None, training=None):
        normalized = layer_norm(self.layer_norm, inputs)
        halves = self._gelu_proj_in_halves(normalized, training)
        x = self.spatial_gating_unit(
            halves, padding_mask=padding_mask, attention_inputs=normalized
        )
        x = dense(self.proj_out, x)
        # At rate 0 the calls are skipped: each is a layer call eager torch pays.
        if self.dropout:
            x = self.dropout_layer(x, training=training)
        if self.drop_path_rate:
            x = self.drop_path(x, training=training)
        return inputs + x

    def call_with_cache(self, inputs, cache, index):
        """The causal block on `inputs` at positions `index, ...`, reading and
        updating the gating unit's `cache` (see
        `SpatialGatingUnit.call_with_cache`). Returns `(outputs, cache)`."""
        normalized = layer_norm(self.layer_norm, inputs)
        x = gelu(dense(self.proj_in, normalized))
        x, cache = self.spatial_gating_unit.call_with_cache(
            x, cache, index, attention_inputs=normalized
        )
        return inputs + dense(self.proj_out, x), cache

    def _gelu_proj_in_halves(self, x, training):
        """`u, v`: the halves of `dropout(gelu(proj_in(x)))`."""
        halves = gelu_halves(self.proj_in, x)
        if self.dropout:
            halves = [self.dropout_layer(half, training=training) for half in halves]
        return tuple(halves)

    @staticmethod
    def weight_shapes(
        hidden_dim,
        intermediate_dim,
        sequence_length,
        spatial_weights="dense",
        heads=1,
        attention_dim=None,
    ):
        """The shapes of the block's weights on `hidden_dim` channels and
        sequences of up to `sequence_length` tokens, keyed by their path in a
        Keras weights file."""
        check_positive_int("GMLPBlock", "hidden_dim", hidden_dim)
        check_intermediate_dim(intermediate_dim)
        gate = SpatialGatingUnit.weight_shapes(
            intermediate_dim,
            sequence_length,
            spatial_weights,
            heads,
            attention_dim,
            attention_input_dim=hidden_dim,
        )
        return {
            **layer_norm_shapes("layer_norm", hidden_dim),
            **dense_shapes("proj_in", hidden_dim, intermediate_dim),
            **prefixed("spatial_gating_unit", gate),
            **dense_shapes("proj_out", intermediate_dim // 2, hidden_dim),
        }

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "sequence_length": self.sequence_length,
                "causal": self.causal,
                "spatial_weights": self.spatial_weights,
                "heads": self.heads,
                "attention_dim": self.attention_dim,
                "dropout": self.dropout,
                "drop_path_rate": self.drop_path_rate,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "gate_layer_norm_epsilon": self.gate_layer_norm_epsilon,
            }
        )
        return config


def check_intermediate_dim(intermediate_dim):
    """Refuses an `intermediate_dim` that the gating unit cannot halve."""
    check_positive_int("GMLPBlock", "intermediate_dim", intermediate_dim)
    if intermediate_dim % 2:
        raise ValueError(
            "GMLPBlock expects an `intermediate_dim` divisible by 2: the gating "
            f"unit splits it into halves. Received: intermediate_dim={intermediate_dim}"
        )
