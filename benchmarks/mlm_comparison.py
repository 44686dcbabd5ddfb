"""The paper's masked-LM comparison, reproduced small, on the standard library.

    python benchmarks/mlm_comparison.py     # 38 min on 2 cores shared with other jobs
    python benchmarks/mlm_comparison.py --models gmlp amlp  # a part, merged in

Four encoders of about the same parameter count (asserted within 5%, with
and without the shared token embedding) pretrain BERT's way on the
docstrings of the Python standard library, with the same WordPiece
vocabulary (learned on the training part), sequence length, masks, batches,
steps and AdamW schedule:

- gmlp: `GMLPTextBackbone`, the paper's gMLP;
- amlp: `GMLPTextBackbone` with a tiny attention (aMLP);
- transformer: pre-norm keras-hub `TransformerEncoder` layers with a learned
  keras-hub `PositionEmbedding`;
- ungated: gMLP with the gate removed, the paper's linear baseline: each
  block's unit returns its spatial projection `W norm(z) + b` of all its
  channels, not `u * (W norm(v) + b)`.

Each gets the same tied `MaskedLMHead` through `GMLPMaskedLM`. Every tenth
docstring is validation; the rest are joined and cut into sequences. The
masks of every step and of validation are drawn once, from `--seed`, before
any model trains. The table reports validation perplexity over the masked
tokens, against the unigram distribution of the training tokens. Rows are
written to `benchmarks/results/mlm_comparison.{json,md}` as each model
finishes; a run of some `--models` with the same settings keeps the other
rows, so an interrupted run resumes.
"""

import argparse
import json
import math
import pathlib
import tempfile
import time

import keras
import keras_hub
import numpy as np
from common import command
from keras import ops

import keras_gmlp
from keras_gmlp.data.standard_library import standard_library_docstrings
from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.layers.gmlp_block import dense_over_tokens
from keras_gmlp.layers.gmlp_block import exact_gelu
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTokenizer

RESULTS = pathlib.Path(__file__).parent / "results"
SEQUENCE_LENGTH, HIDDEN_DIM = 128, 128
# The learner stops at about 3200 word pieces on this corpus.
MAX_VOCABULARY_SIZE = 4096
MASK_RATE, MASK_LENGTH = 0.15, 24
PAD_ID, CLS_ID, SEP_ID, MASK_ID = 0, 2, 3, 4
MODELS = {
    "gmlp": {"num_layers": 5, "intermediate_dim": 768},
    "amlp": {"num_layers": 5, "intermediate_dim": 640, "attention_dim": 32},
    "transformer": {"num_layers": 4, "intermediate_dim": 512, "num_heads": 4},
    "ungated": {"num_layers": 5, "intermediate_dim": 560},
}


class SpatialProjection(SpatialGatingUnit):
    """The gating unit without its gate: `W norm(z) + b` over all channels.

    It reuses the unit's projection by gating with ones (`u = 1`).
    """

    def build(self, inputs_shape, padding_mask_shape=None, attention_inputs_shape=None):
        super().build((*inputs_shape[:-1], 2 * inputs_shape[-1]))

    def call(self, inputs, padding_mask=None, attention_inputs=None):
        ones = ops.ones_like(inputs)
        return super().call(ops.concatenate([ones, inputs], -1), padding_mask)

    def compute_output_shape(self, inputs_shape, *args):
        return inputs_shape


class UngatedBlock(keras.layers.Layer):
    """A gMLP block whose unit is a `SpatialProjection`: the paper's linear
    baseline, `x + proj_out(W norm(gelu(proj_in(norm(x)))) + b)`.

    Args:
        hidden_dim: int. The width of the token features.
        intermediate_dim: int. The width of `proj_in`, which the spatial
            projection keeps (a gating unit halves it).
        sequence_length: int. The size of `W`.
        **kwargs: arguments of `keras.layers.Layer`.
    """

    def __init__(self, hidden_dim, intermediate_dim, sequence_length, **kwargs):
        super().__init__(**kwargs)
        self.layer_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.proj_in = keras.layers.Dense(intermediate_dim)
        self.spatial_projection = SpatialProjection(sequence_length)
        self.proj_out = keras.layers.Dense(hidden_dim)

    def build(self, inputs_shape, padding_mask_shape=None):
        self.layer_norm.build(inputs_shape)
        self.proj_in.build(inputs_shape)
        projected_shape = (*inputs_shape[:-1], self.proj_in.units)
        self.spatial_projection.build(projected_shape)
        self.proj_out.build(projected_shape)

    def call(self, inputs, padding_mask=None):
        x = exact_gelu(dense_over_tokens(self.proj_in, self.layer_norm(inputs)))
        x = self.spatial_projection(x, padding_mask=padding_mask)
        return inputs + dense_over_tokens(self.proj_out, x)

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        return inputs_shape


