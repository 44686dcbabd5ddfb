"""`keras_gmlp.utils.tune_cpu_memory`: applied when called, never on import."""

import ctypes
import importlib
import os
import platform
import subprocess
import sys

import pytest

import keras_gmlp
from keras_gmlp.utils import cpu_memory
from keras_gmlp.utils.cpu_memory import SETTINGS
from keras_gmlp.utils.cpu_memory import tune_cpu_memory


class FakeLibc:
    """Records mallopt calls and answers 1 (success), as glibc does."""

    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


USER_SETTING_NAMES = ("GLIBC_TUNABLES", *cpu_memory.USER_VARIABLES)


def without_user_settings(environment):
    return {
        name: value
        for name, value in environment.items()
        if name not in USER_SETTING_NAMES
    }


@pytest.fixture
def libc(monkeypatch):
    """A fake glibc behind `ctypes.CDLL`, with `tune_cpu_memory`'s
    once-per-process cache cleared before and after."""
    fake = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    for name in USER_SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    tune_cpu_memory.cache_clear()
    yield fake
    tune_cpu_memory.cache_clear()


def test_applies_the_settings_once(libc):
    assert tune_cpu_memory()
    assert tune_cpu_memory()
    assert libc.calls == list(SETTINGS)


def test_importing_keras_gmlp_changes_nothing(libc):
    importlib.reload(keras_gmlp)
    assert libc.calls == []


USER_SETTINGS = [
    *[
        ("GLIBC_TUNABLES", f"glibc.malloc.hugetlb=1:{name}=0")
        for name in cpu_memory.USER_TUNABLES
    ],
    *[(name, "") for name in cpu_memory.USER_VARIABLES],
]


@pytest.mark.parametrize("name, value", USER_SETTINGS)
def test_leaves_the_users_own_settings_alone(libc, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not tune_cpu_memory()
    assert libc.calls == []


def test_combines_with_other_tunables(libc, monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
    assert tune_cpu_memory()
    assert len(libc.calls) == len(SETTINGS)


def test_does_nothing_without_glibc(libc, monkeypatch):
    def no_glibc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    assert not tune_cpu_memory()


# Allocates, writes and frees 64 MiB (above glibc's largest mmap threshold)
# twice, after importing keras_gmlp and, with "tune", calling
# `tune_cpu_memory`; prints the minor page faults of the second time.
REUSE_FAULTS = """
import ctypes, resource, sys
import keras_gmlp
if sys.argv[1] == "tune":
    keras_gmlp.utils.tune_cpu_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
def write_and_free(size=64 * 2**20):
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(ctypes.c_void_p(block))
write_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
write_and_free()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def reuse_faults(argument):
    completed = subprocess.run(
        [sys.executable, "-c", REUSE_FAULTS, argument],
        env=without_user_settings(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(completed.stdout.split()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_process_that_imports_keras_gmlp_gives_freed_memory_back():
    # Given back to the OS, all 16,384 pages of 4 KiB fault in again.
    assert reuse_faults("import") > 1000


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_tune_cpu_memory_keeps_freed_memory_for_reuse():
    assert reuse_faults("tune") < 100
