"""Text throughput over sequence length: gMLP against a Transformer encoder.

    python benchmarks/text_throughput.py               # all backends, ~10 min
    python benchmarks/text_throughput.py --backends jax --lengths 512

`GMLPTextBackbone` (dense and toeplitz spatial weights) and an encoder of
keras-hub's `TransformerEncoder` layers run on the same backend at each
sequence length, with the same number of tokens in every batch. The two share
the width and the channel parameters: 4 gMLP blocks with a 6x expansion have
exactly the weights of 3 pre-norm Transformer layers with a 4x one (36 d^2),
so the toeplitz gMLP matches the Transformer within a fraction of a percent
while the dense gMLP adds its `n x n` matrices (reported). Each backend runs
in its own process; every figure is the median of `--repeats` calls after a
first (compiling) one, and the models' calls take turns. Results go to
`benchmarks/results/<output>.{json,md,png}` (`--output`, default `text`).
"""

import argparse
import json
import sys

from common import command
from common import describe
from common import jit_compile
from common import machine
from common import matmul_gflops
from common import peak_memory_mib
from common import run_worker
from common import timed_side_by_side
from common import versions
from common import write_results

import keras_gmlp

HIDDEN_DIM, VOCABULARY_SIZE = 256, 1000
GMLP_LAYERS, GMLP_INTERMEDIATE_DIM = 4, 6 * HIDDEN_DIM
TRANSFORMER_LAYERS, TRANSFORMER_INTERMEDIATE_DIM, TRANSFORMER_HEADS = 3, 1024, 4
MODELS = ("gmlp-dense", "gmlp-toeplitz", "transformer")
BACKENDS = ("jax", "tensorflow", "torch")
PACKAGES = ["keras", "keras-hub", "jax", "tensorflow", "torch"]


def gmlp(length, spatial_weights):
    import keras_gmlp

    return keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=VOCABULARY_SIZE,
        num_layers=GMLP_LAYERS,
        hidden_dim=HIDDEN_DIM,
        intermediate_dim=GMLP_INTERMEDIATE_DIM,
        max_sequence_length=length,
        spatial_weights=spatial_weights,
    )


def transformer(length):
    """A pre-norm BERT-style encoder of keras-hub layers, with the same
    token embedding as gMLP plus the position embedding it needs."""
    import keras
    import keras_hub

    token_ids = keras.Input((length,), dtype="int32", name="token_ids")
    padding_mask = keras.Input((length,), dtype="bool", name="padding_mask")
    x = keras_hub.layers.TokenAndPositionEmbedding(VOCABULARY_SIZE, length, HIDDEN_DIM)(
        token_ids
    )
    for _ in range(TRANSFORMER_LAYERS):
        x = keras_hub.layers.TransformerEncoder(
            TRANSFORMER_INTERMEDIATE_DIM,
            TRANSFORMER_HEADS,
            activation="gelu",  # exact, as in BERT and in the gMLP blocks
            normalize_first=True,
        )(x, padding_mask=padding_mask)
    x = keras.layers.LayerNormalization()(x)
    return keras.Model({"token_ids": token_ids, "padding_mask": padding_mask}, x)


def forward_flops_per_token(model, length):
    """Multiply-adds x 2 of one token's forward pass (matmuls only; the
    toeplitz `W` counted as the dense matmul it equals). Token mixing costs
    `n e / 2` multiply-adds a token in a gMLP block and `2 n d` in attention:
    at equal parameters gMLP has 4/3 the layers and `e = 6 d`, so twice the
    Transformer's mixing cost, as the paper's own formulas give."""
    d = HIDDEN_DIM
    if model == "transformer":
        ffn = TRANSFORMER_INTERMEDIATE_DIM
        layer = 2 * (4 * d * d + 2 * d * ffn) + 2 * 2 * length * d
        return TRANSFORMER_LAYERS * layer
    gate = GMLP_INTERMEDIATE_DIM // 2
    block = 2 * (d * GMLP_INTERMEDIATE_DIM + gate * d) + 2 * length * gate
    return GMLP_LAYERS * block


def build(model, length):
    import keras

    if model == "transformer":
        network = transformer(length)
    else:
        network = gmlp(length, model.removeprefix("gmlp-"))
    # Training regresses the features on zeros: a full forward and backward
    # pass and an AdamW step, without a head that would differ between them.
    network.compile(
        optimizer=keras.optimizers.AdamW(1e-4), loss="mse", jit_compile=jit_compile()
    )
    return network


def text_batch(length, tokens_per_batch):
    """`(inputs, targets)`: `tokens_per_batch` random token ids in sequences
    of `length`, none of them padding, and zero features to regress on."""
    import numpy as np

    batch_size = tokens_per_batch // length
    rng = np.random.default_rng(0)
    token_ids = rng.integers(1, VOCABULARY_SIZE, (batch_size, length), "int32")
    inputs = {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids, bool)}
    return inputs, np.zeros((batch_size, length, HIDDEN_DIM), "float32")


