import keras
from keras import ops

from keras_gmlp.layers.argument_checks import check_bool
from keras_gmlp.layers.argument_checks import check_choice
from keras_gmlp.layers.argument_checks import check_optional_positive_int
from keras_gmlp.layers.argument_checks import check_positive_float
from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.block_math import layer_norm
from keras_gmlp.layers.block_math import mix_tokens
from keras_gmlp.layers.keras_weight_shapes import layer_norm_shapes
from keras_gmlp.layers.keras_weight_shapes import prefixed
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes
from keras_gmlp.layers.tiny_attention import TinyAttention
from keras_gmlp.layers.toeplitz_fft import toeplitz_fft_mix

SPATIAL_WEIGHTS = ("dense", "toeplitz")
# From this many tokens on, a toeplitz `W v` runs as an FFT convolution,
# O(n log n) instead of O(n^2) (benchmarks/README.md, "Toeplitz gating as an
# FFT convolution").
FFT_MIN_LENGTH = 2048


@keras.saving.register_keras_serializable(package="keras_gmlp")
class SpatialGatingUnit(keras.layers.Layer):
    """The Spatial Gating Unit (SGU) of gMLP, mapping `2e` channels to `e`.

    Splits the channels into halves `u` and `v`, layer-normalises `v`, mixes
    it across tokens with `W v + b` (`W` is `n x n` over the tokens, `b` one
    entry per token) and returns `u * (W v + b)`. `W` starts near zero and
    `b` at one, so a fresh unit passes `u` through, as the paper prescribes.

    Args:
        sequence_length: int. The longest sequence the unit accepts, which
            sets the size of `W`. If `None`, the length of the first input
            the unit is built on. Shorter sequences use the leading part of
            `W`.
        causal: bool. If `True`, position `t` only sees positions `<= t`:
            `W` is masked to its lower triangle.
        spatial_weights: `"dense"` for a free `n x n` matrix, or
            `"toeplitz"` for a shift-invariant one, `W[i, j] = w[i - j]`,
            with `2n - 1` parameters.
        heads: int. The `e` gated channels are split into `heads` groups,
            each mixed by its own `W` and `b`.
        attention_dim: int or `None`. If set, aMLP: a single-head
            `TinyAttention` of this size reads `attention_inputs` and is
            added to `W v + b` before the product.
        layer_norm_epsilon: float. Epsilon of the LayerNorm on `v`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, length, 2 * e)`, or the pair
            `(u, v)` of its halves, each `(batch, length, e)`.
        padding_mask: optional boolean tensor of shape `(batch, length)`,
            `True` at real tokens. Padded tokens then change no output at a
            real token.
        attention_inputs: optional float tensor of shape
            `(batch, length, channels)` read by the tiny attention. Defaults
            to `inputs`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    sgu = keras_gmlp.layers.SpatialGatingUnit(causal=True, heads=2)
    sgu(np.ones((2, 16, 64), "float32")).shape  # (2, 16, 32)
    ```
    """

    def __init__(
        self,
        sequence_length=None,
        causal=False,
        spatial_weights="dense",
        heads=1,
        attention_dim=None,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        kwargs.pop("token_major", None)  # a layout older configs saved; ignored
        owner = "SpatialGatingUnit"
        check_optional_positive_int(owner, "sequence_length", sequence_length)
        check_bool(owner, "causal", causal)
        check_choice(owner, "spatial_weights", spatial_weights, SPATIAL_WEIGHTS)
        check_positive_int(owner, "heads", heads)
        check_optional_positive_int(owner, "attention_dim", attention_dim)
        check_positive_float(owner, "layer_norm_epsilon", layer_norm_epsilon)
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.causal = causal
        self.spatial_weights = spatial_weights
        self.heads = heads
        self.attention_dim = attention_dim
        self.layer_norm_epsilon = layer_norm_epsilon
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.tiny_attention = None

    def build(self, inputs_shape, padding_mask_shape=None, attention_inputs_shape=None):
        inputs_shape = _joined_shape(inputs_shape)
        channels = inputs_shape[-1]
        if not channels or channels % (2 * self.heads):
            raise ValueError(
                "SpatialGatingUnit splits its input channels into halves `u` "
                f"and `v`, and `v` into {self.heads} head(s), so it expects a "
                f"channel count divisible by {2 * self.heads}. Received input "
                f"shape {inputs_shape}"
            )
        self.max_length = self.sequence_length or inputs_shape[1]
        if self.max_length is None:
            raise ValueError(
                "SpatialGatingUnit needs a fixed sequence length to size its "
                "spatial weights: pass `sequence_length`. Received input shape "
                f"{inputs_shape}"
            )
        self._check_length(inputs_shape[1])
        attention_inputs_shape = attention_inputs_shape or inputs_shape
        shapes = self.weight_shapes(
            channels,
            self.max_length,
            self.spatial_weights,
            self.heads,
            self.attention_dim,
            attention_inputs_shape[-1],
        )
        check_fits_in_memory(
            weight_bytes(shapes.values(), self.dtype_policy),
            f"The weights of a SpatialGatingUnit on {self.max_length} tokens",
        )
        self.layer_norm.build((*inputs_shape[:-1], channels // 2))
        # Near-zero W and unit b: timm draws W from the same N(0, 1e-6).
        self.spatial_kernel = self.add_weight(
            name="spatial_kernel",
            shape=shapes["vars/0"],
            initializer=keras.initializers.RandomNormal(stddev=1e-6),
        )
        self.spatial_bias = self.add_weight(
            name="spatial_bias", shape=shapes["vars/1"], initializer="ones"
        )
        if self.attention_dim:
            self.tiny_attention = TinyAttention(
                self.attention_dim,
                channels // 2,
                causal=self.causal,
                dtype=self.dtype_policy,
                name="tiny_attention",
            )
            self.tiny_attention.build(attention_inputs_shape)

    def call(self, inputs, padding_mask=None, attention_inputs=None):
        if isinstance(inputs, (list, tuple)):
            u, v = inputs
        else:
            u, v = ops.split(inputs, 2, axis=-1)
        batch_size, length = ops.shape(v)[0], ops.shape(v)[1]
        if isinstance(batch_size, int) and batch_size == 0:
            # The heads' reshapes cannot infer a size from none.
            raise ValueError(
                "SpatialGatingUnit expects at least one sequence. Received a "
                f"batch of shape {tuple(v.shape)}"
            )
        self._check_length(length)
        normalized = layer_norm(self.layer_norm, v)
        if padding_mask is not None:
            normalized = normalized * ops.cast(padding_mask, v.dtype)[:, :, None]
        bias = self.spatial_bias[:, :length]
        if self.spatial_weights == "toeplitz" and length >= FFT_MIN_LENGTH:
            kernel = ops.convert_to_tensor(self.spatial_kernel)
            gate = toeplitz_fft_mix(kernel, normalized, bias, causal=self.causal)
        else:
            gate = mix_tokens(self.spatial_matrix(length), normalized, bias)
        if self.tiny_attention is not None:
            if attention_inputs is None:
                attention_inputs = ops.concatenate([u, v], axis=-1)
            gate = gate + self.tiny_attention(
                attention_inputs, padding_mask=padding_mask
            )
        return u * gate

    def call_with_cache(self, inputs, cache, index, attention_inputs=None):
        """The causal unit on `inputs` at positions `index, index + 1, ...`.

        `cache["gate"]`, `(batch, cache_length, e)`, keeps the normalised `v`
        of every position (and `cache["attention"]` the tiny attention's
        keys and values), so a new token costs one row of `W v`: O(n).
        Returns `(outputs, cache)`, the cache updated at the new positions.
        """
        if not self.causal:
            raise ValueError("Only a causal SpatialGatingUnit can decode with a cache.")
        u, v = ops.split(inputs, 2, axis=-1)
        gate_cache = ops.slice_update(
            cache["gate"],
            (0, index, 0),
            ops.cast(layer_norm(self.layer_norm, v), cache["gate"].dtype),
        )
        length, cache_length = ops.shape(v)[1], ops.shape(gate_cache)[1]
        bias = ops.convert_to_tensor(self.spatial_bias)
        bias = ops.slice(bias, (0, index), (self.heads, length))
        rows = self._spatial_rows(index, length, cache_length)
        gate = mix_tokens(rows, gate_cache, bias)
        new_cache = {"gate": gate_cache}
        if self.tiny_attention is not None:
            attended, new_cache["attention"] = self.tiny_attention.call_with_cache(
                inputs if attention_inputs is None else attention_inputs,
                cache["attention"],
                index,
            )
            gate = gate + attended
        return u * gate, new_cache

    def spatial_matrix(self, length=None):
        """The token-mixing matrices `W`, of shape `(heads, length, length)`."""
        length = self.max_length if length is None else length
        return self._spatial_rows(0, length, length)

    def _spatial_rows(self, start, num_rows, length):
        """Rows `start, ..., start + num_rows - 1` of `W` for `length` tokens,
        built without the rest of `W`: a decoding step costs O(length)."""
        if self.spatial_weights == "dense":
            kernel = ops.slice(
                ops.convert_to_tensor(self.spatial_kernel),
                (0, start, 0),
                (self.heads, num_rows, length),
            )
        else:
            offsets = row_minus_column(start, num_rows, length) + self.max_length - 1
            kernel = ops.take(self.spatial_kernel, offsets, axis=1)
        if self.causal:
            earlier = row_minus_column(start, num_rows, length) >= 0
            kernel = kernel * ops.cast(earlier, kernel.dtype)
        return kernel

    @staticmethod
    def weight_shapes(
        channels,
        sequence_length,
        spatial_weights="dense",
        heads=1,
        attention_dim=None,
        attention_input_dim=None,
    ):
        """The shapes of the unit's weights on `channels` input channels
        (`u` and `v` joined) and sequences of up to `sequence_length` tokens,
        keyed by their path in a Keras weights file. The tiny attention reads
        `attention_input_dim` channels, by default `channels`."""
        check_choice(
            "SpatialGatingUnit", "spatial_weights", spatial_weights, SPATIAL_WEIGHTS
        )
        check_positive_int("SpatialGatingUnit", "heads", heads)
        check_optional_positive_int("SpatialGatingUnit", "attention_dim", attention_dim)
        kernel_shape = {
            "dense": (sequence_length, sequence_length),
            "toeplitz": (2 * sequence_length - 1,),
        }[spatial_weights]
        shapes = {
            **layer_norm_shapes("layer_norm", channels // 2),
            "vars/0": (heads, *kernel_shape),
            "vars/1": (heads, sequence_length),
        }
        if attention_dim:
            attention = TinyAttention.weight_shapes(
                attention_input_dim or channels, attention_dim, channels // 2
            )
            shapes.update(prefixed("tiny_attention", attention))
        return shapes

    def _check_length(self, length):
        if isinstance(length, int) and not 0 < length <= self.max_length:
            raise ValueError(
                "SpatialGatingUnit was built for sequences of at least 1 and "
                f"at most {self.max_length} tokens. Received a sequence of {length} "
                "tokens"
            )

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, attention_inputs_shape=None
    ):
        *leading, channels = _joined_shape(inputs_shape)
        return (*leading, None if channels is None else channels // 2)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "causal": self.causal,
                "spatial_weights": self.spatial_weights,
                "heads": self.heads,
                "attention_dim": self.attention_dim,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config


def row_minus_column(start, num_rows, length):
    """`i - j` for rows `i = start, ..., start + num_rows - 1` and columns
    `j = 0, ..., length - 1`: a toeplitz `W`'s offsets and, where negative,
    what a causal `W` masks. Dense non-causal weights never build it, so
    their graphs hold no `arange` (which jax2onnx cannot export)."""
    rows = start + ops.arange(num_rows)
    return rows[:, None] - ops.arange(length)[None, :]


def _joined_shape(inputs_shape):
    """`inputs_shape`, or for a pair `(u, v)` the shape of the two joined."""
    if not isinstance(inputs_shape[0], (list, tuple)):
        return tuple(inputs_shape)
    *leading, channels = inputs_shape[0]
    return (*leading, None if channels is None else 2 * channels)