def encoder(blocks, vocabulary_size, with_positions):
    """A keras-hub `Backbone` of token embedding, `blocks` and a final norm,
    with gMLP's embedding (and learned positions for the Transformer)."""
    token_embedding = keras.layers.ReversibleEmbedding(
        vocabulary_size,
        HIDDEN_DIM,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
    )
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
    x = token_embedding(token_ids)
    if with_positions:
        x = x + keras_hub.layers.PositionEmbedding(SEQUENCE_LENGTH)(x)
    for block in blocks:
        x = block(x, padding_mask=padding_mask)
    x = keras.layers.LayerNormalization(epsilon=1e-6)(x)
    backbone = keras_hub.models.Backbone(
        inputs={"token_ids": token_ids, "padding_mask": padding_mask}, outputs=x
    )
    backbone.token_embedding = token_embedding
    backbone.vocabulary_size = vocabulary_size
    return backbone


def build_backbone(name, vocabulary_size):
    config = MODELS[name]
    if name in ("gmlp", "amlp"):
        return GMLPTextBackbone(
            vocabulary_size=vocabulary_size,
            hidden_dim=HIDDEN_DIM,
            max_sequence_length=SEQUENCE_LENGTH,
            **config,
        )
    if name == "transformer":
        blocks = [
            keras_hub.layers.TransformerEncoder(
                config["intermediate_dim"],
                config["num_heads"],
                activation="gelu",
                normalize_first=True,
            )
            for _ in range(config["num_layers"])
        ]
        return encoder(blocks, vocabulary_size, with_positions=True)
    blocks = [
        UngatedBlock(HIDDEN_DIM, config["intermediate_dim"], SEQUENCE_LENGTH)
        for _ in range(config["num_layers"])
    ]
    return encoder(blocks, vocabulary_size, with_positions=False)


def parameter_counts(backbone):
    total = backbone.count_params()
    embedding = backbone.token_embedding.count_params()
    return {"parameters": total, "non_embedding": total - embedding}


def check_matched(counts):
    for key in ("parameters", "non_embedding"):
        values = [count[key] for count in counts.values()]
        spread = max(values) / min(values) - 1
        print(f"{key}: " + ", ".join(f"{n} {c[key]:,}" for n, c in counts.items()))
        assert spread <= 0.05, f"{key} differ by {spread:.1%}, more than 5%"


def split_corpus(docstrings):
    """Every tenth docstring for validation, the rest for training."""
    train = [text for i, text in enumerate(docstrings) if i % 10]
    validation = [text for i, text in enumerate(docstrings) if not i % 10]
    return train, validation


def learn_tokenizer(texts):
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "train.txt"
        path.write_text("\n".join(texts), encoding="utf-8")
        return GMLPTokenizer.from_text_files([path], MAX_VOCABULARY_SIZE)


def sequences(tokenizer, texts):
    """The texts' tokens, one `[SEP]` after each, cut into
    `[CLS] ... [SEP]` sequences of `SEQUENCE_LENGTH` (the tail is dropped)."""
    stream = np.concatenate(
        [np.append(np.asarray(ids), SEP_ID) for ids in tokenizer(texts)]
    ).astype("int32")
    width = SEQUENCE_LENGTH - 2
    body = stream[: len(stream) // width * width].reshape(-1, width)
    column = np.ones((len(body), 1), "int32")
    return np.concatenate([CLS_ID * column, body, SEP_ID * column], axis=1)


def masked(token_ids, tokenizer):
    """BERT's masking by keras-hub's generator: `(x, y, sample_weight)`."""
    generator = keras_hub.layers.MaskedLMMaskGenerator(
        tokenizer.vocabulary_size(),
        MASK_RATE,
        MASK_ID,
        mask_selection_length=MASK_LENGTH,
        unselectable_token_ids=[PAD_ID, CLS_ID, SEP_ID],
    )
    masks = generator(token_ids)
    x = {
        "token_ids": np.asarray(masks["token_ids"], "int32"),
        "padding_mask": np.ones_like(token_ids),
        "mask_positions": np.asarray(masks["mask_positions"], "int32"),
    }
    return x, np.asarray(masks["mask_ids"]), np.asarray(masks["mask_weights"])


def training_stream(train, tokenizer, steps, batch_size, seed):
    """`steps * batch_size` masked sequences: passes over `train`, each
    shuffled and masked anew."""
    rng = np.random.default_rng(seed)
    passes = math.ceil(steps * batch_size / len(train))
    token_ids = np.concatenate([rng.permutation(train) for _ in range(passes)])
    return masked(token_ids[: steps * batch_size], tokenizer)


def unigram_perplexity(train, vocabulary_size, validation_y, validation_weight):
    """The perplexity of the masked validation tokens under the training
    tokens' frequencies (add-one smoothed): what a model that ignores
    context reaches."""
    counts = np.bincount(train.ravel(), minlength=vocabulary_size) + 1.0
    log_p = np.log(counts / counts.sum())[validation_y]
    return float(np.exp(-np.sum(log_p * validation_weight) / validation_weight.sum()))


def train_and_evaluate(name, data, steps, batch_size, learning_rate):
    backbone = build_backbone(name, data["vocabulary_size"])
    model = GMLPMaskedLM(backbone)
    warmup = steps // 10
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        steps - warmup,
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=1.0)
    )
    x, y, weight = data["train"]
    start = time.perf_counter()
    history = model.fit(
        x, y, sample_weight=weight, batch_size=batch_size, shuffle=False, verbose=2
    ).history
    seconds = time.perf_counter() - start
    evaluation = model.evaluate(
        *data["validation"][:2],
        sample_weight=data["validation"][2],
        batch_size=64,
        return_dict=True,
        verbose=0,
    )
    return {
        "model": name,
        **MODELS[name],
        **parameter_counts(backbone),
        "train_perplexity_last_epoch": history["perplexity"][-1],
        "validation_perplexity": evaluation["perplexity"],
        "validation_accuracy": evaluation["accuracy"],
        "train_seconds": seconds,
    }