def worker(length, tokens_per_batch, repeats):
    import keras

    batch_size = tokens_per_batch // length
    inputs, targets = text_batch(length, tokens_per_batch)
    networks = {model: build(model, length) for model in MODELS}
    calls = {}
    for model, network in networks.items():
        calls[model, "inference"] = lambda n=network: n.predict_on_batch(inputs)
        calls[model, "training"] = lambda n=network: n.train_on_batch(inputs, targets)
    times = timed_side_by_side(calls, repeats)
    limit = matmul_gflops(keras.backend.backend(), "float32", repeats)
    records = []
    for model, network in networks.items():
        record = {
            "backend": keras.backend.backend(),
            "model": model,
            "length": length,
            "batch_size": batch_size,
            "parameters": network.count_params(),
            "forward_mflops_per_token": forward_flops_per_token(model, length) / 1e6,
            "matmul_gflops": limit,
        }
        for mode in ("inference", "training"):
            first, median = times[model, mode]
            record[f"{mode}_warmup_s"] = first
            record[f"{mode}_tokens_per_s"] = tokens_per_batch / median
        records.append(record)
    print(json.dumps({"records": records, "peak_memory_mib": peak_memory_mib()}))


def markdown(report):
    limit = report["matmul_gflops_limit"]
    lines = [
        f"Machine: {describe(report['machine'])}. "
        f"{report['tokens_per_batch']} tokens a batch, fp32. Matmul limit: "
        f"{limit:.0f} GFLOP/s (the best square matmul of the backends, same run); "
        "% of matmul is the counted matmul FLOPs' rate (training: 3x the "
        "forward's; toeplitz `W` as the dense matmul it equals, which the FFT "
        "at 2048 tokens undercuts).",
        "",
        "| backend | length | model | parameters | MFLOP/token | inference tokens/s "
        "| vs Transformer | % of matmul | training tokens/s | vs Transformer "
        "| % of matmul |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        cells = [
            row["backend"],
            str(row["length"]),
            row["model"],
            f"{row['parameters'] / 1e6:.2f}M",
            f"{row['forward_mflops_per_token']:.1f}",
            f"{row['inference_tokens_per_s']:.0f}",
            f"{row['inference_ratio']:.2f}x",
            f"{100 * row['inference_gflops'] / limit:.0f}%",
            f"{row['training_tokens_per_s']:.0f}",
            f"{row['training_ratio']:.2f}x",
            f"{100 * row['training_gflops'] / limit:.0f}%",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = sorted({row["backend"] for row in report["results"]})
    figure, axes = plt.subplots(
        2, len(backends), figsize=(4 * len(backends), 7), squeeze=False
    )
    for column, backend in enumerate(backends):
        for row_index, mode in enumerate(("inference", "training")):
            axis = axes[row_index][column]
            for model in MODELS:
                rows = [
                    r
                    for r in report["results"]
                    if r["backend"] == backend and r["model"] == model
                ]
                lengths = [r["length"] for r in rows]
                speeds = [r[f"{mode}_tokens_per_s"] for r in rows]
                axis.plot(lengths, speeds, marker="o", label=model)
            axis.set_xscale("log", base=2)
            axis.set_title(f"{backend}, {mode}")
            axis.set_xlabel("sequence length")
            axis.set_ylabel("tokens / s")
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def with_ratios(results):
    """Adds each row's speed relative to the Transformer of its backend and
    length, and the GFLOP/s of its counted matmuls."""
    anchors = {
        (r["backend"], r["length"]): r for r in results if r["model"] == "transformer"
    }
    for row in results:
        anchor = anchors[(row["backend"], row["length"])]
        for mode in ("inference", "training"):
            speed = row[f"{mode}_tokens_per_s"]
            row[f"{mode}_ratio"] = speed / anchor[f"{mode}_tokens_per_s"]
            flops = row["forward_mflops_per_token"] * (3 if mode == "training" else 1)
            row[f"{mode}_gflops"] = speed * flops / 1e3
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--lengths", nargs="+", type=int, default=[128, 512, 2048])
    parser.add_argument("--tokens-per-batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="text", help="results/<output>.*")
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.lengths[0], args.tokens_per_batch, args.repeats)
    results = []
    for backend in args.backends:
        for length in args.lengths:
            print(f"measuring {backend} at {length} tokens", file=sys.stderr)
            arguments = ["--lengths", str(length), "--repeats", str(args.repeats)]
            arguments += ["--tokens-per-batch", str(args.tokens_per_batch)]
            output = run_worker(__file__, arguments, backend)
            for record in output["records"]:
                record["peak_memory_mib"] = output["peak_memory_mib"]
            results += output["records"]
    report = {
        "command": command(),
        "machine": machine(),
        "versions": versions(PACKAGES),
        "tokens_per_batch": args.tokens_per_batch,
        "matmul_gflops_limit": max(r["matmul_gflops"] for r in results),
        "results": with_ratios(results),
    }
    print(write_results(report, args.output, markdown, plot))


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
