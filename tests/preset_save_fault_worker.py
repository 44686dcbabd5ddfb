"""Saves a preset over another with a fault at each step of the save, and
reports what the path holds after each fault, one JSON line a fault.

A step is a change the save makes to the filesystem, as Python's audit hooks
see them (`open` for writing, `os.mkdir`, `os.rename`, `os.remove`,
`shutil.copyfile`, ..., and keras_gmlp's own `keras_gmlp.exchange`). For
each scenario, mode and step `k`, a forked child saves NEW over OLD and, at
step `k`, raises an `OSError` (mode "raise") or SIGKILLs itself (mode
"kill"). The parent then records whether the path holds the complete OLD or
NEW preset, which leftovers lie beside it and, if any, whether the next
clean save removes them.

Runs under KERAS_BACKEND=numpy: saving needs no computation, and the numpy
backend starts no thread, so forking is safe.

    KERAS_BACKEND=numpy python -m tests.preset_save_fault_worker DIRECTORY
"""

import errno
import hashlib
import json
import os
import pathlib
import shutil
import signal
import sys

from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTokenizer

MUTATIONS = {
    "os.mkdir",
    "os.rename",
    "os.replace",
    "os.remove",
    "os.rmdir",
    "os.chmod",
    "os.utime",
    "os.link",
    "os.symlink",
    "os.truncate",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.rmtree",
    "shutil.move",
    "keras_gmlp.exchange",
}
RAISED, COMPLETED = 3, 0


class Faults:
    """What the audit hook does: count steps, and fail at one of them."""

    armed = False
    mode = None
    fail_at = None
    count = 0
    root = ""


def is_step(event, args):
    if event == "open":
        mode = args[1] if isinstance(args[1], str) else ""
        return any(flag in mode for flag in "wax+") and _under_root(args[0])
    return event in MUTATIONS and _under_root(args[0])


def _under_root(path):
    path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    return not os.path.isabs(path) or path.startswith(Faults.root)


def audit(event, args):
    if not Faults.armed or not is_step(event, args):
        return
    Faults.count += 1
    if Faults.count != Faults.fail_at:
        return
    Faults.armed = False  # the hook's own calls are no steps
    if Faults.mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.EIO, f"injected at step {Faults.count}: {event}")


def snapshot(path):
    """The files under `path` and a digest of each (metadata.json without
    its save date); `None` where `path` holds nothing."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    files = {}
    for item in sorted(path.rglob("*")):
        name = str(item.relative_to(path))
        if item.is_dir():
            files[name] = "directory"
            continue
        data = item.read_bytes()
        if item.name == "metadata.json":
            metadata = json.loads(data)
            metadata.pop("date_saved", None)
            data = json.dumps(metadata, sort_keys=True).encode()
        files[name] = hashlib.sha256(data).hexdigest()
    return files


def leftovers(preset):
    return sorted(p.name for p in preset.parent.iterdir() if p.name != preset.name)


def scenarios():
    """(name, the old preset's object, what is saved over it)."""
    old = GMLPTextClassifier.from_preset("amlp_tiny_text_test", num_classes=3)
    new = GMLPTextClassifier.from_preset("amlp_tiny_text_test", num_classes=2)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "new", "vocabulary"]
    return [
        ("task over task", old, new),
        ("tokenizer into a task preset", old, GMLPTokenizer(vocabulary=words)),
    ]


def run(root):
    Faults.root = str(root)
    sys.addaudithook(audit)
    for name, old, new in scenarios():
        work = root / name.replace(" ", "_")
        pristine, preset = work / "pristine" / "preset", work / "target" / "preset"
        old.save_to_preset(str(pristine))
        (pristine / "class_names.json").write_text('["a", "b", "c"]')
        reset(pristine, preset)
        Faults.armed, Faults.count, Faults.fail_at = True, 0, None
        new.save_to_preset(str(preset))
        Faults.armed = False
        steps = Faults.count
        expected = {"old": snapshot(pristine), "new": snapshot(preset)}
        for mode in ("raise", "kill"):
            for step in range(1, steps + 1):
                reset(pristine, preset)
                outcome = inject(new, preset, mode, step)
                report(name, mode, step, outcome, new, preset, expected)
        print(json.dumps({"scenario": name, "steps": steps}), flush=True)


def reset(pristine, preset):
    shutil.rmtree(preset.parent, ignore_errors=True)
    preset.parent.mkdir(parents=True)
    shutil.copytree(pristine, preset)


def inject(new, preset, mode, step):
    """Saves `new` over `preset` in a child that fails at `step`; returns
    how the child ended."""
    child = os.fork()
    if child == 0:
        Faults.armed, Faults.count, Faults.fail_at, Faults.mode = True, 0, step, mode
        try:
            new.save_to_preset(str(preset))
        except OSError:
            os._exit(RAISED)
        os._exit(COMPLETED)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return {RAISED: "raised", COMPLETED: "completed"}.get(
        os.WEXITSTATUS(status), f"exited {os.WEXITSTATUS(status)}"
    )


def report(name, mode, step, outcome, new, preset, expected):
    """Prints what `preset` holds after the fault and, where the fault left
    something beside it, after a clean save of `new` over it."""
    held = snapshot(preset)
    state = next((key for key, files in expected.items() if files == held), "broken")
    fault_leftovers = leftovers(preset)
    next_state, next_leftovers = None, None
    if fault_leftovers:
        new.save_to_preset(str(preset))
        next_state = "new" if snapshot(preset) == expected["new"] else "broken"
        next_leftovers = leftovers(preset)
    print(
        json.dumps(
            {
                "scenario": name,
                "mode": mode,
                "step": step,
                "outcome": outcome,
                "state": state,
                "leftovers": fault_leftovers,
                "state_after_next_save": next_state,
                "leftovers_after_next_save": next_leftovers,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    run(pathlib.Path(sys.argv[1]).absolute())
