import math

import keras
from keras import ops

from keras_gmlp.layers.closed_form_layer_normalization import (
    ClosedFormLayerNormalization,
)
from keras_gmlp.layers.drop_path import DropPath
from keras_gmlp.layers.matmul import dense_matmul
from keras_gmlp.layers.matmul import on_cpu
from keras_gmlp.layers.spatial_gating_unit import SpatialGatingUnit


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPBlock(keras.layers.Layer):
    """A gMLP block: a residual channel MLP gated across tokens.

    Computes
    `x + drop_path(proj_out(SGU(gelu(proj_in(LayerNorm(x))))))`, where
    `proj_in` widens the channels to `intermediate_dim`, the
    `SpatialGatingUnit` halves them, and `proj_out` returns to the input
    width. GELU is the exact (erf) form. As in timm, dropout follows the
    GELU and `proj_out`.

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
        token_major: bool. If `True`, inputs and outputs are token-major,
            `(length, batch, hidden_dim)`: the gating unit then mixes tokens
            without transposing its input and output (see
            `SpatialGatingUnit`). Both backbones transpose once before
            their first block and once after their last: four gMLP-Ti blocks on the
            2-core Intel Xeon of benchmarks/README.md, against batch-major
            ones in the same run, forward 45 against 49 ms on JAX and 62
            against 66 on TensorFlow, forward and backward 161 against 176
            and 211 against 219 (see `_activated_halves`).
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, length, hidden_dim)`, or
            `(length, batch, hidden_dim)` if `token_major`.
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
        token_major=False,
        **kwargs,
    ):
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
        self.token_major = token_major

        self.layer_norm = ClosedFormLayerNormalization(
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
            token_major=token_major,
            dtype=self.dtype_policy,
            name="spatial_gating_unit",
        )
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.drop_path = DropPath(
            drop_path_rate,
            batch_axis=1 if token_major else 0,
            dtype=self.dtype_policy,
            name="drop_path",
        )
        self.proj_out = None

    def build(self, inputs_shape, padding_mask_shape=None):
        hidden_dim = inputs_shape[-1]
        self.layer_norm.build(inputs_shape)
        self.proj_in.build(inputs_shape)
        self.spatial_gating_unit.build(
            (*inputs_shape[:-1], self.intermediate_dim),
            attention_inputs_shape=inputs_shape,
        )
        self.proj_out = keras.layers.Dense(
            hidden_dim, dtype=self.dtype_policy, name="proj_out"
        )
        self.proj_out.build((*inputs_shape[:-1], self.intermediate_dim // 2))
        # Built here as they may never be called (at rate 0): Keras rebuilds a
        # model eagerly in every `predict_on_batch` while a layer is unbuilt.
        self.dropout_layer.build(inputs_shape)
        self.drop_path.build(inputs_shape)

    def call(self, inputs, padding_mask=None, training=None):
        normalized = self.layer_norm(inputs)
        u, v = self._activated_halves(normalized, training)
        x = self.spatial_gating_unit.gate(u, v, padding_mask, normalized)
        x = dense_over_tokens(self.proj_out, x)
        # Calls skipped at rate 0 save a Keras layer call each, which eager
        # torch pays per block.
        if self.dropout:
            x = self.dropout_layer(x, training=training)
        if self.drop_path_rate:
            x = self.drop_path(x, training=training)
        return inputs + x

    def _activated_halves(self, normalized, training):
        """`u, v`: `proj_in` of the normalised inputs after GELU (and
        dropout), split in two (see `dense_halves_over_tokens`).

        Outside training, the GELU of each half is taken on its own: XLA
        then computes gelu(u) inside the gating product and writes gelu(v)
        once for the gating unit's layer norm. Over all channels at once, it
        writes erf for all of them and recomputes the GELU in each reader.
        gMLP-Ti inference on the 2-core CPU of benchmarks/README.md: JAX 104
        and 100 images/s against 84 and 89 with one GELU, TensorFlow 97 and
        100 against 75 and 87 (two runs each way). In batch-major training
        the split form keeps more activations for the backward pass (JAX,
        six gMLP-S blocks: 689 against 585 MiB of temporaries) at the same
        speed, so those blocks apply GELU and dropout once, to all channels.
        Token-major blocks train faster split, so they split in training
        too: four gMLP-Ti blocks' forward and backward on the Intel Xeon,
        against batch-major blocks in the same run, JAX 161 against 176 ms
        split and 182 against 189 not; TensorFlow 211 against 219 split and
        201 against 199 not.
        """
        if training and not self.token_major:
            x = exact_gelu(dense_over_tokens(self.proj_in, normalized))
            if self.dropout:
                x = self.dropout_layer(x, training=training)
            return ops.split(x, 2, axis=-1)
        halves = dense_halves_over_tokens(self.proj_in, normalized, exact_gelu)
        if training and self.dropout:
            halves = [self.dropout_layer(half, training=training) for half in halves]
        return tuple(halves)

    def call_with_cache(self, inputs, cache, index):
        """The causal block on `inputs` (in the block's layout) at positions
        `index, ...`, reading and updating the gating unit's `cache` (see
        `SpatialGatingUnit.call_with_cache`). Returns `(outputs, cache)`."""
        normalized = self.layer_norm(inputs)
        x = exact_gelu(dense_over_tokens(self.proj_in, normalized))
        x, cache = self.spatial_gating_unit.call_with_cache(
            x, cache, index, attention_inputs=normalized
        )
        return inputs + dense_over_tokens(self.proj_out, x), cache

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
                "token_major": self.token_major,
            }
        )
        return config


def dense_over_tokens(dense, x):
    """`dense(x)` for `x` of shape `(batch, length, channels)` (or
    `(length, batch, channels)`), as one matmul.

    The tokens are flattened into a `(batch * length, channels)` matrix
    first: XLA on CPU runs the kernel gradient of the 3D matmul about 2.5x
    slower than that of the same 2D one (see benchmarks/README.md). The
    reshapes cost nothing on any backend. `dense_matmul` computes the layer
    from its weights (on oneDNN for torch on CPU), unless the layer is
    quantized and needs its own call.
    """
    if dense.quantization_mode is None:
        return matmul_over_tokens(x, dense.kernel, dense.bias)
    return over_tokens(dense, x)


def dense_halves_over_tokens(dense, x, activation=None):
    """`dense_over_tokens(dense, x)` split into halves over its channels,
    with `activation` (if any) applied to each half.

    On a CPU each half is a matmul of its own, on half of the kernel. Split
    from one matmul's output instead, the halves cost more on every
    backend:
    - eager torch runs elementwise operations on a half, a strided view, at
      about half their speed on a contiguous tensor (exact GELU of a
      `(4096, 768)` half of a `(4096, 1536)` output 3.6 ms, of a contiguous
      `(4096, 768)` 1.6 ms, on the 2-core Intel Xeon of
      benchmarks/README.md);
    - JAX's XLA may copy each half out of the output before the YNNPACK
      fusion that reads it (in the text benchmark at 512 tokens, two
      `(512, 8, 768)` slices a block, 11 of 244 ms of a traced inference
      batch);
    - TensorFlow's XLA concatenates the halves' gradients (33 ms of
      gMLP-Ti's training step on the Xeon).
    `benchmarks/proj_in_halves.py` on the 2-core AMD EPYC with AVX-512,
    two matmuls against one split, one process taking turns, inference /
    training: text blocks at 512 tokens JAX 1.04x / 1.03x, TensorFlow
    1.14x / 1.06x, torch 1.01x / 1.03x; gMLP-Ti 1.07x / 1.05x, 1.12x /
    1.08x, 1.04x / 1.10x; gMLP-S 1.05x / 1.03x and 1.16x / 1.10x.
    TensorFlow used to split one matmul's output while the tokens were the
    rows of a matrix, so that its bias gradient summed rows (see
    `normalize` in closed_form_layer_normalization.py); two matmuls, whose
    biases are added to rows too, beat that by 1.00x / 1.06x, 1.10x / 1.11x
    and 1.02x / 1.03x. Off the CPU (not measured) one matmul is split.
    """
    activation = activation or (lambda half: half)
    if dense.quantization_mode is not None or not on_cpu(x):
        halves = ops.split(dense_over_tokens(dense, x), 2, axis=-1)
    else:
        half = dense.units // 2
        halves = [
            matmul_over_tokens(x, dense.kernel[:, part], dense.bias[part])
            for part in (slice(None, half), slice(half, None))
        ]
    return tuple(activation(half) for half in halves)


def matmul_over_tokens(x, kernel, bias):
    """`x @ kernel + bias` over the tokens of `x`, as one 2D matmul (see
    `dense_over_tokens`)."""
    return over_tokens(lambda flat: dense_matmul(flat, kernel, bias), x)


def over_tokens(function, x):
    """`function` of the `(batch * length, channels)` matrix of `x`'s
    tokens, returned in the `(batch, length, ...)` (or token-major) shape
    of `x`."""
    leading_shape = ops.shape(x)[:2]
    flat = function(ops.reshape(x, (-1, ops.shape(x)[-1])))
    return ops.reshape(flat, (*leading_shape, ops.shape(flat)[-1]))


def exact_gelu(x):
    """GELU in its exact (erf) form, as in the paper and timm.

    Written out with `erf` on JAX and TensorFlow. `jax.nn.gelu`'s exact form
    lowers through erfc to exp and divide, which XLA on CPU fuses badly with
    the gating unit after it: gMLP-Ti inference, batch 16, on the 2-core CPU
    of benchmarks/README.md, 61 images/s with `ops.gelu`, 92 written out.
    `tf.nn.gelu` uses Erfc too, which ONNX lacks, so the model would not
    export to ONNX; written out, TensorFlow runs as fast (gMLP-Ti inference
    41 against 39 images/s of CPU time). On torch the fused kernel of
    `ops.gelu` is faster (47 against 34).
    """
    if keras.backend.backend() == "torch":
        return ops.gelu(x, approximate=False)
    return 0.5 * x * (1.0 + ops.erf(x * math.sqrt(0.5)))
