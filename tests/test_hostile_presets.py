"""The standing guard: a corpus of hostile and careless presets
(tests/hostile_presets.py, built from the tiny shipped presets at test time)
is loaded in a subprocess under a memory and CPU-time limit
(tests/hostile_preset_worker.py). Every case must be refused quickly, with an
ordinary Python exception, and leave no file behind; the unbroken bases must
load."""

import collections
import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests import hostile_presets
from tests.helpers import WORKER_TIMEOUT_S

REPOSITORY = pathlib.Path(__file__).parents[1]
# A refusal takes milliseconds; this leaves room for two cores shared by
# three test suites.
TRY_SECONDS = 5.0


@pytest.fixture(scope="module")
def tries(tmp_path_factory):
    """Every try of the corpus, as the worker reports them."""
    work = tmp_path_factory.mktemp("hostile_presets")
    for name in ("tmp", "keras_home", "cwd"):
        (work / name).mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPOSITORY), os.environ.get("PYTHONPATH", "")]
        ),
        "TMPDIR": str(work / "tmp"),
        "KERAS_HOME": str(work / "keras_home"),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tests.hostile_preset_worker", str(work / "corpus")],
        cwd=work / "cwd",
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
    )
    reported = [json.loads(line) for line in completed.stdout.splitlines()]
    last = reported[-1]["case"] if reported else "none"
    assert completed.returncode == 0, (
        f"the worker died (rc {completed.returncode}) after case {last}:\n"
        f"{completed.stderr[-3000:]}"
    )
    return reported


def hostile(tries):
    return [entry for entry in tries if entry["kind"] == "hostile"]


def describe(entries):
    return "\n".join(
        f"{e['case']} ({e['loader']}): {e['error']} {e['message'][:200]}"
        for e in entries
    )


def test_the_unbroken_bases_load(tries):
    controls = [entry for entry in tries if entry["kind"] == "control"]
    assert controls
    failed = [entry for entry in controls if entry["error"] is not None]
    assert not failed, describe(failed)


def test_every_case_of_every_category_is_tried(tries):
    tried = collections.Counter(entry["category"] for entry in hostile(tries))
    categories = {spec.category for spec, _ in hostile_presets.CASES}
    assert set(tried) == categories
    assert len({entry["case"] for entry in hostile(tries)}) == len(
        hostile_presets.CASES
    )


def test_every_case_is_refused_with_an_ordinary_exception(tries):
    loaded = [entry for entry in hostile(tries) if entry["error"] is None]
    assert not loaded, describe(loaded)
    strange = [entry for entry in hostile(tries) if not entry["ordinary"]]
    assert not strange, describe(strange)


def test_every_case_is_refused_quickly(tries):
    slow = [entry for entry in hostile(tries) if entry["seconds"] > TRY_SECONDS]
    assert not slow, describe(slow)


def test_no_case_leaves_a_file_behind(tries):
    left = [entry for entry in tries if entry["changed_files"]]
    assert not left, "\n".join(
        f"{entry['case']} ({entry['loader']}): {entry['changed_files'][:5]}"
        for entry in left
    )


def test_the_readme_gives_the_counts():
    readme = " ".join((REPOSITORY / "README.md").read_text().split())
    tries = sum(len(spec.loaders) for spec, _ in hostile_presets.CASES)
    assert f"builds {len(hostile_presets.CASES)} hostile" in readme
    assert f"{tries} loads tried, {tries} refused cleanly" in readme
