"""Vision throughput: keras_gmlp on JAX, TensorFlow and PyTorch against
lucidrains' g-mlp-pytorch, next to the machine's fp32 matmul limit.

    python benchmarks/vision_throughput.py            # everything, ~15 min on 2 cores
    python benchmarks/vision_throughput.py --models ti --repeats 3

Every (implementation, model) pair runs in its own process, so compile
caches and peak memory are its own. Each reports the compile or warm-up time
of its first call apart, then images/s as the median of `--repeats` timed
calls. Results go to `benchmarks/results/vision.{json,md,png}`.
"""

import argparse
import json
import os
import sys

from common import jit_compile
from common import machine
from common import peak_memory_mib
from common import run_worker
from common import timed
from common import versions

MODELS = {  # the paper's sizes, all 30 blocks of 16x16 patches at 224x224
    "ti": {"hidden_dim": 128, "intermediate_dim": 768},
    "s": {"hidden_dim": 256, "intermediate_dim": 1536},
}
NUM_LAYERS, IMAGE_SIZE, PATCH_SIZE, NUM_CLASSES = 30, 224, 16, 1000
IMPLEMENTATIONS = ("g-mlp-pytorch", "jax", "tensorflow", "torch")
MATMUL_SIZE = 2048
PACKAGES = ["keras", "keras-hub", "jax", "tensorflow", "torch", "g-mlp-pytorch"]
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def forward_flops(model):
    """Multiply-adds x 2 of one image's forward pass (matmuls only)."""
    d, f = MODELS[model]["hidden_dim"], MODELS[model]["intermediate_dim"]
    n = (IMAGE_SIZE // PATCH_SIZE) ** 2
    stem = 2 * n * PATCH_SIZE**2 * 3 * d
    block = 2 * n * d * f + 2 * n * n * (f // 2) + 2 * n * (f // 2) * d
    return stem + NUM_LAYERS * block + 2 * d * NUM_CLASSES


def matmul_gflops(implementation, repeats):
    n = MATMUL_SIZE
    if implementation in ("torch", "g-mlp-pytorch"):
        import torch

        a, b = torch.randn(n, n), torch.randn(n, n)
        _, seconds = timed(lambda: torch.mm(a, b), repeats)
    elif implementation == "jax":
        import jax
        import jax.numpy as jnp

        a = jnp.ones((n, n), "float32")
        matmul = jax.jit(jnp.dot)
        _, seconds = timed(lambda: matmul(a, a).block_until_ready(), repeats)
    else:
        import tensorflow as tf

        a = tf.random.normal((n, n))
        matmul = tf.function(tf.linalg.matmul, jit_compile=True)
        _, seconds = timed(lambda: matmul(a, a).numpy(), repeats)
    return 2 * n**3 / seconds / 1e9


def run_keras(model, batch_size, repeats):
    import keras
    import numpy as np

    import keras_gmlp

    backbone = keras_gmlp.models.GMLPBackbone(
        num_layers=NUM_LAYERS,
        image_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
        patch_size=PATCH_SIZE,
        **MODELS[model],
    )
    classifier = keras_gmlp.models.GMLPImageClassifier(backbone, NUM_CLASSES)
    classifier.compile(
        optimizer=keras.optimizers.AdamW(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile(),
    )
    rng = np.random.default_rng(0)
    images = rng.normal(size=(batch_size, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, size=(batch_size,))
    return {
        "parameters": classifier.count_params(),
        "inference": timed(lambda: classifier.predict_on_batch(images), repeats),
        "training": timed(lambda: classifier.train_on_batch(images, labels), repeats),
    }


def run_lucidrains(model, batch_size, repeats):
    import torch
    from g_mlp_pytorch import gMLPVision

    torch.manual_seed(0)
    size = MODELS[model]
    network = gMLPVision(
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        num_classes=NUM_CLASSES,
        dim=size["hidden_dim"],
        depth=NUM_LAYERS,
        ff_mult=size["intermediate_dim"] // size["hidden_dim"],
    )
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
    images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    labels = torch.randint(0, NUM_CLASSES, (batch_size,))

    def infer():
        network.eval()
        with torch.inference_mode():
            network(images)

    def train():
        network.train()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(network(images), labels).backward()
        optimizer.step()

    return {
        "parameters": sum(p.numel() for p in network.parameters()),
        "inference": timed(infer, repeats),
        "training": timed(train, repeats),
    }


def worker(implementation, model, batch_size, repeats):
    """One measurement, in this process; prints one JSON line."""
    run = run_lucidrains if implementation == "g-mlp-pytorch" else run_keras
    result = run(model, batch_size, repeats)
    record = {
        "implementation": implementation,
        "model": model,
        "batch_size": batch_size,
        "parameters": result["parameters"],
        "matmul_gflops": matmul_gflops(implementation, repeats),
        "peak_memory_mib": peak_memory_mib(),
    }
    for mode in ("inference", "training"):
        first, median = result[mode]
        record[f"{mode}_warmup_s"] = first
        record[f"{mode}_images_per_s"] = batch_size / median
    print(json.dumps(record))


def measure(implementation, model, batch_size, repeats):
    arguments = [implementation, "--models", model]
    arguments += ["--batch-size", str(batch_size), "--repeats", str(repeats)]
    backend = None if implementation == "g-mlp-pytorch" else implementation
    return run_worker(__file__, arguments, backend)


def markdown(report):
    limit = report["matmul_gflops_limit"]
    lines = [
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores. "
        f"fp32 matmul limit: {limit:.0f} GFLOP/s (best {MATMUL_SIZE}^2 matmul).",
        "",
        "| model | implementation | inference img/s | ratio | GFLOP/s | % of matmul "
        "| training img/s | ratio | compile s (infer / train) | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        cells = [
            f"gMLP-{row['model'].capitalize()}",
            row["implementation"],
            f"{row['inference_images_per_s']:.1f}",
            f"{row['inference_ratio']:.2f}x",
            f"{row['inference_gflops']:.0f}",
            f"{100 * row['inference_gflops'] / limit:.0f}%",
            f"{row['training_images_per_s']:.1f}",
            f"{row['training_ratio']:.2f}x",
            f"{row['inference_warmup_s']:.1f} / {row['training_warmup_s']:.1f}",
            f"{row['peak_memory_mib']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Batch {report['batch_size']}, fp32. Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, mode in zip(axes, ("inference", "training"), strict=True):
        rows = report["results"]
        labels = [f"{r['model']}\n{r['implementation']}" for r in rows]
        axis.bar(labels, [r[f"{mode}_images_per_s"] for r in rows])
        axis.set_title(f"{mode}, batch {report['batch_size']}, fp32")
        axis.set_ylabel("images / s")
        axis.tick_params(axis="x", labelsize=7, rotation=45)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=IMPLEMENTATIONS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.models[0], args.batch_size, args.repeats)

    results = []
    for model in args.models:
        for implementation in args.implementations:
            print(f"measuring gMLP-{model} on {implementation}", file=sys.stderr)
            results.append(
                measure(implementation, model, args.batch_size, args.repeats)
            )
    anchors = {r["model"]: r for r in results if r["implementation"] == "g-mlp-pytorch"}
    for row in results:
        anchor = anchors.get(row["model"], row)
        if row["parameters"] != anchor["parameters"]:
            raise RuntimeError(f"parameter counts differ from the anchor: {row}")
        for mode in ("inference", "training"):
            speed = row[f"{mode}_images_per_s"]
            row[f"{mode}_ratio"] = speed / anchor[f"{mode}_images_per_s"]
            flops = forward_flops(row["model"]) * (3 if mode == "training" else 1)
            row[f"{mode}_gflops"] = speed * flops / 1e9
    report = {
        "command": "python " + " ".join(sys.argv),
        "machine": machine(),
        "versions": versions(PACKAGES),
        "batch_size": args.batch_size,
        "matmul_gflops_limit": max(r["matmul_gflops"] for r in results),
        "results": results,
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "vision.json"), "w") as file:
        json.dump(report, file, indent=2)
    table = markdown(report)
    with open(os.path.join(RESULTS, "vision.md"), "w") as file:
        file.write(table)
    plot(report, os.path.join(RESULTS, "vision.png"))
    print(table)


if __name__ == "__main__":
    main()
