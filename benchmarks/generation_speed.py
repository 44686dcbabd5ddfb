"""Cached generation against full recomputation, for GMLPCausalLM.

    python benchmarks/generation_speed.py             # all backends
    python benchmarks/generation_speed.py --backends jax --new-tokens 256

A causal aMLP (4 blocks, hidden 128, tiny attention 32) greedily generates
`--new-tokens` tokens after an 8-token prompt, batch 4, twice: with
`generate()`, whose decoding caches each block's gate inputs and attention
keys and values, and by rerunning the compiled model over the whole sequence
for every new token. Both must give the same tokens. Times exclude the first
(compiling) call. Results go to `benchmarks/results/generation.{json,md}`,
where a run replaces the rows of its backends and lengths and keeps the
others.
"""

import argparse
import json
import os
import sys
import time

from common import command
from common import run_worker

import keras_gmlp

PROMPT_LENGTH, BATCH_SIZE, VOCABULARY_SIZE = 8, 4, 1000
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def build(total_length):
    import keras

    import keras_gmlp

    keras.utils.set_random_seed(0)
    backbone = keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=VOCABULARY_SIZE,
        num_layers=4,
        hidden_dim=128,
        intermediate_dim=512,
        max_sequence_length=total_length,
        causal=True,
        attention_dim=32,
    )
    lm = keras_gmlp.models.GMLPCausalLM(backbone)
    lm.compile(sampler="greedy")
    return lm


def prompts(total_length):
    import numpy as np

    token_ids = np.zeros((BATCH_SIZE, total_length), "int32")
    rng = np.random.default_rng(0)
    token_ids[:, :PROMPT_LENGTH] = rng.integers(
        1, VOCABULARY_SIZE, (BATCH_SIZE, PROMPT_LENGTH)
    )
    return {"token_ids": token_ids, "padding_mask": token_ids != 0}


def cached(lm, inputs):
    import keras

    outputs = lm.generate(inputs, stop_token_ids=None)
    return keras.ops.convert_to_numpy(outputs["token_ids"])


def recomputed(lm, inputs):
    token_ids = inputs["token_ids"].copy()
    everything = {"token_ids": token_ids, "padding_mask": token_ids >= 0}
    for t in range(PROMPT_LENGTH, token_ids.shape[1]):
        logits = lm.predict_on_batch(everything)
        token_ids[:, t] = logits[:, t - 1].argmax(-1)
    return token_ids


def timed(fn):
    fn()  # compiles
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def worker(new_tokens):
    import keras
    import numpy as np

    total_length = PROMPT_LENGTH + new_tokens
    lm, inputs = build(total_length), prompts(total_length)
    fast, cached_seconds = timed(lambda: cached(lm, inputs))
    slow, recomputed_seconds = timed(lambda: recomputed(lm, inputs))
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "new_tokens": new_tokens,
                "same_tokens": bool(np.array_equal(fast, slow)),
                "cached_tokens_per_s": BATCH_SIZE * new_tokens / cached_seconds,
                "recomputed_tokens_per_s": BATCH_SIZE * new_tokens / recomputed_seconds,
                "speedup": recomputed_seconds / cached_seconds,
            }
        )
    )


def merged(rows):
    """The rows of earlier runs that `rows` do not replace, then `rows`."""
    path = os.path.join(RESULTS, "generation.json")
    if not os.path.exists(path):
        return rows
    with open(path) as file:
        earlier = json.load(file)
    measured = {(row["backend"], row["new_tokens"]) for row in rows}
    kept = [r for r in earlier if (r["backend"], r["new_tokens"]) not in measured]
    return kept + rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--new-tokens", nargs="+", type=int, default=[256, 1024])
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.new_tokens[0])
    rows = []
    for backend in args.backends:
        for new_tokens in args.new_tokens:
            print(f"{backend}, {new_tokens} new tokens", file=sys.stderr)
            arguments = ["--new-tokens", str(new_tokens)]
            row = run_worker(__file__, arguments, backend)
            rows.append({**row, "command": command()})
    rows = merged(rows)
    lines = [
        "| backend | new tokens | cached tokens/s | recomputed tokens/s "
        "| speed-up | same tokens |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        cells = [
            row["backend"],
            str(row["new_tokens"]),
            f"{row['cached_tokens_per_s']:.0f}",
            f"{row['recomputed_tokens_per_s']:.0f}",
            f"{row['speedup']:.1f}x",
            "yes" if row["same_tokens"] else "NO",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    commands = dict.fromkeys(f"`{row['command']}`" for row in rows)
    table = "\n".join(lines) + f"\n\nCommands: {', '.join(commands)}\n"
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "generation.json"), "w") as file:
        json.dump(rows, file, indent=2)
    with open(os.path.join(RESULTS, "generation.md"), "w") as file:
        file.write(table)
    print(table)


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
