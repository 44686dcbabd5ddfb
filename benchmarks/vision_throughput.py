"""Vision throughput: keras_gmlp on JAX, TensorFlow and PyTorch against
lucidrains' g-mlp-pytorch, next to the machine's matmul limit.

    python benchmarks/vision_throughput.py            # everything, ~4 min on 2 cores
    python benchmarks/vision_throughput.py --rounds 3 # the tables in README.md, ~12 min
    python benchmarks/vision_throughput.py --models ti --repeats 3
    python benchmarks/vision_throughput.py --implementations g-mlp-pytorch jax torch \
        --dtype bfloat16 --batch-size 256 --output vision_gpu_bf16   # on a GPU

Every (implementation, model) pair runs in its own process, so compile
caches and peak memory are its own. Each reports the compile or warm-up time
of its first call apart, then images/s as the median of `--repeats` timed
calls. `--rounds N` runs every process N times, one round after another,
and keeps the median of each figure over the rounds (the highest peak
memory): on this shared machine one process can run at half speed (a
torch matmul at 116 against 185-195 GFLOP/s in the run's other torch
processes), and a single round lets that process decide its ratio. Where
a GPU is visible, every implementation runs on it (JAX and torch; the
script does not place TensorFlow). `--dtype bfloat16` runs Keras under the
`mixed_bfloat16` policy and g-mlp-pytorch under `torch.autocast`: bfloat16
compute, float32 weights. Results go to
`benchmarks/results/<output>.{json,md,png}`.
"""

import argparse
import json
import statistics
import sys

from common import command
from common import describe
from common import jit_compile
from common import machine
from common import matmul_gflops
from common import peak_memory_mib
from common import run_worker
from common import synchronized
from common import timed
from common import torch_device
from common import versions
from common import write_results

MODELS = {  # the paper's sizes, all 30 blocks of 16x16 patches at 224x224
    "ti": {"hidden_dim": 128, "intermediate_dim": 768},
    "s": {"hidden_dim": 256, "intermediate_dim": 1536},
}
NUM_LAYERS, IMAGE_SIZE, PATCH_SIZE, NUM_CLASSES = 30, 224, 16, 1000
IMPLEMENTATIONS = ("g-mlp-pytorch", "jax", "tensorflow", "torch")
PACKAGES = ["keras", "keras-hub", "jax", "tensorflow", "torch", "g-mlp-pytorch"]