def markdown(report):
    settings = report["settings"]
    lines = [
        "| model | blocks | parameters (without embedding) | validation perplexity "
        "| masked accuracy | training s (with compiling) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(report["rows"].values(), key=lambda r: r["model"]):
        lines.append(
            f"| {row['model']} | {row['num_layers']} | {row['parameters']:,} "
            f"({row['non_embedding']:,}) | {row['validation_perplexity']:.2f} "
            f"| {row['validation_accuracy']:.1%} | {row['train_seconds']:.0f} |"
        )
    lines += [
        f"| unigram baseline | | | {report['unigram_perplexity']:.2f} | | |",
        "",
        f"{settings['train_sequences']} training and "
        f"{settings['validation_sequences']} validation sequences of "
        f"{SEQUENCE_LENGTH} tokens, vocabulary {settings['vocabulary_size']}, "
        f"{settings['steps']} steps of {settings['batch_size']}, AdamW "
        f"{settings['learning_rate']}, seed {settings['seed']}, "
        f"{settings['backend']}. Command: `{report['command']}`, "
        f"{report['wall_seconds'] / 60:.1f} min in all.",
    ]
    return "\n".join(lines) + "\n"


def write(report):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mlm_comparison.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "mlm_comparison.md").write_text(markdown(report))


def previous_rows(settings):
    path = RESULTS / "mlm_comparison.json"
    if not path.exists():
        return {}
    report = json.loads(path.read_text())
    return report["rows"] if report["settings"] == settings else {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=MODELS)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)

    train_texts, validation_texts = split_corpus(standard_library_docstrings())
    tokenizer = learn_tokenizer(train_texts)
    vocabulary_size = tokenizer.vocabulary_size()
    counts = {
        name: parameter_counts(build_backbone(name, vocabulary_size)) for name in MODELS
    }
    check_matched(counts)
    train = sequences(tokenizer, train_texts)
    validation = sequences(tokenizer, validation_texts)
    data = {
        "train": training_stream(
            train, tokenizer, args.steps, args.batch_size, args.seed
        ),
        "validation": masked(validation, tokenizer),
        "vocabulary_size": vocabulary_size,
    }
    unigram = unigram_perplexity(train, vocabulary_size, *data["validation"][1:])
    print(f"unigram perplexity {unigram:.1f}", flush=True)
    settings = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "backend": keras.backend.backend(),
        "vocabulary_size": vocabulary_size,
        "train_sequences": len(train),
        "validation_sequences": len(validation),
    }
    report = {
        "settings": settings,
        "command": command(),
        "unigram_perplexity": unigram,
        "rows": previous_rows(settings),
    }
    for name in args.models:
        keras.utils.set_random_seed(args.seed)
        report["rows"][name] = train_and_evaluate(
            name, data, args.steps, args.batch_size, args.learning_rate
        )
        report["wall_seconds"] = time.perf_counter() - start
        write(report)
        print(markdown(report), flush=True)


if __name__ == "__main__":
    # Before JAX's first computation, in every worker process too.
    keras_gmlp.utils.tune_cpu_memory()
    main()
