import ctypes

import keras
import numpy as np
import pytest

from keras_gmlp.layers import cpu_memory
from keras_gmlp.layers import matmul
from keras_gmlp.layers.cpu_memory import M_MMAP_THRESHOLD
from keras_gmlp.layers.cpu_memory import M_TRIM_THRESHOLD
from keras_gmlp.layers.cpu_memory import MAX_MMAP_THRESHOLD
from keras_gmlp.layers.cpu_memory import keep_freed_memory
from tests.helpers import run_every_matmul_on_onednn


class FakeLibc:
    """Records mallopt calls and answers 1 (success), as glibc does."""

    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    """A fake glibc behind `ctypes.CDLL`, with `keep_freed_memory`'s
    once-per-process cache cleared before and after."""
    fake = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    for name in ("GLIBC_TUNABLES", *cpu_memory.USER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    keep_freed_memory.cache_clear()
    yield fake
    keep_freed_memory.cache_clear()


def test_sets_both_thresholds_once(libc):
    assert keep_freed_memory()
    assert keep_freed_memory()
    assert libc.calls == [
        (M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD),
        (M_TRIM_THRESHOLD, 2**31 - 1),
    ]


USER_SETTINGS = [
    ("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=0"),
    ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0"),
    ("MALLOC_MMAP_THRESHOLD_", "0"),
    ("MALLOC_TRIM_THRESHOLD_", "0"),
]


@pytest.mark.parametrize("name, value", USER_SETTINGS)
def test_leaves_the_users_own_thresholds_alone(libc, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not keep_freed_memory()
    assert libc.calls == []


def test_combines_with_other_tunables(libc, monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
    assert keep_freed_memory()
    assert len(libc.calls) == 2


def test_does_nothing_without_glibc(libc, monkeypatch):
    def no_glibc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    assert not keep_freed_memory()


@pytest.mark.parametrize("function", ["dense", "token"])
def test_the_onednn_matmuls_apply_it(libc, monkeypatch, function):
    run_every_matmul_on_onednn(monkeypatch)
    ones = np.ones((2, 3, 3), "float32")
    if function == "dense":
        matmul.dense_matmul(ones[0], ones[0], ones[0, 0])
    else:
        matmul.token_matmul(ones, ones, ones[:, 0])
    on_torch = keras.backend.backend() == "torch"
    assert len(libc.calls) == (2 if on_torch else 0)
