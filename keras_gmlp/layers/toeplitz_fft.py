import math

from keras import ops


def toeplitz_fft_mix(kernel, v, bias, causal=False):
    """`W v + bias` over the tokens for a toeplitz `W`, by FFT: O(n log n).

    Row `i` of `W v` is `sum_j w[i - j] v[j]`, entry `i + n - 1` of the full
    convolution of `v` with the taps `w[1 - n], ..., w[n - 1]`, which FFTs of
    length at least `2n - 1` compute without wrap-around. The FFTs run in
    float32, over a last axis of tokens.

    Args:
        kernel: tensor of shape `(heads, 2 m - 1)` for some `m >= n`: `w[k]`
            at index `k + m - 1`, as `SpatialGatingUnit` keeps it.
        v: tensor of shape `(batch, n, channels)`, whose channels are split
            into `heads` groups.
        bias: tensor of shape `(heads, n)`.
        causal: bool. If `True`, the taps of later tokens (`k < 0`) are zero.

    Returns:
        A tensor of the shape and dtype of `v`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.layers.toeplitz_fft import toeplitz_fft_mix

    kernel = np.array([[0.0, 1.0, 0.0]], "float32")  # W = identity, n = 2
    toeplitz_fft_mix(kernel, np.ones((1, 2, 4), "float32"), np.zeros((1, 2)))
    # (1, 2, 4), every entry 1.0
    ```
    """
    batch_size, length, dtype = ops.shape(v)[0], ops.shape(v)[1], v.dtype
    heads, max_length = ops.shape(kernel)[0], (ops.shape(kernel)[1] + 1) // 2
    taps = ops.slice(kernel, (0, max_length - length), (heads, 2 * length - 1))
    if causal:
        offsets = ops.arange(2 * length - 1) - (length - 1)
        taps = taps * ops.cast(offsets >= 0, taps.dtype)
    fft_length = 2 ** math.ceil(math.log2(2 * length - 1))
    # (batch, heads, channels, tokens): the FFT runs over the last axis.
    v = ops.reshape(ops.cast(v, "float32"), (batch_size, length, heads, -1))
    v_real, v_imag = ops.rfft(ops.transpose(v, (0, 2, 3, 1)), fft_length)
    taps = ops.cast(taps, "float32")
    k_real, k_imag = (part[:, None, :] for part in ops.rfft(taps, fft_length))
    product = (v_real * k_real - v_imag * k_imag, v_real * k_imag + v_imag * k_real)
    mixed = ops.irfft(product, fft_length)[..., length - 1 : 2 * length - 1]
    # The bias after the transpose back: before it, its gradient made XLA
    # transpose the output gradient twice (benchmarks/README.md, "The FFT's
    # transposes").
    bias = ops.transpose(ops.cast(bias, "float32"))[:, :, None]
    mixed = ops.transpose(mixed, (0, 3, 1, 2)) + bias
    return ops.cast(ops.reshape(mixed, (batch_size, length, -1)), dtype)
