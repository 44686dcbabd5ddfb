"""Token-major against batch-major gMLP blocks, side by side in one process.

Both backbones run their blocks token-major (`GMLPBlock`'s `token_major`);
this measures what that layout buys on the current backend. Two stacks of
`GMLPBlock`s with the text benchmark's sizes (`text_throughput.py`: 4
blocks, width 256, `intermediate_dim` 1536, 4096 tokens a batch) on the
same token embedding, one batch-major and one token-major, whose calls take
turns; it checks that they compute the same before timing them.

    KERAS_BACKEND=jax python benchmarks/token_major.py --length 512
"""

import argparse

import keras
import numpy as np
from common import jit_compile
from common import timed_side_by_side
from text_throughput import GMLP_INTERMEDIATE_DIM
from text_throughput import GMLP_LAYERS
from text_throughput import HIDDEN_DIM
from text_throughput import VOCABULARY_SIZE

from keras_gmlp.layers import GMLPBlock
from keras_gmlp.layers.spatial_gating_unit import swap_batch_and_tokens


def blocks(length, spatial_weights, token_major, causal=False):
    """Embedding, `GMLP_LAYERS` blocks in the given layout (causal or not)
    and a LayerNorm, compiled to regress the features on zeros with AdamW."""
    keras.utils.set_random_seed(0)
    token_ids = keras.Input((length,), dtype="int32")
    padding_mask = keras.Input((length,), dtype="int32")
    x = keras.layers.Embedding(VOCABULARY_SIZE, HIDDEN_DIM)(token_ids)
    if token_major:
        x = swap_batch_and_tokens(x)
    for _ in range(GMLP_LAYERS):
        block = GMLPBlock(
            GMLP_INTERMEDIATE_DIM,
            sequence_length=length,
            causal=causal,
            spatial_weights=spatial_weights,
            token_major=token_major,
        )
        x = block(x, padding_mask=padding_mask)
    if token_major:
        x = swap_batch_and_tokens(x)
    model = keras.Model([token_ids, padding_mask], keras.layers.LayerNormalization()(x))
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4), loss="mse", jit_compile=jit_compile()
    )
    return model


def text_batch(length, tokens_per_batch):
    """`(inputs, targets)` for `blocks`' models: `tokens_per_batch` tokens
    of random ids in sequences of `length`, none of them padding, and zero
    features to regress on."""
    batch_size = tokens_per_batch // length
    rng = np.random.default_rng(0)
    token_ids = rng.integers(1, VOCABULARY_SIZE, (batch_size, length))
    inputs = [token_ids.astype("int32"), np.ones_like(token_ids, "int32")]
    return inputs, np.zeros((batch_size, length, HIDDEN_DIM), "float32")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--spatial-weights", default="dense")
    parser.add_argument("--tokens-per-batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    inputs, targets = text_batch(args.length, args.tokens_per_batch)
    models = {
        layout: blocks(args.length, args.spatial_weights, layout == "token-major")
        for layout in ("batch-major", "token-major")
    }
    np.testing.assert_allclose(
        *(model.predict_on_batch(inputs) for model in models.values()), atol=1e-4
    )
    calls = {}
    for layout, model in models.items():
        calls[layout, "inference"] = lambda m=model: m.predict_on_batch(inputs)
        calls[layout, "training"] = lambda m=model: m.train_on_batch(inputs, targets)
    timings = timed_side_by_side(calls, args.repeats)
    print(
        f"{keras.backend.backend()}, {args.length} tokens, {args.spatial_weights}, "
        f"medians of {args.repeats}:"
    )
    for mode in ("inference", "training"):
        batch_major = timings["batch-major", mode][1]
        token_major = timings["token-major", mode][1]
        print(
            f"  {mode:9}  batch-major {args.tokens_per_batch / batch_major:7.0f} "
            f"tokens/s, token-major {args.tokens_per_batch / token_major:7.0f} "
            f"tokens/s: {batch_major / token_major:.2f}x"
        )


if __name__ == "__main__":
    main()