def forward_flops(model):
    """Multiply-adds x 2 of one image's forward pass (matmuls only)."""
    d, f = MODELS[model]["hidden_dim"], MODELS[model]["intermediate_dim"]
    n = (IMAGE_SIZE // PATCH_SIZE) ** 2
    stem = 2 * n * PATCH_SIZE**2 * 3 * d
    block = 2 * n * d * f + 2 * n * n * (f // 2) + 2 * n * (f // 2) * d
    return stem + NUM_LAYERS * block + 2 * d * NUM_CLASSES


def keras_classifier(model):
    """keras_gmlp's classifier of size `model`, compiled for training."""
    import keras

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
    return classifier


def image_batch(batch_size):
    """Random `(images, labels)`, on the device once, as g-mlp-pytorch's
    are: copying numpy images to a GPU took 30 of JAX's 45 ms a gMLP-Ti
    inference batch (H100, bf16, 256)."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.normal(size=(batch_size, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, size=(batch_size,))
    return keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(labels)


def run_keras(model, batch_size, dtype, repeats):
    import keras

    import keras_gmlp

    keras_gmlp.utils.tune_cpu_memory()  # before JAX's first computation
    if dtype == "bfloat16":
        keras.config.set_dtype_policy("mixed_bfloat16")
    classifier = keras_classifier(model)
    images, labels = image_batch(batch_size)
    # Both calls return host arrays, so they wait for the device.
    return {
        "parameters": classifier.count_params(),
        "inference": timed(lambda: classifier.predict_on_batch(images), repeats),
        "training": timed(lambda: classifier.train_on_batch(images, labels), repeats),
    }


def run_lucidrains(model, batch_size, dtype, repeats):
    import torch
    from g_mlp_pytorch import gMLPVision

    torch.manual_seed(0)
    size = MODELS[model]
    device = torch_device()
    network = gMLPVision(
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        num_classes=NUM_CLASSES,
        dim=size["hidden_dim"],
        depth=NUM_LAYERS,
        ff_mult=size["intermediate_dim"] // size["hidden_dim"],
    ).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
    images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE, device=device)
    labels = torch.randint(0, NUM_CLASSES, (batch_size,), device=device)

    def autocast():
        return torch.autocast(device, torch.bfloat16, enabled=dtype == "bfloat16")

    def infer():
        network.eval()
        with torch.inference_mode(), autocast():
            network(images)

    def train():
        network.train()
        optimizer.zero_grad()
        with autocast():
            loss = torch.nn.functional.cross_entropy(network(images), labels)
        loss.backward()
        optimizer.step()

    return {
        "parameters": sum(p.numel() for p in network.parameters()),
        "inference": timed(lambda: synchronized(infer), repeats),
        "training": timed(lambda: synchronized(train), repeats),
    }


def device_peak_memory_mib(implementation):
    """The GPU's peak allocation in this process, or None on a CPU."""
    if implementation == "jax":
        import jax

        if jax.default_backend() != "gpu":
            return None
        return jax.devices()[0].memory_stats()["peak_bytes_in_use"] / 2**20
    if implementation in ("torch", "g-mlp-pytorch") and torch_device() == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return None


def worker(implementation, model, batch_size, dtype, repeats):
    """One measurement, in this process; prints one JSON line."""
    run = run_lucidrains if implementation == "g-mlp-pytorch" else run_keras
    result = run(model, batch_size, dtype, repeats)
    record = {
        "implementation": implementation,
        "model": model,
        "batch_size": batch_size,
        "dtype": dtype,
        "parameters": result["parameters"],
        "matmul_gflops": matmul_gflops(implementation, dtype, repeats),
        "peak_memory_mib": peak_memory_mib(),
        "device_peak_memory_mib": device_peak_memory_mib(implementation),
    }
    for mode in ("inference", "training"):
        first, median = result[mode]
        record[f"{mode}_warmup_s"] = first
        record[f"{mode}_images_per_s"] = batch_size / median
    print(json.dumps(record))


def measure(implementation, model, batch_size, dtype, repeats):
    arguments = [implementation, "--models", model, "--batch-size", str(batch_size)]
    arguments += ["--dtype", dtype, "--repeats", str(repeats)]
    backend = None if implementation == "g-mlp-pytorch" else implementation
    return run_worker(__file__, arguments, backend)


def median_record(records):
    """One process's record from its runs in every round: the median of each
    number, the highest of the peak memories."""
    merged = dict(records[0])
    for key, value in merged.items():
        values = [record[key] for record in records]
        if "memory" in key and value is not None:
            merged[key] = max(values)
        elif isinstance(value, float):
            merged[key] = statistics.median(values)
    return merged


def markdown(report):
    limit, dtype = report["matmul_gflops_limit"], report["dtype"]
    on_device = any(row["device_peak_memory_mib"] for row in report["results"])
    memory = "GPU peak MiB" if on_device else "peak MiB"
    lines = [
        f"Machine: {describe(report['machine'])}. {dtype} matmul limit: "
        f"{limit:.0f} GFLOP/s (the best square matmul of the frameworks, same run).",
        "",
        "| model | implementation | inference img/s | ratio | GFLOP/s | % of matmul "
        "| training img/s | ratio | % of matmul | compile s (infer / train) "
        f"| {memory} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        peak = row["device_peak_memory_mib"] if on_device else row["peak_memory_mib"]
        cells = [
            f"gMLP-{row['model'].capitalize()}",
            row["implementation"],
            f"{row['inference_images_per_s']:.1f}",
            f"{row['inference_ratio']:.2f}x",
            f"{row['inference_gflops']:.0f}",
            f"{100 * row['inference_gflops'] / limit:.0f}%",
            f"{row['training_images_per_s']:.1f}",
            f"{row['training_ratio']:.2f}x",
            f"{100 * row['training_gflops'] / limit:.0f}%",
            f"{row['inference_warmup_s']:.1f} / {row['training_warmup_s']:.1f}",
            f"{peak:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    command = report["command"]
    lines += ["", f"Batch {report['batch_size']}, {dtype}. Command: `{command}`"]
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
        axis.set_title(f"{mode}, batch {report['batch_size']}, {report['dtype']}")
        axis.set_ylabel("images / s")
        axis.tick_params(axis="x", labelsize=7, rotation=45)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", default="vision", help="results/<output>.*")
    parser.add_argument("--worker", choices=IMPLEMENTATIONS)
    args = parser.parse_args()
    if args.worker:
        size = (args.models[0], args.batch_size, args.dtype, args.repeats)
        return worker(args.worker, *size)

    rounds = []
    for round_number in range(1, args.rounds + 1):
        records = []
        for model in args.models:
            for implementation in args.implementations:
                print(
                    f"round {round_number}: gMLP-{model} on {implementation}",
                    file=sys.stderr,
                )
                size = (model, args.batch_size, args.dtype, args.repeats)
                records.append(measure(implementation, *size))
        rounds.append(records)
    results = [median_record(records) for records in zip(*rounds, strict=True)]
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
        "command": command(),
        "machine": machine(),
        "versions": versions(PACKAGES),
        "batch_size": args.batch_size,
        "dtype": args.dtype,
        "matmul_gflops_limit": max(r["matmul_gflops"] for r in results),
        "results": results,
        "rounds": rounds,
    }
    print(write_results(report, args.output, markdown, plot))


if __name__ == "__main__":
    main()
