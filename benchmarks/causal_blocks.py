"""A causal `W` mixed in blocks of rows against one matmul, side by side in
one process.

From `CAUSAL_BLOCKS_MIN_LENGTH` tokens on, `lower_triangular_token_matmul`
(keras_gmlp/layers/matmul.py) computes a causal unit's `W v` in blocks of
`CAUSAL_BLOCK_ROWS` rows, each reading only the tokens up to its last row,
and so skips the products with the zeros above `W`'s diagonal. This times
both forms on the current backend: the text benchmark's 4 blocks
(`token_major.py`'s `blocks`, causal, 4096 tokens a batch), with random
spatial weights so that the two must agree on every row. The one-matmul
form is patched in around each of its calls (on JAX and TensorFlow, the
first call traces it).

    KERAS_BACKEND=jax python benchmarks/causal_blocks.py --length 1024
    KERAS_BACKEND=torch python benchmarks/causal_blocks.py --length 512 --min-length 512
"""

import argparse
import functools

import keras
import numpy as np
from common import patched
from common import print_two_forms
from common import two_forms_side_by_side
from token_major import blocks
from token_major import text_batch

from keras_gmlp.layers import matmul

FORMS = ("blocks of rows", "one matmul")


def in_form(form, function, min_length):
    """`function`, called with causal `W v` in `form`: in blocks from
    `min_length` tokens on, or as one matmul at every length."""
    if form == "one matmul":
        min_length = float("inf")
    return patched(function, matmul, "CAUSAL_BLOCKS_MIN_LENGTH", min_length)


def with_random_spatial_weights(model):
    """`model`, its spatial kernels drawn at random (the same in every model
    built): near zero, as initialised, they would hide a wrong row."""
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if "spatial_kernel" in weight.path:
            weight.assign(0.02 * rng.standard_normal(weight.shape).astype("float32"))
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--spatial-weights", default="dense")
    parser.add_argument(
        "--min-length",
        type=int,
        default=matmul.CAUSAL_BLOCKS_MIN_LENGTH,
        help="CAUSAL_BLOCKS_MIN_LENGTH for the blocks' form",
    )
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    inputs, targets = text_batch(args.length, 4096)
    timings = two_forms_side_by_side(
        FORMS,
        lambda: with_random_spatial_weights(
            blocks(args.length, args.spatial_weights, True, causal=True)
        ),
        functools.partial(in_form, min_length=args.min_length),
        inputs,
        targets,
        args.repeats,
    )
    print(
        f"{keras.backend.backend()}, {args.length} tokens, {args.spatial_weights} "
        f"W, blocks of {matmul.CAUSAL_BLOCK_ROWS} rows, medians of {args.repeats}:"
    )
    print_two_forms(timings, FORMS, 4096, "tokens")


if __name__ == "__main__":
    main()
