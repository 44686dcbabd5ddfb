"""glibc's malloc settings for torch on the CPU.

PyTorch's CPU tensors come from `malloc`. By default glibc serves blocks
above a threshold (128 KiB, rising to at most 32 MiB) with fresh `mmap`s and
returns freed memory at the top of its heap to the OS, so every forward pass
faults its large activations into memory page by page again. gMLP-S,
batch 16, on the torch backend of the 2-core CPU of benchmarks/README.md:
455,000 page faults and 14.4 images/s an inference call by default; 16,000
and 28.1 images/s with the settings below (training 8.3 to 9.2 images/s),
and a lower peak resident set (3,956 against 4,018 MiB). TensorFlow keeps
its own pool. JAX's training step faults the same way, but from XLA's
threads, which only settings made before they start reach: README.md's
`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`.
"""

import ctypes
import functools
import os

# mallopt's parameter numbers (malloc.h), and the largest mmap threshold
# glibc accepts on 64-bit systems.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MAX_MMAP_THRESHOLD = 32 * 2**20
# Where users set these two thresholds themselves: glibc's tunables
# (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...`) or its older variables.
USER_TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")
USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


@functools.cache
def keep_freed_memory():
    """Sets glibc to keep freed blocks of up to 32 MiB for reuse, once per
    process: the oneDNN matmuls of `matmul.py` call it.

    Nothing changes where the environment sets either threshold itself
    (through `GLIBC_TUNABLES`, `MALLOC_MMAP_THRESHOLD_` or
    `MALLOC_TRIM_THRESHOLD_`) or where the C library is not glibc (macOS,
    musl, Windows). Other tunables, such as the `glibc.malloc.hugetlb=1`
    that README.md's Performance section recommends, combine with these
    settings.

    Returns:
        Whether the settings were applied.

    Example:
    ```python
    from keras_gmlp.layers.cpu_memory import keep_freed_memory

    keep_freed_memory()  # True on Linux with glibc
    ```
    """
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if any(name in tunables for name in USER_TUNABLES) or any(
        name in os.environ for name in USER_VARIABLES
    ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # mallopt returns 1 on success. Its value is a C int, hence the trim
    # threshold of 2 GiB - 1.
    return bool(
        libc.mallopt(M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD)
        and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
    )
