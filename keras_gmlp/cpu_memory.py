"""glibc's malloc set to keep freed memory, applied when keras_gmlp is imported.

On the CPU, XLA (JAX, TensorFlow) and PyTorch take large buffers from
`malloc`. By default glibc serves blocks above its mmap threshold (128 KiB
to 32 MiB) with fresh `mmap`s, gives each thread that allocates its own
arena, unmaps an arena's heap once it is empty and returns freed memory at
the top of the main heap to the OS. Every training step or forward pass then
faults its buffers into memory again, 4 KiB at a time. Measured on the
2-core CPU of benchmarks/README.md, batch 16 (minor page faults a call from
`getrusage`, images/s, separate processes):

- JAX training: 417,000 faults and 15.7 images/s a gMLP-Ti step by default,
  0 and 23.3 with the three settings below; gMLP-S 781,000 and 6.4, 0 and
  9.3. It needs all three: without any one of them 415,000-460,000 faults
  and 14.6-15.8 images/s remain at gMLP-Ti. JAX starts its threads, which
  then keep their arenas, at its first computation, which is why these
  settings are made when keras_gmlp is imported.
- torch, gMLP-S inference: 455,000 faults and 14.4 images/s by default; a
  few and 27-29 images/s.
- TensorFlow, JAX inference and torch training: no change beyond the
  run-to-run noise.

The peak resident set ranged from 4% lower to 3% higher than by default in
these runs, lower in most. What is freed stays with the process for reuse
rather than going back to the OS, as with the memory pools of TensorFlow's
and PyTorch's GPU allocators.
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
def keep_freed_memory():
    """Sets glibc's malloc to keep freed memory for reuse, once per process:
    `import keras_gmlp` calls it.

    Nothing changes where the environment sets any of these parameters itself
    (for example `MALLOC_ARENA_MAX=8`, or any of `USER_TUNABLES` in
    `GLIBC_TUNABLES`), which is also how to keep glibc's defaults, or where the
    C library is not glibc (macOS, musl, Windows). Other tunables, such as
    `glibc.malloc.hugetlb=1` (README.md's Performance section), combine
    with these settings.

    Returns:
        Whether the settings were applied.

    Example:
    ```python
    from keras_gmlp.cpu_memory import keep_freed_memory

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
    # mallopt returns 1 on success.
    return all(libc.mallopt(parameter, value) for parameter, value in SETTINGS)
