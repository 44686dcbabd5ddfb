"""Saving over a preset: at every instant the path holds the complete old
or the complete new preset, no old file survives a task's save, parts saved
into a preset keep the others, the umask and symlinks are respected, and
leftovers of killed saves are removed by the next save."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTokenizer
from keras_gmlp.models import directory_swap
from tests.helpers import WORKER_TIMEOUT_S

REPOSITORY = pathlib.Path(__file__).parents[2]
TEXT_PRESET = "amlp_tiny_text_test"


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """The reports of tests/preset_save_fault_worker.py: one a fault."""
    env = {
        **os.environ,
        "KERAS_BACKEND": "numpy",
        "PYTHONPATH": os.pathsep.join(
            [str(REPOSITORY), os.environ.get("PYTHONPATH", "")]
        ),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.preset_save_fault_worker",
            str(tmp_path_factory.mktemp("faults")),
        ],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [json.loads(line) for line in completed.stdout.splitlines()]


def fault_reports(faults, mode):
    return [report for report in faults if report.get("mode") == mode]


def test_a_fault_is_injected_at_every_step_of_each_save(faults):
    steps = {
        report["scenario"]: report["steps"] for report in faults if "steps" in report
    }
    assert set(steps) == {"task over task", "tokenizer into a task preset"}
    for scenario, count in steps.items():
        assert count >= 10, scenario
        for mode in ("raise", "kill"):
            tried = [
                r["step"]
                for r in fault_reports(faults, mode)
                if r["scenario"] == scenario
            ]
            assert tried == list(range(1, count + 1))


def test_a_save_that_raises_leaves_the_old_preset_and_nothing_beside_it(faults):
    raised = [r for r in fault_reports(faults, "raise") if r["outcome"] == "raised"]
    assert raised
    assert all(r["state"] == "old" and not r["leftovers"] for r in raised), raised
    # A fault once the new preset is in place (removing the old one) is no
    # failure of the save.
    completed = [r for r in fault_reports(faults, "raise") if r["outcome"] != "raised"]
    assert all(r["outcome"] == "completed" and r["state"] == "new" for r in completed)


def test_a_killed_save_leaves_the_old_or_the_new_preset_whole(faults):
    killed = fault_reports(faults, "kill")
    assert all(r["outcome"] == "killed by signal 9" for r in killed)
    assert {r["state"] for r in killed} == {"old", "new"}  # killed before and after
    assert all(r["state"] in ("old", "new") for r in killed)


def test_the_next_save_removes_every_leftover(faults):
    reports = fault_reports(faults, "raise") + fault_reports(faults, "kill")
    left = [report for report in reports if report["leftovers"]]
    assert left  # kills do leave some
    for report in left:
        assert report["state_after_next_save"] == "new", report
        assert report["leftovers_after_next_save"] == [], report


def test_saving_a_task_over_a_preset_leaves_no_old_file(tmp_path):
    preset = tmp_path / "preset"
    GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=3).save_to_preset(preset)
    (preset / "class_names.json").write_text('["a", "b", "c"]')
    GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=2).save_to_preset(preset)
    assert not (preset / "class_names.json").exists()
    assert GMLPTextClassifier.from_preset(str(preset)).num_classes == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preset"]


def test_parts_saved_into_a_preset_keep_the_other_parts(tmp_path):
    preset = tmp_path / "preset"
    backbone = GMLPTextBackbone.from_preset(TEXT_PRESET)
    tokenizer = GMLPTokenizer.from_preset(TEXT_PRESET)
    backbone.save_to_preset(preset)
    tokenizer.save_to_preset(preset)
    backbone.save_to_preset(preset)  # the tokenizer stays
    assert (preset / "tokenizer.json").exists()
    assert (preset / "assets" / "tokenizer" / "vocabulary.txt").exists()
    assert GMLPTokenizer.from_preset(str(preset)).vocabulary == tokenizer.vocabulary


def test_a_backbone_saved_over_a_task_preset_drops_the_task(tmp_path):
    preset = tmp_path / "preset"
    classifier = GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=3)
    classifier.save_to_preset(preset)
    classifier.backbone.save_to_preset(preset)
    assert not (preset / "task.json").exists()
    assert not (preset / "task.weights.h5").exists()
    assert (preset / "preprocessor.json").exists()


@pytest.mark.parametrize(
    "umask, directory_mode, file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)]
)
def test_a_saved_preset_has_the_permissions_of_the_umask(
    umask, directory_mode, file_mode, tmp_path
):
    previous = os.umask(umask)
    try:
        GMLPTokenizer.from_preset(TEXT_PRESET).save_to_preset(tmp_path / "preset")
    finally:
        os.umask(previous)
    preset = tmp_path / "preset"
    assert preset.stat().st_mode & 0o777 == directory_mode
    assert (preset / "tokenizer.json").stat().st_mode & 0o777 == file_mode


def test_a_symlinked_preset_stays_a_symlink_to_the_new_preset(tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    classifier = GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=3)
    classifier.save_to_preset(real)
    link.symlink_to(real, target_is_directory=True)
    GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=2).save_to_preset(link)
    assert link.is_symlink() and link.resolve() == real
    assert GMLPTextClassifier.from_preset(str(link)).num_classes == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_leftovers_of_dead_saves_go_and_those_of_running_ones_stay(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    leftovers = {
        f".preset.staging-{dead_pid}-0a1b2c3d": False,
        f".preset.old-{dead_pid}-0a1b2c3d": False,
        ".preset.staging-k2j3h4g5": False,  # named by older versions
        f".preset.staging-{os.getppid()}-0a1b2c3d": True,  # a running save
        ".other.staging-1-0a1b2c3d": True,  # another preset's
    }
    for name in leftovers:
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    GMLPTokenizer.from_preset(TEXT_PRESET).save_to_preset(tmp_path / "preset")
    kept = {path.name for path in tmp_path.iterdir()} - {"preset"}
    assert kept == {name for name, stays in leftovers.items() if stays}


def test_without_an_atomic_exchange_a_save_still_replaces_the_preset(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(directory_swap, "exchange", lambda first, second: False)
    preset = tmp_path / "preset"
    GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=3).save_to_preset(preset)
    GMLPTextClassifier.from_preset(TEXT_PRESET, num_classes=2).save_to_preset(preset)
    assert GMLPTextClassifier.from_preset(str(preset)).num_classes == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preset"]
