"""Peak memory of `keras-gmlp train` on folders of 200 and 800 photos.

    KERAS_BACKEND=jax python benchmarks/cli_memory.py --counts 200 800
    KERAS_BACKEND=jax python benchmarks/cli_memory.py --checkout /tmp/baseline \
        --train-options="--epochs 1 --batch-size 32"

Writes two classes of random 512x512 JPEGs into a temporary folder for each
count, trains one epoch on it (`--image-size 64`, so that the model's
compute stays small next to the reading) in a fresh process, and reads that
process's peak resident set from `os.wait4`. What grows with the count is
what the command holds per image. `--checkout DIR` runs the command of
another checkout instead (e.g. a `git worktree` of an earlier commit), for
a before and after (with `--train-options` it knows). Prints the peaks and
the growth as JSON.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import PIL.Image

IMAGE_SIDE = 512
TRAIN_OPTIONS = "--epochs 1 --image-size 64 --batch-size 32"


def write_photos(folder, count, seed=0):
    """`count` random JPEGs of 512x512, half in each of two class folders."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        class_folder = folder / ("a" if index % 2 else "b")
        class_folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (IMAGE_SIDE, IMAGE_SIDE, 3), dtype="uint8")
        PIL.Image.fromarray(pixels).save(class_folder / f"{index}.jpg", quality=90)


def peak_rss_mib(command, environment):
    """Runs `command` and returns its peak resident set in MiB."""
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed: {process.stderr.read().decode()}")
    return usage.ru_maxrss / 1024  # KiB on Linux


def train_command(checkout, data, output, options):
    """The command line of `train`, from `checkout` if given: its launcher
    module, `keras_gmlp_cli`, or before it existed `keras_gmlp`."""
    module = "keras_gmlp_cli"
    if checkout and not (pathlib.Path(checkout) / module).is_dir():
        module = "keras_gmlp"
    arguments = ["train", "--data", str(data), "--output", str(output)]
    return [sys.executable, "-m", module, *arguments, *options.split()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 800])
    parser.add_argument("--checkout", help="run this checkout's keras-gmlp")
    parser.add_argument("--train-options", default=TRAIN_OPTIONS)
    args = parser.parse_args()

    environment = dict(os.environ)
    if args.checkout:
        environment["PYTHONPATH"] = str(pathlib.Path(args.checkout).absolute())
    peaks = {}
    for count in args.counts:
        with tempfile.TemporaryDirectory() as scratch:
            scratch = pathlib.Path(scratch)
            write_photos(scratch / "photos", count)
            command = train_command(
                args.checkout, scratch / "photos", scratch / "out", args.train_options
            )
            peaks[count] = round(peak_rss_mib(command, environment), 1)
    counts = sorted(peaks)
    result = {
        "backend": environment.get("KERAS_BACKEND", "tensorflow"),
        "checkout": args.checkout or "this one",
        "train_options": args.train_options,
        "peak_rss_mib": peaks,
        "growth_mib": round(peaks[counts[-1]] - peaks[counts[0]], 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
