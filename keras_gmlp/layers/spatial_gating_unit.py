import math

import keras
from keras import ops

from keras_gmlp.layers.closed_form_layer_normalization import (
    ClosedFormLayerNormalization,
)
from keras_gmlp.layers.matmul import lower_triangular_token_matmul
from keras_gmlp.layers.matmul import token_matmul
from keras_gmlp.layers.tiny_attention import TinyAttention

SPATIAL_WEIGHTS = ("dense", "toeplitz")
# From this many tokens on, toeplitz `W v` runs as an FFT convolution,
# O(n log n) instead of O(n^2). Measured on 2 CPU cores with
# benchmarks/toeplitz_fft.py (4 token-major toeplitz blocks of width 256,
# 4096 tokens a batch; FFT against matmul, inference / training): at 2048
# tokens JAX 1.49x / 1.34x, TensorFlow 1.53x / 1.16x, torch 1.63x / 1.50x;
# at 1024 JAX 1.09x / 0.96x, TensorFlow 0.95x / 0.77x, torch 1.00x / 0.97x.
# Below 2048 training loses on every backend, hence one threshold for all.
FFT_MIN_LENGTH = 2048


@keras.saving.register_keras_serializable(package="keras_gmlp")
class SpatialGatingUnit(keras.layers.Layer):
    """The Spatial Gating Unit (SGU) of gMLP, mapping `2e` channels to `e`.

    The input channels are split into halves `u` (first) and `v` (second).
    `v` is layer-normalised and mixed across tokens by a learned projection,
    `v' = W v + b`, where `W` is `n x n` over the token axis and `b` has one
    entry per token. The output is `u * v'`. `W` starts near zero and `b` at
    one, so a fresh unit passes `u` through and a fresh gMLP block is a plain
    feed-forward network, as the paper prescribes.

    Args:
        sequence_length: int. The longest sequence the unit accepts, which
            sets the size of `W`. If `None`, it is the length of the first
            input the unit is built on. Shorter sequences use the leading
            `m x m` part of `W`.
        causal: bool. If `True`, position `t` only sees positions `<= t`:
            `W` is masked to its lower triangle.
        spatial_weights: `"dense"` for a free `n x n` matrix, or
            `"toeplitz"` for a shift-invariant one with `2n - 1` parameters,
            `W[i, j] = w[i - j]`.
        heads: int. Multi-head gating: the `e` gated channels are split into
            `heads` groups, each mixed by its own `W` and `b`.
        attention_dim: int or `None`. If set, aMLP: a single-head
            `TinyAttention` of this size reads `attention_inputs` (the gMLP
            block's normalised input) and is added to `v'` before the
            product. `None` or `0` turns it off.
        layer_norm_epsilon: float. Epsilon of the LayerNorm on `v`.
        token_major: bool. If `True`, inputs and outputs are token-major,
            `(length, batch, channels)`, like the `time_major` of Keras 2's
            RNNs: `W v` is then one matmul on `v` as it lies, with no
            transposes of `v` before and after it. Padding masks stay
            `(batch, length)`; the tiny attention's inputs are token-major
            too. Both backbones run their blocks token-major (see
            `GMLPBlock`).
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, length, 2 * e)`, or
            `(length, batch, 2 * e)` if `token_major`.
        padding_mask: optional boolean tensor of shape `(batch, length)`,
            `True` at real tokens. Padded tokens then change no output at a
            real token, neither through `W` nor through the tiny attention.
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
        token_major=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if spatial_weights not in SPATIAL_WEIGHTS:
            raise ValueError(
                f"`spatial_weights` must be one of {SPATIAL_WEIGHTS}. "
                f"Received: spatial_weights={spatial_weights!r}"
            )
        if heads < 1:
            raise ValueError(f"`heads` must be at least 1. Received: heads={heads}")
        self.sequence_length = sequence_length
        self.causal = causal
        self.spatial_weights = spatial_weights
        self.heads = heads
        self.attention_dim = attention_dim
        self.layer_norm_epsilon = layer_norm_epsilon
        self.token_major = token_major
        self.layer_norm = ClosedFormLayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.tiny_attention = None

    @property
    def token_axis(self):
        """The axis of the tokens in this unit's inputs and outputs."""
        return 0 if self.token_major else 1

    def build(self, inputs_shape, padding_mask_shape=None, attention_inputs_shape=None):
        channels = inputs_shape[-1]
        if channels is None or channels % (2 * self.heads):
            raise ValueError(
                "SpatialGatingUnit splits its input channels into halves `u` "
                f"and `v`, and `v` into {self.heads} head(s), so it expects a "
                f"channel count divisible by {2 * self.heads}. Received input "
                f"shape {inputs_shape}"
            )
        self.max_length = self.sequence_length or inputs_shape[self.token_axis]
        if self.max_length is None:
            raise ValueError(
                "SpatialGatingUnit needs a fixed sequence length to size its "
                "spatial weights: pass `sequence_length`. Received input shape "
                f"{inputs_shape}"
            )
        self._check_length(inputs_shape[self.token_axis])
        gate_dim = channels // 2
        self.layer_norm.build((*inputs_shape[:-1], gate_dim))
        kernel_size = {
            "dense": (self.max_length, self.max_length),
            "toeplitz": (2 * self.max_length - 1,),
        }[self.spatial_weights]
        # Near-zero W and unit b make a fresh unit pass `u` through; timm
        # draws W from the same N(0, 1e-6).
        self.spatial_kernel = self.add_weight(
            name="spatial_kernel",
            shape=(self.heads, *kernel_size),
            initializer=keras.initializers.RandomNormal(stddev=1e-6),
        )
        self.spatial_bias = self.add_weight(
            name="spatial_bias",
            shape=(self.heads, self.max_length),
            initializer="ones",
        )
        if self.attention_dim:
            self.tiny_attention = TinyAttention(
                self.attention_dim,
                gate_dim,
                causal=self.causal,
                dtype=self.dtype_policy,
                name="tiny_attention",
            )
            attention_inputs_shape = attention_inputs_shape or inputs_shape
            if self.token_major:
                attention_inputs_shape = swap_leading_axes(attention_inputs_shape)
            self.tiny_attention.build(attention_inputs_shape)

    def call(self, inputs, padding_mask=None, attention_inputs=None):
        u, v = ops.split(inputs, 2, axis=-1)
        if attention_inputs is None:
            attention_inputs = inputs
        return self.gate(u, v, padding_mask, attention_inputs)

    def gate(self, u, v, padding_mask=None, attention_inputs=None):
        """What `call` computes once it has split its input in two.

        `GMLPBlock` calls it with each half computed on its own (see
        `GMLPBlock._activated_halves`).

        Args:
            u: float tensor of shape `(batch, length, e)` (`(length, batch,
                e)` if `token_major`), the gated half.
            v: float tensor of the same shape, the half mixed across tokens.
            padding_mask: as in `call`.
            attention_inputs: what the tiny attention reads; required with
                one.

        Returns:
            `u * (W LayerNorm(v) + b)`, of the shape of `u`.
        """
        self._check_length(v.shape[self.token_axis])
        v = self.layer_norm(v)
        if padding_mask is not None:
            mask = ops.cast(padding_mask, v.dtype)
            v = v * (ops.transpose(mask) if self.token_major else mask)[:, :, None]
        length = ops.shape(v)[self.token_axis]
        bias = self.spatial_bias[:, :length]
        if self.spatial_weights == "toeplitz" and length >= FFT_MIN_LENGTH:
            gate = self._toeplitz_projection(v, bias)
        else:
            gate = self._spatial_projection(
                v,
                self.spatial_matrix(length),
                bias,
                self.token_major,
                lower_triangular=self.causal,
            )
        if self.tiny_attention is not None:
            gate = gate + self._token_major_as_batch_major(
                self.tiny_attention, attention_inputs, padding_mask=padding_mask
            )
        return u * gate

    def _token_major_as_batch_major(self, function, x, *args, **kwargs):
        """`function` of batch-major `x` and of the rest, in this unit's
        layout: token-major `x` and results are transposed to and from it."""
        if not self.token_major:
            return function(x, *args, **kwargs)
        return swap_batch_and_tokens(
            function(swap_batch_and_tokens(x), *args, **kwargs)
        )

    def call_with_cache(self, inputs, cache, index, attention_inputs=None):
        """The causal unit on `inputs` at positions `index, index + 1, ...`,
        given the earlier positions' state in `cache`.

        Each new token costs O(cache length) per unit: the cache keeps the
        normalised `v` of every position (and the tiny attention's keys and
        values), so only the new rows of `W v` are computed.

        A token-major unit takes and returns token-major tensors and keeps
        the same batch-major cache: a decoding step holds a token or a few,
        so it runs batch-major at the cost of two tiny transposes.

        Args:
            inputs: float tensor of shape `(batch, length, 2 * e)`, or
                `(length, batch, 2 * e)` if `token_major`.
            cache: dict with `"gate"`, of shape `(batch, cache_length, e)`,
                and, with a tiny attention, `"attention"`, of shape
                `(batch, 2, cache_length, attention_dim)`.
            index: int or int tensor, the position of the first new token.
            attention_inputs: what the tiny attention reads, in the layout of
                `inputs`; defaults to `inputs`.

        Returns:
            `(outputs, cache)`, the cache updated at the new positions.
        """
        if not self.causal:
            raise ValueError("Only a causal SpatialGatingUnit can decode with a cache.")
        if attention_inputs is None:
            attention_inputs = inputs
        if not self.token_major:
            return self._decode(inputs, cache, index, attention_inputs)
        outputs, cache = self._decode(
            swap_batch_and_tokens(inputs),
            cache,
            index,
            swap_batch_and_tokens(attention_inputs),
        )
        return swap_batch_and_tokens(outputs), cache

    def _decode(self, inputs, cache, index, attention_inputs):
        """`call_with_cache` on batch-major `inputs`."""
        u, v = ops.split(inputs, 2, axis=-1)
        gate_cache = ops.slice_update(
            cache["gate"],
            (0, index, 0),
            ops.cast(self.layer_norm(v), cache["gate"].dtype),
        )
        length, cache_length = ops.shape(v)[1], ops.shape(gate_cache)[1]
        rows = self._spatial_rows(index, length, cache_length)
        bias = ops.cast(self.spatial_bias, gate_cache.dtype)
        bias = ops.slice(bias, (0, index), (self.heads, length))
        gate = self._spatial_projection(gate_cache, rows, bias, token_major=False)
        new_cache = {"gate": gate_cache}
        if self.tiny_attention is not None:
            attended, new_cache["attention"] = self.tiny_attention.call_with_cache(
                attention_inputs, cache["attention"], index
            )
            gate = gate + attended
        return u * gate, new_cache

    def spatial_matrix(self, length=None):
        """The token-mixing matrices `W`, of shape `(heads, length, length)`.

        Args:
            length: int. The sequence length; defaults to the longest one.
        """
        length = self.max_length if length is None else length
        return self._spatial_rows(0, length, length)

    def _spatial_rows(self, start, num_rows, length):
        """Rows `start, ..., start + num_rows - 1` of `W` for `length`
        tokens: `(heads, num_rows, length)`, built without the rest of `W`
        so that a decoding step costs O(length), not O(length^2)."""
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

    def _spatial_projection(self, v, kernel, bias, token_major, lower_triangular=False):
        """`kernel v + bias` over the token axis, one of each per head.

        `v` has shape `(batch, length, e)`, or `(length, batch, e)` if
        `token_major`, `kernel` `(heads, rows, length)` and `bias`
        `(heads, rows)`; the result has `rows` tokens, in the layout of `v`.
        A `lower_triangular` (causal, square) `kernel` skips the products
        with its upper triangle's zeros (`lower_triangular_token_matmul`).

        The tokens go first, `(heads, length, batch * channels)`, so that each
        head is one plain matmul. On the 2-core CPU of benchmarks/README.md,
        gMLP-Ti trains faster this way than with the equivalent einsum on every
        backend (JAX 16.0 against 14.0 images/s), whose gradient with respect
        to `W` contracts two axes at once. Token-major `v` with one head
        already lies that way: its transposes below move only an axis of
        size one, and cost nothing.
        """
        if token_major:
            length, batch_size = ops.shape(v)[0], ops.shape(v)[1]
            to_heads_first, from_heads_first = (2, 0, 1, 3), (1, 2, 0, 3)
        else:
            batch_size, length = ops.shape(v)[0], ops.shape(v)[1]
            to_heads_first = from_heads_first = (2, 1, 0, 3)
        rows = ops.shape(kernel)[1]
        v = ops.reshape(v, (*ops.shape(v)[:2], self.heads, -1))
        v = ops.reshape(ops.transpose(v, to_heads_first), (self.heads, length, -1))
        matmul = lower_triangular_token_matmul if lower_triangular else token_matmul
        mixed = matmul(kernel, v, bias)
        mixed = ops.reshape(mixed, (self.heads, rows, batch_size, -1))
        mixed = ops.transpose(mixed, from_heads_first)
        return ops.reshape(mixed, (*ops.shape(mixed)[:2], -1))

    def _toeplitz_projection(self, v, bias):
        """`W v + bias` for toeplitz `W`, as a convolution over the tokens
        computed with FFTs: O(n log n) per channel instead of O(n^2).

        Row `i` of `W v` is `sum_j w[i - j] v[j]`, entry `i + n - 1` of the
        full convolution of `v` with the `2n - 1` kernel entries for offsets
        `-(n - 1) ... n - 1`. FFTs of length at least `2n - 1` compute those
        entries without wrap-around.

        The FFTs run over a last axis of tokens, which one transpose brings
        from either layout, and one takes back. Token-major `v` transposed to
        batch-major first and back after, two transposes each way, trained
        slower on TensorFlow: the text benchmark's 4 toeplitz blocks at 2048
        tokens on the 2-core AMD EPYC with AVX-512 of benchmarks/README.md,
        one process taking turns, 1,042 against 1,116 ms and 1,098 against
        1,191 a training step; JAX and torch within 1.5% either way.

        The bias is added after the transpose back. Added before it, its
        gradient sums the transposed output gradient over batch and
        channels, and XLA then transposes that gradient twice, once for the
        sum and once, padded, for the FFT, each time recomputing it from
        three operands read across their rows. The same blocks, training:
        TensorFlow 986 against 1,101 ms and 1,022 against 1,127 (token-major),
        994 against 1,091 (batch-major); JAX 855 against 894; torch 820
        against 818; inference unchanged.
        """
        length = ops.shape(v)[self.token_axis]
        kernel = ops.slice(
            ops.convert_to_tensor(self.spatial_kernel, "float32"),
            (0, self.max_length - length),
            (self.heads, 2 * length - 1),
        )
        if self.causal:  # no weight for the later tokens, at offsets < 0
            offsets = ops.arange(2 * length - 1) - (length - 1)
            kernel = kernel * ops.cast(offsets >= 0, kernel.dtype)
        fft_length = 2 ** math.ceil(math.log2(2 * length - 1))
        # (batch, heads, channels, tokens): the FFT runs over the last axis.
        v = ops.reshape(ops.cast(v, "float32"), (*ops.shape(v)[:2], self.heads, -1))
        tokens_last = (1, 2, 3, 0) if self.token_major else (0, 2, 3, 1)
        v_real, v_imag = ops.rfft(ops.transpose(v, tokens_last), fft_length)
        k_real, k_imag = ops.rfft(kernel, fft_length)
        k_real, k_imag = k_real[:, None, :], k_imag[:, None, :]
        mixed = ops.irfft(
            (
                v_real * k_real - v_imag * k_imag,
                v_real * k_imag + v_imag * k_real,
            ),
            fft_length,
        )
        tokens_back = (3, 0, 1, 2) if self.token_major else (0, 3, 1, 2)
        mixed = ops.transpose(mixed[..., length - 1 : 2 * length - 1], tokens_back)
        # (tokens, heads, 1): the bias broadcast over the batch and channels.
        token_bias = ops.transpose(ops.cast(bias, "float32"))[:, :, None]
        mixed = mixed + (token_bias[:, None] if self.token_major else token_bias)
        return ops.cast(
            ops.reshape(mixed, (*ops.shape(mixed)[:2], -1)), self.compute_dtype
        )

    def _check_length(self, length):
        if length is not None and length > self.max_length:
            raise ValueError(
                f"SpatialGatingUnit was built for sequences of at most "
                f"{self.max_length} tokens. Received a sequence of {length} "
                "tokens"
            )

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, attention_inputs_shape=None
    ):
        return (*inputs_shape[:-1], inputs_shape[-1] // 2)

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
                "token_major": self.token_major,
            }
        )
        return config


def row_minus_column(start, num_rows, length):
    """`i - j` for rows `i = start, ..., start + num_rows - 1` and columns
    `j = 0, ..., length - 1`: a toeplitz `W`'s index and, where negative, the
    later tokens a causal `W` masks. Dense non-causal weights never build
    it, so their graphs hold no `arange` (which jax2onnx cannot export)."""
    rows = start + ops.arange(num_rows)
    return rows[:, None] - ops.arange(length)[None, :]


def swap_leading_axes(shape):
    """A shape with its first two axes swapped: batch-major to token-major
    and back."""
    return (shape[1], shape[0], *shape[2:])


def swap_batch_and_tokens(x):
    """`x` of shape `(batch, length, channels)` as `(length, batch, channels)`,
    or back: the layout change of token-major blocks (see
    `SpatialGatingUnit`'s `token_major`)."""
    return ops.transpose(x, (1, 0, 2))
