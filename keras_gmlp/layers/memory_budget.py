"""Refuses weights larger than the memory left, before they are allocated.

A gating unit's `W` grows with the square of the tokens: `image_shape=(4096,
4096, 3)` or `max_sequence_length=1000000` asks for hundreds of GB. JAX then
aborts the whole process (a failed check in XLA, no Python exception), and
TensorFlow and torch try to allocate it. The layers and backbones count the
bytes their weights take from their arguments alone and raise a
`MemoryError` that states the size instead.
"""

import math
import os
import pathlib
import re

import keras

try:
    import resource
except ImportError:  # Windows has no resource limits
    resource = None

_MEMINFO = pathlib.Path("/proc/meminfo")
_STATM = pathlib.Path("/proc/self/statm")
_CGROUP = pathlib.Path("/sys/fs/cgroup")


def weight_bytes(shapes, dtype=None):
    """The bytes of variables of `shapes` under the dtype policy `dtype`
    (a name, a policy or its config; `None` for Keras' default)."""
    policy = keras.config.dtype_policy() if dtype is None else dtype
    policy = keras.dtype_policies.get(policy)
    bits = re.search(r"\d+", policy.variable_dtype or "float32")
    return sum(math.prod(shape) for shape in shapes) * int(bits.group()) // 8


def check_fits_in_memory(num_bytes, what):
    """Raises a `MemoryError` stating the size when `num_bytes` exceed the
    memory this process can still get; `what` names what they are for."""
    available = available_memory()
    if available is not None and num_bytes > available:
        raise MemoryError(
            f"{what}: {format_bytes(num_bytes)}, more than the "
            f"{format_bytes(available)} of memory available. Choose smaller "
            "sizes."
        )


def available_memory():
    """The bytes this process can still allocate: the least of the memory
    the system has available, its cgroup's limit and the address space its
    `RLIMIT_AS` leaves; `None` where none of them is known."""
    limits = [_system_available(), _cgroup_available(), _address_space_available()]
    limits = [limit for limit in limits if limit is not None]
    return min(limits) if limits else None


def format_bytes(num_bytes):
    """`num_bytes` in the largest binary unit that keeps a number >= 1."""
    size, unit = float(num_bytes), "bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{size:.1f} {unit}"


def _system_available():
    if _MEMINFO.exists():
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # not on macOS
        return None


def _cgroup_available():
    limit_file, usage_file = _CGROUP / "memory.max", _CGROUP / "memory.current"
    if not (limit_file.exists() and usage_file.exists()):
        return None
    limit = limit_file.read_text().strip()
    if limit == "max":
        return None
    return int(limit) - int(usage_file.read_text())


def _address_space_available():
    if resource is None or not _STATM.exists():
        return None
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return None
    used = int(_STATM.read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return limit - used
