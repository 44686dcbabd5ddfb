"""The matmuls of a gMLP block, with a oneDNN path for torch on CPU.

PyTorch's CPU matmuls call MKL, which picks its AVX-512 kernels on Intel
processors only and runs AVX2 code on others; its convolutions call oneDNN,
which uses AVX-512 wherever the processor has it. A matmul is a 1x1
convolution, so on the torch backend, for tensors on the CPU of a processor
with AVX-512 not made by Intel, both functions below run as one. On the
2-core AMD EPYC of benchmarks/README.md, fp32 matmuls of gMLP-Ti's shapes
reach about 210 GFLOP/s through `torch.matmul` and 400-440 through oneDNN;
gMLP-Ti, batch 16, runs at 69-72 against 49-51 images/s in inference and 25
against 18 in training with both matmuls converted (against `ops.matmul`,
in one process). On the 2-core Intel Xeon of the same file MKL is the faster
one: gMLP-Ti at 32.9 / 12.3 images/s (inference / training) through MKL
against 29.8 / 10.7 through oneDNN, gMLP-S 13.2 / 4.5 against 13.3 / 4.1
(one process, taking turns). On the 2-core AMD EPYC with AVX2 only, oneDNN
wins the forward pass and loses the backward one, so there it serves
computations that autograd does not record, such as `predict`'s (see
`onednn_outruns_mkl`).

Elsewhere on torch (GPUs, other processors, small matmuls) the bias is
added in the matmul's own call, `addmm` or `baddbmm`, as torch's `Linear`
does: eager torch would otherwise write the product and read it back to add
the bias. At gMLP-Ti's shapes on the Intel Xeon (batch 16, median of two
runs of 30, one process taking turns): half of `proj_in` 1.89 against 2.32-2.40
ms, the spatial projection 4.13-4.20 against 4.41-4.49, `proj_out` 1.97
against 2.29. The other backends use `ops.matmul`, whose bias add XLA fuses.
"""

import functools
import platform

import keras
from keras import ops

# Below these sizes oneDNN's per-call weight reordering costs more than its
# faster kernels save. Measured on the AMD EPYC, as above: a decoding step's
# (4, 256) @ (256, 1536) takes 299 us as a convolution against 78 us through
# MKL, and one new token's row of W (1 x 1024) against (1024, 3072) 668 us
# against 169 us; from 256 rows and 16 outputs on, the convolution mostly
# wins: at gMLP-Ti's (3136, 128) @ (128, 768), forward and backward reach
# 346 against 173 GFLOP/s.
ONEDNN_MIN_ROWS = 256
ONEDNN_MIN_OUTPUTS = 16
# From this many tokens on, `lower_triangular_token_matmul` mixes a causal
# `W`'s rows in blocks of `CAUSAL_BLOCK_ROWS`.
CAUSAL_BLOCKS_MIN_LENGTH = 1024
CAUSAL_BLOCK_ROWS = 256


def dense_matmul(x, kernel, bias):
    """`x @ kernel + bias`, a `Dense` layer's computation.

    Args:
        x: tensor of shape `(rows, in)`.
        kernel: tensor of shape `(in, out)`.
        bias: tensor of shape `(out,)`.

    Returns:
        A tensor of shape `(rows, out)`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.layers.matmul import dense_matmul

    dense_matmul(np.ones((4, 3), "float32"), np.ones((3, 2), "float32"),
                 np.zeros(2, "float32"))  # (4, 2), every entry 3.0
    ```
    """
    x = ops.convert_to_tensor(x)
    kernel, bias = ops.cast(kernel, x.dtype), ops.cast(bias, x.dtype)
    if keras.backend.backend() != "torch":
        return ops.matmul(x, kernel) + bias
    import torch

    if not runs_on_onednn(x, ops.shape(x)[0], ops.shape(kernel)[1]):
        return torch.addmm(bias, x, kernel)
    # `x` read in place as a channels-last `(1, in, rows, 1)` image.
    rows, channels = x.shape
    image = x.reshape(1, rows, 1, channels).permute(0, 3, 1, 2)
    filters = kernel.T.reshape(-1, channels, 1, 1)
    outputs = torch.nn.functional.conv2d(image, filters, bias)
    return outputs.permute(0, 2, 3, 1).reshape(rows, -1)


def token_matmul(kernel, x, bias):
    """`kernel @ x + bias[..., None]` for each head: mixing over tokens.

    Args:
        kernel: tensor of shape `(heads, rows, tokens)`.
        x: tensor of shape `(heads, tokens, columns)`.
        bias: tensor of shape `(heads, rows)`.

    Returns:
        A tensor of shape `(heads, rows, columns)`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.layers.matmul import token_matmul

    token_matmul(np.ones((1, 2, 3), "float32"), np.ones((1, 3, 5), "float32"),
                 np.ones((1, 2), "float32"))  # (1, 2, 5), every entry 4.0
    ```
    """
    x = ops.convert_to_tensor(x)
    kernel, bias = ops.cast(kernel, x.dtype), ops.cast(bias, x.dtype)
    if keras.backend.backend() != "torch":
        return ops.matmul(kernel, x) + bias[:, :, None]
    import torch

    if not runs_on_onednn(x, ops.shape(x)[2], ops.shape(kernel)[1]):
        return torch.baddbmm(bias[:, :, None], kernel, x)
    # `x` read in place as a `(1, heads * tokens, columns, 1)` image, one
    # group of channels per head.
    heads, rows, tokens = kernel.shape
    image = x.reshape(1, heads * tokens, -1, 1)
    filters = kernel.reshape(heads * rows, tokens, 1, 1)
    outputs = torch.nn.functional.conv2d(image, filters, bias.reshape(-1), groups=heads)
    return outputs.reshape(heads, rows, -1)


