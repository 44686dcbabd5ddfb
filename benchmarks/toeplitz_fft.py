"""Toeplitz gating as an FFT convolution against the matmul, in one process.

`SpatialGatingUnit` computes toeplitz `W v` with FFTs from `FFT_MIN_LENGTH`
tokens on; this measures both paths at a given length on the current
backend, to place that threshold. The text benchmark's blocks
(`text_throughput.py`'s toeplitz gMLP: 4 blocks, width 256,
`intermediate_dim` 1536, 4096 tokens a batch) are built once for each
path; the calls take turns, and the two paths are checked to compute the
same before timing.

    KERAS_BACKEND=jax python benchmarks/toeplitz_fft.py --length 2048
"""

import argparse

import keras
import numpy as np
from common import patched
from common import timed_side_by_side
from text_throughput import build
from text_throughput import text_batch

import keras_gmlp
from keras_gmlp.layers import spatial_gating_unit


def with_fft_from(length, call):
    """`call` with toeplitz gating on FFTs from `length` tokens on. XLA's
    backends trace a call once, so their compiled steps keep the path they
    were traced with; eager torch takes it on every call."""
    return patched(call, spatial_gating_unit, "FFT_MIN_LENGTH", length)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--tokens-per-batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    inputs, targets = text_batch(args.length, args.tokens_per_batch)
    # One model a path (the same seeded weights): a compiled step keeps the
    # path of its trace.
    thresholds = {"matmul": args.length + 1, "FFT": args.length}
    models = {}
    for path in thresholds:
        keras.utils.set_random_seed(0)
        models[path] = build("gmlp-toeplitz", args.length)
    calls = {}
    for path, model in models.items():
        for mode, call in (
            ("inference", lambda m=model: m.predict_on_batch(inputs)),
            ("training", lambda m=model: m.train_on_batch(inputs, targets)),
        ):
            calls[path, mode] = with_fft_from(thresholds[path], call)
    np.testing.assert_allclose(
        calls["matmul", "inference"](), calls["FFT", "inference"](), atol=1e-4
    )
    timings = timed_side_by_side(calls, args.repeats)
    print(
        f"{keras.backend.backend()}, {args.length} tokens, toeplitz, "
        f"medians of {args.repeats}:"
    )
    for mode in ("inference", "training"):
        matmul, fft = timings["matmul", mode][1], timings["FFT", mode][1]
        print(
            f"  {mode:9}  matmul {args.tokens_per_batch / matmul:7.0f} tokens/s, "
            f"FFT {args.tokens_per_batch / fft:7.0f} tokens/s: {matmul / fft:.2f}x"
        )


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
