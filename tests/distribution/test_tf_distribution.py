import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

from tests.helpers import WORKER_TIMEOUT_S

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute strategies run on TensorFlow only",
)
WORKER = pathlib.Path(__file__).with_name("tf_mirrored_worker.py")


def test_mirrored_strategy_trains_a_classifier_with_fit():
    # A fresh process: logical devices are set before TensorFlow starts.
    completed = subprocess.run(
        [sys.executable, str(WORKER)],
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["variable_types"] == ["MirroredVariable"]
    assert result["losses"][-1] < 0.5 * result["losses"][0]
