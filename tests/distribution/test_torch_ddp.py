import json
import os
import pathlib
import signal
import subprocess
import sys

import keras
import pytest

from tests.helpers import WORKER_TIMEOUT_S

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="DistributedDataParallel trains Keras models on the torch backend only",
)
EXAMPLE = pathlib.Path(__file__).parents[2] / "examples/distributed/torch_ddp_train.py"


def test_torchrun_trains_a_classifier_with_ddp():
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", str(EXAMPLE), "--epochs", "2"]
    with subprocess.Popen(
        command,
        env={**os.environ, "KERAS_BACKEND": "torch"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=WORKER_TIMEOUT_S)
        finally:
            # torchrun's workers outlive it when it is killed: end them all.
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr[-3000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["processes"] == 2
    # DDP keeps the two processes' weights identical.
    assert result["weight_drift"] == 0.0
    assert result["losses"][-1] < 0.8 * result["losses"][0]
    assert result["held_out_accuracy"] > 0.5  # ten classes: chance is 0.1
