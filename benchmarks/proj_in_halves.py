"""`proj_in`'s halves as two matmuls against one matmul split, side by side
in one process.

On a CPU, `dense_halves_over_tokens` (gmlp_block.py) runs each half of
`proj_in` as a matmul of its own; elsewhere it splits one matmul's output.
This times both forms on the current backend: the text benchmark's 4 blocks
(`token_major.py`'s `blocks`, 4096 tokens a batch) or the vision
benchmark's gMLP-Ti or gMLP-S classifier (batch 16). The two models' calls
take turns; the split form is patched in around each of its calls (on JAX
and TensorFlow, the first call traces it). It checks that both compute the
same before timing them.

    KERAS_BACKEND=tensorflow python benchmarks/proj_in_halves.py --model ti
    KERAS_BACKEND=jax python benchmarks/proj_in_halves.py --model text --length 512
"""

import argparse

import keras
from common import patched
from common import print_two_forms
from common import two_forms_side_by_side
from token_major import blocks
from token_major import text_batch
from vision_throughput import image_batch
from vision_throughput import keras_classifier

from keras_gmlp.layers import gmlp_block

FORMS = ("two matmuls", "one matmul split")


def in_form(form, function):
    """`function`, called with `proj_in`'s halves in `form`: split from one
    matmul, as off the CPU, by patching `on_cpu` around each call."""
    if form == "two matmuls":
        return function
    return patched(function, gmlp_block, "on_cpu", lambda x: False)


def workload(model, length):
    """(a function building the model, its inputs, its targets, the inputs
    a batch holds, their unit)."""
    if model == "text":
        inputs, targets = text_batch(length, 4096)
        return lambda: blocks(length, "dense", True), inputs, targets, 4096, "tokens"
    images, labels = image_batch(16)
    return lambda: keras_classifier(model), images, labels, 16, "images"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="text", choices=("text", "ti", "s"))
    parser.add_argument("--length", type=int, default=512, help="text only")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    build, inputs, targets, batch, unit = workload(args.model, args.length)
    timings = two_forms_side_by_side(
        FORMS, build, in_form, inputs, targets, args.repeats
    )
    size = f"{args.length} tokens" if args.model == "text" else f"gMLP-{args.model}"
    print(f"{keras.backend.backend()}, {size}, medians of {args.repeats}:")
    print_two_forms(timings, FORMS, batch, unit)


if __name__ == "__main__":
    main()
