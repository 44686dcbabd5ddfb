import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

from tests.helpers import WORKER_TIMEOUT_S

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution runs on JAX only",
)
WORKER = pathlib.Path(__file__).with_name("jax_distribution_worker.py")
MESH_SIZES = {"batch": 2, "model": 4}


@pytest.fixture(scope="module")
def results():
    """The worker's results: JAX takes its device count when it starts, so
    eight virtual CPU devices need a fresh process (which keeps the suite's
    own XLA flags)."""
    xla_flags = os.environ.get("XLA_FLAGS", "")
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": f"{xla_flags} --xla_force_host_platform_device_count=8",
    }
    completed = subprocess.run(
        [sys.executable, str(WORKER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_worker_sees_eight_devices(results):
    assert results["devices"] == 8


@pytest.mark.parametrize("modality", ["image", "text"])
@pytest.mark.parametrize("distribution", ["data_parallel", "model_parallel"])
def test_distributed_training_matches_one_device(results, modality, distribution):
    result = results[modality][distribution]
    single = results[modality]["single_device"]["losses"]
    assert len(result["losses"]) == len(single) == 3
    assert result["loss_difference"] < 1e-5
    assert result["weight_difference"] < 1e-5
    # The preset loads inside the scope with the weights it ships.
    assert result["loaded_difference"] == 0.0


@pytest.mark.parametrize("modality", ["image", "text"])
def test_from_preset_in_scope_shards_as_the_layout_map_says(results, modality):
    shardings = results[modality]["model_parallel"]["shardings"]
    sharded = 0
    for path, sharding in shardings.items():
        expected = sharding["expected"] or [None] * len(sharding["shape"])
        assert sharding["spec"] == expected, path
        expected_shard = [
            size // MESH_SIZES[axis] if axis else size
            for size, axis in zip(sharding["shape"], expected, strict=True)
        ]
        assert sharding["shard_shape"] == expected_shard, path
        sharded += expected_shard != sharding["shape"]
    assert sharded > 0
    assert any(path.endswith("spatial_kernel") for path in shardings)
