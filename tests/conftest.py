import os
import shutil
import tempfile

import keras
import pytest

# The tests compile the same tiny models again and again, in this process and
# in the ones they start (tutorials, workers, other backends' loads). JAX's
# compilation cache, shared by all of them for the session (one cache an
# xdist worker), compiles each computation once: on the 2-core Intel Xeon of
# benchmarks/README.md, the MLM, preset and text classifier tests took 134 s
# under JAX with it (empty at the start, as in CI) against 174 s without.
JAX_CACHE_DIR = tempfile.mkdtemp(prefix="keras_gmlp_jax_cache_")
JAX_CACHE_SETTINGS = {
    "jax_compilation_cache_dir": JAX_CACHE_DIR,
    # Every computation, however small or quick to compile.
    "jax_persistent_cache_min_compile_time_secs": 0.0,
    "jax_persistent_cache_min_entry_size_bytes": -1,
}

# XLA compiling tiny models is most of the JAX suite's time, so the tests
# compile without LLVM's optimisations and with XLA's older fusion emitters
# (the old emitters alone: 14-26% less compile time; both: 6x less, while four
# gMLP-Ti blocks at 224x224 run 2.1x slower, which tiny test models never
# notice). The heaviest JAX test files side by side (causal LM, text
# classifier, distribution, examples, tutorials): 371 s of CPU against 779.
TEST_XLA_FLAGS = {
    "--xla_backend_optimization_level": "0",
    "--xla_cpu_use_fusion_emitters": "false",
}


def pytest_configure(config):
    # The processes the tests start read the settings from the environment.
    os.environ.update(
        {name.upper(): str(value) for name, value in JAX_CACHE_SETTINGS.items()}
    )
    # Before JAX starts its backend, which reads them once; a flag already
    # set (by the developer, or inherited from xdist's controller) is kept.
    flags = os.environ.get("XLA_FLAGS", "").split()
    set_names = {flag.partition("=")[0] for flag in flags}
    flags += [f"{n}={v}" for n, v in TEST_XLA_FLAGS.items() if n not in set_names]
    os.environ["XLA_FLAGS"] = " ".join(flags)
    if keras.backend.backend() == "jax":
        import jax

        # This one imported JAX before they were there.
        for name, value in JAX_CACHE_SETTINGS.items():
            jax.config.update(name, value)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # Grappler rewrites each traced function for speed before its first
        # run, which tiny test models never repay: the classifier, causal LM,
        # example and tutorial tests side by side took 470 s of CPU without
        # it against 513 s with it.
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def pytest_unconfigure(config):
    shutil.rmtree(JAX_CACHE_DIR, ignore_errors=True)


def pytest_report_header():
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same seeds."""
    keras.utils.set_random_seed(0)
