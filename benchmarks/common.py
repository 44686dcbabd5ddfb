"""What the benchmark scripts share: timing, worker processes, machine facts."""

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from unittest import mock

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def timed(fn, repeats):
    """(seconds of the first call, median seconds of `repeats` later calls)."""
    return timed_side_by_side({"fn": fn}, repeats)["fn"]


def timed_side_by_side(functions, repeats):
    """`timed` for a dict of functions, whose repeats take turns, so that a
    change in the machine's load falls on all of them alike. Returns
    `{name: (first, median)}`."""
    firsts = {name: seconds(fn) for name, fn in functions.items()}
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            times[name].append(seconds(fn))
    return {name: (firsts[name], statistics.median(times[name])) for name in functions}


def patched(function, target, name, value):
    """`function`, made to run with `target.name` set to `value` (restored
    after each call)."""

    def call():
        with mock.patch.object(target, name, value):
            return function()

    return call


def forms_side_by_side(forms, build, in_form, inputs, targets, repeats):
    """Times a model's inference and training in each of `forms`, their
    calls taking turns, after checking that every form predicts what the
    first one does.

    `build()` makes the model (with the same weights each time, seeded
    here), and `in_form(form, call)` returns `call` made to run in `form`.
    Returns `{(form, mode): median seconds}`, `mode` "inference" or
    "training".
    """
    import keras
    import numpy as np

    calls, expected = {}, None
    for form in forms:
        keras.utils.set_random_seed(0)
        model = build()
        predict = in_form(form, lambda m=model: m.predict_on_batch(inputs))
        outputs = predict()
        expected = outputs if expected is None else expected
        np.testing.assert_allclose(outputs, expected, rtol=1e-3, atol=1e-3)
        calls[form, "inference"] = predict
        calls[form, "training"] = in_form(
            form, lambda m=model: m.train_on_batch(inputs, targets)
        )
    timings = timed_side_by_side(calls, repeats)
    return {key: median for key, (_, median) in timings.items()}


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def jit_compile():
    """The `jit_compile` the benchmarks pass to `Model.compile`. XLA on JAX
    and TensorFlow, where Keras' default leaves TensorFlow uncompiled on
    CPU-only machines (TensorFlow's XLA runs gMLP-Ti 1.2x faster here, see
    benchmarks/README.md). `torch.compile` on a GPU, where eager Keras is bound by
    Python (gMLP-Ti inference on an H100, bf16, batch 256: 68 ms eager,
    17 ms compiled); eager on a CPU, where compiling takes minutes on 2
    cores and runs slower than eager (benchmarks/README.md). `BENCH_TORCH_EAGER=1`
    keeps torch eager on a GPU too, where compiling 30 blocks' training
    step takes minutes."""
    import keras

    if keras.backend.backend() != "torch":
        return True
    import torch

    return torch.cuda.is_available() and not os.environ.get("BENCH_TORCH_EAGER")


def matmul_size(on_gpu):
    """The side of the square matmul that measures the limit: 8192 on a GPU,
    which a smaller one leaves part idle, 2048 on a CPU."""
    return 8192 if on_gpu else 2048


def matmul_gflops(implementation, dtype, repeats):
    """GFLOP/s of a square matmul in `dtype` on the implementation's device:
    a Keras backend's name, or `"g-mlp-pytorch"` (which runs on torch)."""
    if implementation in ("torch", "g-mlp-pytorch"):
        import torch

        device = torch_device()
        n = matmul_size(device == "cuda")
        a = torch.randn(n, n, device=device, dtype=getattr(torch, dtype))
        _, seconds = timed(lambda: synchronized(torch.mm, a, a), repeats)
    elif implementation == "jax":
        import jax

        n = matmul_size(jax.default_backend() == "gpu")
        a = jax.random.normal(jax.random.key(0), (n, n), dtype)
        matmul = jax.jit(jax.numpy.dot)
        _, seconds = timed(lambda: matmul(a, a).block_until_ready(), repeats)
    else:
        import tensorflow as tf

        n = matmul_size(bool(tf.config.list_physical_devices("GPU")))
        a = tf.random.normal((n, n), dtype=dtype)
        matmul = tf.function(tf.linalg.matmul, jit_compile=True)
        _, seconds = timed(lambda: matmul(a, a).numpy(), repeats)
    return 2 * n**3 / seconds / 1e9


def torch_device():
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def synchronized(fn, *args):
    """Calls `fn` and waits for the GPU, so that timers see the work done."""
    import torch

    fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def command():
    """This run's command line, with the environment that changes its
    figures: torch's eager switch, glibc's malloc settings (which also turn
    off `keras_gmlp/cpu_memory.py`'s) and XLA's flags."""
    settings = [
        f"{name}={value} "
        for name, value in sorted(os.environ.items())
        if name in ("BENCH_TORCH_EAGER", "GLIBC_TUNABLES", "XLA_FLAGS")
        or name.startswith("MALLOC_")
    ]
    return f"{''.join(settings)}python {' '.join(sys.argv)}"


def run_worker(script, arguments, backend=None):
    """Runs `script --worker ...` in a fresh process and returns the JSON
    record it prints last, so that every measurement has its own compile
    caches and peak memory."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend:
        environment["KERAS_BACKEND"] = backend
    command = [sys.executable, script, "--worker", *arguments]
    output = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def write_results(report, name, markdown, plot):
    """Writes `report` to `results/<name>.json`, its `markdown(report)`
    table to `.md` and `plot(report, path)` to `.png`; returns the table."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(f"{path}.json", "w") as file:
        json.dump(report, file, indent=2)
    table = markdown(report)
    with open(f"{path}.md", "w") as file:
        file.write(table)
    plot(report, f"{path}.png")
    return table


def peak_memory_mib():
    """The process's maximum resident set (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def versions(packages):
    """{package: version}, None for those not installed (a GPU image may
    lack TensorFlow)."""
    import importlib.metadata as metadata

    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {package: version(package) for package in packages}


def machine():
    cpu = cpu_facts()
    return {
        "cpu": cpu.get("model name", platform.processor()),
        "vector_extensions": vector_extensions(cpu.get("flags", "").split()),
        "cores": os.cpu_count(),
        "gpu": gpu_name(),
        "python": platform.python_version(),
    }


def describe(host):
    """The machine as the tables' first line names it: CPU, the widest
    vector instructions it has (they rank the frameworks differently: MKL
    runs AVX-512 on Intel's processors only), cores and GPU."""
    cpu = host["cpu"]
    if host["vector_extensions"]:
        cpu += f" ({host['vector_extensions']})"
    gpu = f", {host['gpu']}" if host["gpu"] else ""
    return f"{cpu}, {host['cores']} cores{gpu}"


def cpu_facts():
    """The first processor's fields in /proc/cpuinfo; empty where there is
    none (macOS, Windows)."""
    if not os.path.exists("/proc/cpuinfo"):
        return {}
    facts = {}
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if not line.strip():
                break
            name, _, value = line.partition(":")
            facts[name.strip()] = value.strip()
    return facts


def vector_extensions(flags):
    """The widest vector extensions in the CPU's `flags`: `"AVX-512"`,
    `"AVX-512, AMX"`, `"AVX2"` or None."""
    if "avx512f" in flags:
        return "AVX-512, AMX" if "amx_tile" in flags else "AVX-512"
    return "AVX2" if "avx2" in flags else None


def gpu_name():
    """The first NVIDIA GPU's name, or None where there is none."""
    if not shutil.which("nvidia-smi"):
        return None
    query = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]
    names = subprocess.run(query, capture_output=True, text=True).stdout.split("\n")
    return names[0].strip() or None
