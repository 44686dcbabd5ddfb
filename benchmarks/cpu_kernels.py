"""Each CPU kernel of `keras_gmlp/layers/cpu_kernels.py` against the plain
path, side by side in one process.

On the current backend, one model per form: with every kernel that
`KERNELS` lists for the backend, without each one in turn (`--forms
without`) or with each one alone (`--forms only`), and with none (the
plain path, as off the CPU). The models' calls take turns, each form's
`KERNELS` patched in around its calls (on JAX and TensorFlow, the first call
traces it), and every form must predict what the first one does before it
is timed. The workloads are the vision benchmark's classifiers (batch 16)
and the text benchmark's dense gMLP backbone (4096 tokens a batch).

    KERAS_BACKEND=jax python benchmarks/cpu_kernels.py --model ti
    KERAS_BACKEND=torch python benchmarks/cpu_kernels.py --model text --length 512
"""

import argparse

import keras
from common import forms_side_by_side
from common import patched
from text_throughput import build
from text_throughput import text_batch
from vision_throughput import image_batch
from vision_throughput import keras_classifier

import keras_gmlp
from keras_gmlp.layers import cpu_kernels


def forms(kinds):
    """{form name: the `KERNELS` it runs with}: first with every kernel that
    `KERNELS` lists for the backend, then, by `kinds`, without each one in
    turn and with each one alone, last with none (the plain path)."""
    backend = keras.backend.backend()
    every = dict(cpu_kernels.KERNELS)
    plain = dict.fromkeys(every, ())
    mine = [kernel for kernel, backends in every.items() if backend in backends]
    result = {"all kernels": every}
    if "without" in kinds:
        result.update({f"without {k}": {**every, k: ()} for k in mine})
    if "only" in kinds:
        result.update({f"only {k}": {**plain, k: every[k]} for k in mine})
    result["plain"] = plain
    return result


def workload(model, length):
    """(a function building the model, its inputs, its targets, the inputs
    a batch holds, their unit)."""
    if model == "text":
        inputs, targets = text_batch(length, 4096)
        return lambda: build("gmlp-dense", length), inputs, targets, 4096, "tokens"
    images, labels = image_batch(16)
    return lambda: keras_classifier(model), images, labels, 16, "images"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ti", choices=("text", "ti", "s"))
    parser.add_argument("--length", type=int, default=512, help="text only")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--forms", nargs="+", default=["without"], choices=("without", "only")
    )
    args = parser.parse_args()

    build_model, inputs, targets, batch, unit = workload(args.model, args.length)
    kernels = forms(args.forms)
    timings = forms_side_by_side(
        kernels,
        build_model,
        lambda form, call: patched(call, cpu_kernels, "KERNELS", kernels[form]),
        inputs,
        targets,
        args.repeats,
    )
    size = f"{args.length} tokens" if args.model == "text" else f"gMLP-{args.model}"
    print(f"{keras.backend.backend()}, {size}, medians of {args.repeats}:")
    for mode in ("inference", "training"):
        reference = timings["all kernels", mode]
        for form in kernels:
            median = timings[form, mode]
            print(
                f"  {mode:9}  {form:26} {batch / median:8.1f} {unit}/s"
                f"  (all kernels {median / reference:.2f}x as fast)"
            )


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
