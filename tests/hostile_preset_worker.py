"""Loads every case of the hostile preset corpus (tests/hostile_presets.py)
with each of its loaders, in this one process under a memory and CPU-time
limit, and prints one JSON line a try: the exception, the seconds it took
and any file it left behind. The unbroken bases are loaded first, as a
control: they must load.

    python tests/hostile_preset_worker.py CORPUS_DIRECTORY
"""

import json
import os
import pathlib
import resource
import signal
import sys
import time

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTextClassifierPreprocessor
from keras_gmlp.models import GMLPTokenizer
from tests import hostile_presets

# A try may take this long: a refusal takes milliseconds, and the controls
# build tiny models.
TRY_SECONDS = 30
# Memory beyond what the process holds once the corpus is built, and CPU time
# for all the tries together.
MEMORY_HEADROOM = 4 * 2**30
CPU_SECONDS = 300
# What a refusal raises: Python's own exceptions for a bad value, a file that
# cannot be read and a size beyond memory. Keras reraises an error inside a
# nested `from_config` as a TypeError that ends with the original message.
ORDINARY_ERRORS = (ValueError, TypeError, OSError, MemoryError)
CLASSIFIERS = ("GMLPImageClassifier", "GMLPClassifier", "GMLPTextClassifier")
LOADERS = {
    cls.__name__: cls
    for cls in (
        GMLPBackbone,
        GMLPCausalLM,
        GMLPClassifier,
        GMLPImageClassifier,
        GMLPMaskedLM,
        GMLPTextBackbone,
        GMLPTextClassifier,
        GMLPTextClassifierPreprocessor,
        GMLPTokenizer,
    )
}


class TryTimedOut(BaseException):
    """Raised in a try that runs past `TRY_SECONDS`; no `except Exception`
    in the code under test catches it."""


def load(loader, path, base):
    """`loader.from_preset(path)`, with a class count where the preset holds
    no classifier head."""
    kwargs = {}
    if loader in CLASSIFIERS and base != "image_classifier":
        kwargs["num_classes"] = 3
    return LOADERS[loader].from_preset(path, **kwargs)


def snapshot(directories):
    """Every file under `directories`, with its size and modification time."""
    files = {}
    for directory in directories:
        for parent, names, filenames in os.walk(directory):
            for name in names + filenames:
                path = os.path.join(parent, name)
                stat = os.lstat(path)
                files[path] = (stat.st_size, stat.st_mtime_ns)
    return files


def run_try(kind, case, loader, watched):
    before = snapshot(watched)
    start = time.monotonic()
    signal.alarm(TRY_SECONDS)
    error = None
    try:
        load(loader, case.path, case.base)
    except TryTimedOut:
        error = TryTimedOut(f"still running after {TRY_SECONDS} s")
    except Exception as raised:  # noqa: BLE001 (the outcome is the point)
        error = raised
    finally:
        signal.alarm(0)
    seconds = time.monotonic() - start
    after = snapshot(watched)
    changed = sorted(
        path for path in set(before) | set(after) if before.get(path) != after.get(path)
    )
    print(
        json.dumps(
            {
                "kind": kind,
                "category": case.category,
                "case": f"{case.base}-{case.name}",
                "loader": loader,
                "error": None if error is None else type(error).__name__,
                "ordinary": isinstance(error, ORDINARY_ERRORS),
                "message": "" if error is None else str(error)[:400],
                "seconds": round(seconds, 3),
                "changed_files": changed,
            }
        ),
        flush=True,
    )


def limit_resources():
    used = int(pathlib.Path("/proc/self/statm").read_text().split()[0])
    used *= os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(
        resource.RLIMIT_AS, (used + MEMORY_HEADROOM, resource.RLIM_INFINITY)
    )
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(cpu.ru_utime + cpu.ru_stime)
    resource.setrlimit(
        resource.RLIMIT_CPU, (spent + CPU_SECONDS, resource.RLIM_INFINITY)
    )


def main(root):
    root = pathlib.Path(root)

    def save_image_classifier(path):
        GMLPImageClassifier.from_preset(
            "gmlp_tiny_image_test", num_classes=3
        ).save_to_preset(path)

    cases = hostile_presets.build(root, save_image_classifier)
    controls = {}
    for case in cases:
        control = hostile_presets.Case(
            "control", "unbroken", case.base, (), str(root / "bases" / case.base)
        )
        controls.setdefault(case.base, (control, set()))[1].update(case.loaders)

    def timed_out(signum, frame):
        raise TryTimedOut

    signal.signal(signal.SIGALRM, timed_out)
    limit_resources()
    watched = [root, os.getcwd(), os.environ["TMPDIR"], os.environ["KERAS_HOME"]]
    for control, loaders in controls.values():
        for loader in sorted(loaders):
            run_try("control", control, loader, watched)
    for case in cases:
        for loader in case.loaders:
            run_try("hostile", case, loader, watched)


if __name__ == "__main__":
    main(sys.argv[1])