def lower_triangular_token_matmul(kernel, x, bias):
    """`token_matmul(kernel, x, bias)` for a square, lower-triangular
    `kernel`, a causal unit's `W`, whose row `i` reads tokens `0, ..., i`.

    From `CAUSAL_BLOCKS_MIN_LENGTH` tokens on, the rows are taken in blocks
    of `CAUSAL_BLOCK_ROWS`, each a matmul over the tokens up to its last row,
    and the blocks' results are concatenated. `k` blocks cost `(k + 1) / 2k`
    of the whole product's multiply-adds: 0.625 at 1024 tokens, 0.5625 at
    2048. `benchmarks/causal_blocks.py` (the text benchmark's 4 causal dense
    blocks, 4096 tokens a batch) on the 2-core AMD EPYC with AVX-512 of
    benchmarks/README.md, blocks against one matmul, one process taking
    turns, inference / training: at 2048 tokens JAX 1.30x / 1.22x,
    TensorFlow 1.22x / 1.18x, torch 1.22x / 1.18x; at 1024 1.05x / 1.10x,
    0.98x / 1.13x (1.04x / 1.14x in another run) and 1.19x / 1.10x. At 512
    tokens, in two blocks, training gains 1.03-1.11x, but TensorFlow's
    inference loses (0.94x; JAX 1.01x, torch 1.07x), hence the threshold.

    Args:
        kernel: tensor of shape `(heads, tokens, tokens)`, zero above its
            diagonal.
        x: tensor of shape `(heads, tokens, columns)`.
        bias: tensor of shape `(heads, tokens)`.

    Returns:
        A tensor of shape `(heads, tokens, columns)`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.layers.matmul import lower_triangular_token_matmul

    kernel = np.tril(np.ones((1, 3, 3), "float32"))
    lower_triangular_token_matmul(kernel, np.ones((1, 3, 2), "float32"),
                                  np.zeros((1, 3), "float32"))
    # (1, 3, 2): rows of 1.0, 2.0 and 3.0
    ```
    """
    length = ops.shape(kernel)[-1]
    if not isinstance(length, int) or length < CAUSAL_BLOCKS_MIN_LENGTH:
        return token_matmul(kernel, x, bias)
    blocks = []
    for start in range(0, length, CAUSAL_BLOCK_ROWS):
        stop = min(start + CAUSAL_BLOCK_ROWS, length)
        rows = kernel[:, start:stop, :stop]
        blocks.append(token_matmul(rows, x[:, :stop], bias[:, start:stop]))
    return ops.concatenate(blocks, axis=1)


def runs_on_onednn(x, rows, outputs):
    """Whether the functions above run a matmul as a oneDNN convolution: on
    the torch backend, for tensors on the CPU where oneDNN runs this
    computation faster than MKL (`onednn_outruns_mkl`), when the convolution
    reads at least `ONEDNN_MIN_ROWS` rows (pixels of its image) and writes
    at least `ONEDNN_MIN_OUTPUTS` channels for each."""
    if keras.backend.backend() != "torch" or not on_cpu(x):
        return False
    import torch

    return (
        torch.backends.mkldnn.is_available()
        and onednn_outruns_mkl(differentiated=torch.is_grad_enabled())
        and rows >= ONEDNN_MIN_ROWS
        and outputs >= ONEDNN_MIN_OUTPUTS
    )


def on_cpu(x):
    """Whether `x`, a tensor of the Keras backend, is computed on a CPU.

    Traced JAX and TensorFlow tensors name no device, so for those backends
    this asks where Keras places computations: on the first of
    `keras.distribution.list_devices()`, which lists accelerators first.
    """
    if keras.backend.backend() == "torch":
        return x.device.type == "cpu"
    return keras.distribution.list_devices()[0].startswith("cpu")


@functools.cache
def onednn_outruns_mkl(differentiated):
    """Whether oneDNN runs this processor's matmuls faster than MKL, torch's
    BLAS here, in a computation that autograd records (`differentiated`) or
    in one it does not. MKL runs AVX2 code on processors not made by Intel.

    With AVX-512 there, oneDNN is faster in both passes (the module's
    docstring), or level: on a later 2-core AMD EPYC with AVX-512, at
    gMLP-Ti's and the text benchmark's shapes, 190-210 against 191-198
    GFLOP/s forward and 164-188 against 159-180 forward and backward.
    With AVX2 only, it wins the forward pass alone. On the 2-core AMD EPYC
    with AVX2 of benchmarks/README.md, at gMLP-Ti's and gMLP-S's four
    matmul shapes, oneDNN against MKL:
    - forward: 73 against 66 GFLOP/s, 81 against 73, 112 against 107, and
      114 against 84 (medians of four rounds of 15);
    - forward and backward: 35-64 against 51-107 GFLOP/s (two rounds of
      20).
    Whole classifiers' `predict_on_batch` through oneDNN, batch 16, one
    process taking turns: gMLP-S 1.16x and 1.20x as fast, gMLP-Ti 1.07x and
    1.02x (two runs each). Intel's processors keep MKL everywhere.
    """
    import torch

    if not torch.backends.mkl.is_available() or cpu_vendor() in ("GenuineIntel", ""):
        return False
    capability = torch.backends.cpu.get_cpu_capability()
    return capability == "AVX512" or (capability == "AVX2" and not differentiated)


def cpu_vendor():
    """The processor's vendor string, such as `"GenuineIntel"` or
    `"AuthenticAMD"`: from /proc/cpuinfo on Linux, else from
    `platform.processor()` (which names it on Windows); `""` if unknown."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    processor = platform.processor()
    for vendor in ("GenuineIntel", "AuthenticAMD"):
        if vendor in processor:
            return vendor
    return ""
