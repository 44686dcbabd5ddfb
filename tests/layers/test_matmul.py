import platform

import keras
import numpy as np
import pytest

from keras_gmlp.layers import matmul
from keras_gmlp.layers.matmul import ONEDNN_MIN_OUTPUTS
from keras_gmlp.layers.matmul import ONEDNN_MIN_ROWS
from keras_gmlp.layers.matmul import cpu_vendor
from keras_gmlp.layers.matmul import dense_matmul
from keras_gmlp.layers.matmul import on_cpu
from keras_gmlp.layers.matmul import onednn_outruns_mkl
from keras_gmlp.layers.matmul import runs_on_onednn
from keras_gmlp.layers.matmul import token_matmul
from tests.helpers import gradients
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)
# (rows, outputs): below and at the sizes from which torch runs oneDNN.
SIZES = {"small": (6, 3), "large": (ONEDNN_MIN_ROWS, ONEDNN_MIN_OUTPUTS)}
IN, HEADS, TOKENS = 5, 2, 4


class Weighted(keras.layers.Layer):
    """`function(weight, bias)` with both as trainable weights, for the
    gradients helper."""

    def __init__(self, function, weight, bias):
        super().__init__()
        self.function = function
        self.weight = self.add_weight(weight.shape, initializer="zeros")
        self.bias = self.add_weight(bias.shape, initializer="zeros")
        self.weight.assign(weight)
        self.bias.assign(bias)

    def call(self, inputs):
        return self.function(inputs, self.weight, self.bias)


def dense_case(size):
    rows, outputs = SIZES[size]
    x = RNG.normal(size=(rows, IN)).astype("float32")
    kernel = RNG.normal(size=(IN, outputs)).astype("float32")
    bias = RNG.normal(size=(outputs,)).astype("float32")
    return x, kernel, bias


def token_case(size):
    columns, outputs = SIZES[size]
    x = RNG.normal(size=(HEADS, TOKENS, columns)).astype("float32")
    kernel = RNG.normal(size=(HEADS, outputs, TOKENS)).astype("float32")
    bias = RNG.normal(size=(HEADS, outputs)).astype("float32")
    return x, kernel, bias


@pytest.fixture(autouse=True)
def onednn_wherever_large(monkeypatch):
    """The "large" cases take the oneDNN path on torch whatever the
    processor (on an Intel one, MKL would serve them)."""
    monkeypatch.setattr(matmul, "onednn_outruns_mkl", lambda differentiated: True)


@pytest.mark.parametrize("size", SIZES)
def test_torch_on_cpu_takes_the_onednn_path_from_the_minimum_size(size):
    expected = keras.backend.backend() == "torch" and size == "large"
    assert runs_on_onednn(keras.ops.ones((2, 2)), *SIZES[size]) == expected


@pytest.mark.parametrize("device", ["cpu:0", "gpu:0"])
def test_on_cpu_follows_where_the_backend_computes(device, monkeypatch):
    """Torch tensors name their device; JAX and TensorFlow place
    computations on the first device that Keras lists."""
    x = keras.ops.ones((2, 2))
    if keras.backend.backend() == "torch":
        # A tensor on torch's "meta" device stands for one off the CPU.
        x = x.to("cpu" if device == "cpu:0" else "meta")
    else:
        monkeypatch.setattr(keras.distribution, "list_devices", lambda: [device])
    assert on_cpu(x) == (device == "cpu:0")


def test_torch_on_cpu_keeps_mkl_where_mkl_runs_faster(monkeypatch):
    monkeypatch.setattr(matmul, "onednn_outruns_mkl", lambda differentiated: False)
    assert not runs_on_onednn(keras.ops.ones((2, 2)), *SIZES["large"])


