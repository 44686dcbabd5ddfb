"""A gMLP block's training cost against the depth of its stack, in one process.

Stacks of `--depths` gMLP-S blocks (width 256, `intermediate_dim` 1536, 196
tokens, batch 16, as in the vision backbone) regress
their inputs' features on zeros with AdamW; their `train_on_batch` calls
take turns, and each stack's median is divided by its depth. A block should
cost the same at any depth: if it does not, something in the compiled step
grows with the model (XLA's scheduling, memory traffic).

    KERAS_BACKEND=jax python benchmarks/block_depth.py --depths 6 30
"""

import argparse

import keras
import numpy as np
from common import jit_compile
from common import timed_side_by_side

import keras_gmlp
from keras_gmlp.layers import GMLPBlock

TOKENS, BATCH_SIZE, HIDDEN_DIM, INTERMEDIATE_DIM = 196, 16, 256, 1536


def stack(depth):
    """`depth` gMLP-S blocks, compiled to regress on zeros."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TOKENS, HIDDEN_DIM), batch_size=BATCH_SIZE)
    x = inputs
    for _ in range(depth):
        x = GMLPBlock(INTERMEDIATE_DIM)(x)
    model = keras.Model(inputs, x)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4), loss="mse", jit_compile=jit_compile()
    )
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[6, 30])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    # Token-major inputs: Keras' batch axis holds the tokens.
    shape = (BATCH_SIZE, TOKENS, HIDDEN_DIM)
    inputs = np.random.default_rng(0).normal(size=shape).astype("float32")
    targets = np.zeros_like(inputs)
    models = {depth: stack(depth) for depth in args.depths}
    calls = {
        depth: lambda m=model: m.train_on_batch(inputs, targets)
        for depth, model in models.items()
    }
    timings = timed_side_by_side(calls, args.repeats)
    print(f"{keras.backend.backend()}, training, medians of {args.repeats}:")
    for depth in args.depths:
        step = timings[depth][1]
        print(
            f"  {depth:3} blocks  {1000 * step:7.0f} ms a step, "
            f"{1000 * step / depth:6.1f} ms a block"
        )


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
