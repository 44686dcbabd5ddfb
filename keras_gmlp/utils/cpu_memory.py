"""An opt-in setting of glibc's malloc that keeps freed memory for reuse.

On the CPU, XLA (JAX, TensorFlow) and PyTorch take large buffers from
`malloc`. By default glibc serves blocks above its mmap threshold with fresh
`mmap`s, gives each allocating thread its own arena and returns freed memory
to the OS, so every training step or forward pass faults its buffers into
memory again, 4 KiB at a time. `tune_cpu_memory` keeps that memory in the
process instead (benchmarks/README.md, "glibc keeps freed memory", has the
figures).
"""

import ctypes
import functools
import os

# mallopt's parameter numbers (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
# Never trim the heap (-1, as `man mallopt` documents), serve no block with
# its own mmap, and let all threads share the main arena, whose heap is never
# unmapped.
SETTINGS = ((M_TRIM_THRESHOLD, -1), (M_MMAP_MAX, 0), (M_ARENA_MAX, 1))
# Where users set malloc's behaviour themselves, through glibc's tunables
# (`GLIBC_TUNABLES=glibc.malloc.arena_max=8`) or its older variables.
USER_TUNABLES = (
    "glibc.malloc.trim_threshold",
    "glibc.malloc.mmap_threshold",
    "glibc.malloc.mmap_max",
    "glibc.malloc.arena_max",
)
USER_VARIABLES = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "MALLOC_ARENA_MAX",
)


@functools.cache
def tune_cpu_memory():
    """Sets glibc's malloc to keep freed memory for reuse, once per process.

    Never trims the heap, serves no block with its own `mmap` and lets all
    threads share one arena. Training and inference on a CPU then stop
    faulting their buffers in at every step. The trade-off: memory a
    process frees stays with it, for its own reuse, and is not returned to
    the OS, as with the memory pools of GPU allocators. Call it first thing,
    before JAX's first computation starts its threads (which then keep their
    own arenas). `keras-gmlp` commands and the benchmarks call it;
    `import keras_gmlp` does not.

    Nothing changes where the environment sets any of these parameters
    itself (for example `MALLOC_ARENA_MAX=8`, or any of `USER_TUNABLES` in
    `GLIBC_TUNABLES`), or where the C library is not glibc (macOS, musl,
    Windows).

    Returns:
        Whether the settings were applied.

    Example:
    ```python
    import keras_gmlp

    keras_gmlp.utils.tune_cpu_memory()  # True on Linux with glibc
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
    # mallopt returns 1 on success.
    return all(libc.mallopt(parameter, value) for parameter, value in SETTINGS)