def test_onednn_path_follows_whether_autograd_records(monkeypatch):
    """Where oneDNN wins only the forward pass, a computation under
    `torch.no_grad` (as in `predict`) takes it and a recorded one does not."""
    torch = pytest.importorskip("torch")
    if keras.backend.backend() != "torch":
        pytest.skip("the oneDNN path is torch's")
    monkeypatch.setattr(
        matmul, "onednn_outruns_mkl", lambda differentiated: not differentiated
    )
    x = keras.ops.ones((2, 2))
    with torch.no_grad():
        assert runs_on_onednn(x, *SIZES["large"])
    with torch.enable_grad():
        assert not runs_on_onednn(x, *SIZES["large"])


@pytest.mark.parametrize(
    "vendor, capability, differentiated, expected",
    [
        ("AuthenticAMD", "AVX512", True, True),
        ("AuthenticAMD", "AVX512", False, True),
        ("AuthenticAMD", "AVX2", False, True),
        ("AuthenticAMD", "AVX2", True, False),
        ("GenuineIntel", "AVX512", False, False),
        ("GenuineIntel", "AVX2", False, False),
        ("", "AVX512", False, False),
        ("AuthenticAMD", "DEFAULT", False, False),
    ],
)
def test_onednn_serves_processors_where_it_outruns_mkl(
    vendor, capability, differentiated, expected, monkeypatch
):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(matmul, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(torch.backends.mkl, "is_available", lambda: True)
    # Uncached: the fixtures above replace the module's cached one.
    assert onednn_outruns_mkl.__wrapped__(differentiated) == expected


def test_cpu_vendor_names_the_processor_on_linux():
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("reads /proc/cpuinfo's vendor_id, on x86-64 Linux")
    assert cpu_vendor() in ("GenuineIntel", "AuthenticAMD")


@pytest.mark.parametrize("size", SIZES)
def test_dense_matmul_matches_numpy(size):
    x, kernel, bias = dense_case(size)
    np.testing.assert_allclose(
        to_numpy(dense_matmul(x, kernel, bias)), x @ kernel + bias, atol=1e-5
    )


@pytest.mark.parametrize("size", SIZES)
def test_token_matmul_matches_numpy(size):
    x, kernel, bias = token_case(size)
    np.testing.assert_allclose(
        to_numpy(token_matmul(kernel, x, bias)),
        kernel @ x + bias[:, :, None],
        atol=1e-5,
    )


@pytest.mark.parametrize("size", SIZES)
def test_dense_matmul_gradients_match_numpy(size):
    x, kernel, bias = dense_case(size)
    layer = Weighted(dense_matmul, kernel, bias)
    grads = list(gradients(layer, x).values())
    # The helper's loss is sum(sin(3 y)).
    outer = 3 * np.cos(3 * (x @ kernel + bias))
    np.testing.assert_allclose(to_numpy(grads[0]), x.T @ outer, atol=1e-3)
    np.testing.assert_allclose(to_numpy(grads[1]), outer.sum(0), atol=1e-3)


@pytest.mark.parametrize("size", SIZES)
def test_token_matmul_gradients_match_numpy(size):
    x, kernel, bias = token_case(size)
    layer = Weighted(lambda x, w, b: token_matmul(w, x, b), kernel, bias)
    grads = list(gradients(layer, x).values())
    outer = 3 * np.cos(3 * (kernel @ x + bias[:, :, None]))
    np.testing.assert_allclose(
        to_numpy(grads[0]), outer @ x.transpose(0, 2, 1), atol=1e-3
    )
    np.testing.assert_allclose(to_numpy(grads[1]), outer.sum(-1), atol=1e-3)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("function", [dense_matmul, token_matmul])
def test_bfloat16_inputs_keep_their_dtype(function, size):
    x, kernel, bias = (dense_case if function is dense_matmul else token_case)(size)
    x = keras.ops.cast(x, "bfloat16")
    args = (x, kernel, bias) if function is dense_matmul else (kernel, x, bias)
    assert keras.backend.standardize_dtype(function(*args).dtype) == "bfloat16"
