"""Each CPU kernel computes what the plain path does, outputs and gradients,
and none runs off the CPU."""

import types

import keras
import numpy as np
import pytest

from keras_gmlp.layers import GMLPBlock
from keras_gmlp.layers import cpu_kernels
from tests.helpers import gradients
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

BACKEND = keras.backend.backend()
BATCH, LENGTH, HIDDEN, INTERMEDIATE = 2, 8, 8, 24
BLOCKS = {
    "dense": {},
    "causal_toeplitz_heads": {
        "causal": True,
        "spatial_weights": "toeplitz",
        "heads": 2,
    },
    "tiny_attention": {"attention_dim": 4},
}


def only(kernel):
    """`KERNELS` with `kernel` alone, where it runs now."""
    return {
        **dict.fromkeys(cpu_kernels.KERNELS, ()),
        kernel: cpu_kernels.KERNELS[kernel],
    }


def outputs_and_gradients(block, inputs, mask, kernels, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(cpu_kernels, "KERNELS", kernels)
        outputs = to_numpy(block(inputs, padding_mask=mask))
        return outputs, gradients(block, inputs, padding_mask=mask)


def assert_kernels_compute_what_the_plain_path_does(kwargs, kernels, monkeypatch):
    """A block's outputs and gradients with `kernels` (a `KERNELS`) equal
    those of the plain path, and each kernel in it was asked for."""
    block = GMLPBlock(INTERMEDIATE, **kwargs)
    block.build((None, LENGTH, HIDDEN))
    randomize_weights(block)
    inputs = np.random.default_rng(0).normal(size=(BATCH, LENGTH, HIDDEN))
    inputs = keras.ops.convert_to_tensor(inputs, "float32")
    mask = np.broadcast_to(np.arange(LENGTH) < 6, (BATCH, LENGTH))
    plain = dict.fromkeys(cpu_kernels.KERNELS, ())
    expected, expected_gradients = outputs_and_gradients(
        block, inputs, mask, plain, monkeypatch
    )
    applied = set()
    applies = cpu_kernels.applies

    def recorded(name, x):
        applied.add(name)
        return applies(name, x)

    monkeypatch.setattr(cpu_kernels, "applies", recorded)
    outputs, kernel_gradients = outputs_and_gradients(
        block, inputs, mask, kernels, monkeypatch
    )
    assert {name for name, backends in kernels.items() if backends} <= applied
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    for path, gradient in expected_gradients.items():
        np.testing.assert_allclose(
            to_numpy(kernel_gradients[path]),
            to_numpy(gradient),
            rtol=1e-4,
            atol=1e-4,
            err_msg=path,
        )


@pytest.mark.parametrize("kwargs", BLOCKS.values(), ids=BLOCKS.keys())
@pytest.mark.parametrize("kernel", cpu_kernels.KERNELS)
def test_kernel_computes_what_the_plain_path_does(kernel, kwargs, monkeypatch):
    if BACKEND not in cpu_kernels.KERNELS[kernel]:
        pytest.skip(f"{kernel} does not run on {BACKEND}")
    assert_kernels_compute_what_the_plain_path_does(kwargs, only(kernel), monkeypatch)


def test_kernels_run_on_the_cpu_only(monkeypatch):
    x = keras.ops.ones((2, 3))
    assert cpu_kernels.on_cpu(x)
    if BACKEND == "torch":
        x = types.SimpleNamespace(device=types.SimpleNamespace(type="cuda"))
    else:
        monkeypatch.setattr(
            keras.distribution, "list_devices", lambda: ["gpu:0", "cpu:0"]
        )
    assert not cpu_kernels.on_cpu(x)
    assert not any(cpu_kernels.applies(kernel, x) for kernel in cpu_kernels.KERNELS)
