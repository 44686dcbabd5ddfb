"""
Title: Text generation with a causal gMLP and its cached decoder
Author: keras_gmlp contributors
Date created: 2026/11/24
Last modified: 2026/11/24
Description: Train a small causal aMLP on docstrings and generate text with samplers.
"""

"""
## Introduction

A causal gMLP masks its spatial weights `W` to a lower triangle, so token
`t` only sees tokens up to `t`, and it becomes a language model. With
`attention_dim` set, each gate also gets aMLP's tiny single-head attention.

`GMLPCausalLM.generate` decodes incrementally: each block caches what it
computed for the tokens so far, so a new token costs one row of `W v` per
block instead of a pass over the whole text. This tutorial trains a small
causal aMLP on the first paragraphs of the Python standard library's
docstrings (real text, no download), generates with keras-hub's samplers,
and checks the cached decoder against recomputing everything.
"""

"""
## Setup

The backend is set before Keras is imported. Switching is this one line:
`"jax"`, `"tensorflow"` or `"torch"` (an already set `KERAS_BACKEND` wins).
`KERAS_GMLP_SMOKE=1` runs a tiny version in seconds, as the tests do.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
SMOKE = os.environ.get("KERAS_GMLP_SMOKE") == "1"

import pathlib
import time

import keras
import keras_hub
import numpy as np

import keras_gmlp
from keras_gmlp.data.standard_library import standard_library_docstrings

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend())

"""
## The data

The first paragraph of every module, class and function docstring in the
standard library's top-level modules (`os.py`, `typing.py`, ...).
"""


def first_paragraph(text):
    return " ".join(text.split("\n\n")[0].split())


texts = [first_paragraph(text) for text in standard_library_docstrings("*.py")]
texts = texts[:64] if SMOKE else texts
print(f"{len(texts)} paragraphs, e.g. {texts[1]!r}")

"""
## The model

First a tokenizer: `GMLPTokenizer.from_text_files` learns a WordPiece
vocabulary from the text itself. A small one, 2000 pieces, keeps the
model's output layer, one logit per piece, cheap.
`GMLPCausalLMPreprocessor` turns each string into its tokens and the same
tokens shifted by one, the targets.
"""

corpus = pathlib.Path("docstrings.txt")
corpus.write_text("\n".join(texts), encoding="utf-8")
tokenizer = keras_gmlp.models.GMLPTokenizer.from_text_files([corpus], 2000)
print(tokenizer.vocabulary_size(), "pieces, e.g.", tokenizer.get_vocabulary()[500:508])
SEQUENCE_LENGTH = 32
backbone = keras_gmlp.models.GMLPTextBackbone(
    vocabulary_size=tokenizer.vocabulary_size(),
    num_layers=1 if SMOKE else 4,
    hidden_dim=16 if SMOKE else 128,
    intermediate_dim=64 if SMOKE else 512,
    max_sequence_length=SEQUENCE_LENGTH,
    causal=True,
    attention_dim=8 if SMOKE else 32,
)
lm = keras_gmlp.models.GMLPCausalLM(
    backbone,
    preprocessor=keras_gmlp.models.GMLPCausalLMPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    ),
)

"""
## Training

`fit` takes the raw strings and reports the next-token accuracy.
"""

lm.compile(optimizer=keras.optimizers.AdamW(2e-3))
lm.fit(texts, batch_size=32, epochs=1 if SMOKE else 8, verbose=2)

"""
## Generation

`generate` takes prompts and decodes until the end token or `max_length`
tokens, prompt included. The sampler is chosen in `compile`: greedy takes
the likeliest token every time, top-k draws among the k likeliest.
"""

prompts = ["return the", "create a new", "this module provides"]
lm.compile(sampler="greedy")
for text in lm.generate(prompts, max_length=SEQUENCE_LENGTH):
    print("greedy:", text)
lm.compile(sampler=keras_hub.samplers.TopKSampler(k=5, seed=0))
for text in lm.generate(prompts, max_length=SEQUENCE_LENGTH):
    print("top-5: ", text)

"""
## The cached decoder

What the cache saves: without it, each new token needs the whole model run
over the whole text so far. Here is that slow way, written out, next to
`generate`, both greedy and both past the end
token, so that they decode the same number of tokens.
"""


def recomputed(prompt, max_length):
    """Greedy decoding that reruns the model on the whole text every token."""
    inputs = lm.preprocessor.generate_preprocess([prompt], max_length)
    token_ids = keras.ops.convert_to_numpy(inputs["token_ids"])
    start = int(keras.ops.convert_to_numpy(inputs["padding_mask"]).sum())
    for t in range(start, max_length):
        # Calling the model itself skips the preprocessor: these are tokens.
        logits = lm({"token_ids": token_ids, "padding_mask": token_ids >= 0})
        token_ids[0, t] = np.argmax(keras.ops.convert_to_numpy(logits)[0, t - 1])
    mask = np.ones_like(token_ids, dtype=bool)
    return lm.preprocessor.generate_postprocess(
        {"token_ids": token_ids, "padding_mask": mask}
    )[0]


lm.compile(sampler="greedy")
for name, decode in [
    (
        "cached",
        lambda: lm.generate(prompts[:1], SEQUENCE_LENGTH, stop_token_ids=None)[0],
    ),
    ("recomputed", lambda: recomputed(prompts[0], SEQUENCE_LENGTH)),
]:
    decode()  # the first call compiles
    start = time.perf_counter()
    text = decode()
    print(f"{name:10} {time.perf_counter() - start:6.3f} s: {text}")

"""
Both give the same text: the cache changes the cost, not the result (the
tests check this on every backend). The gap widens with length, since the
cached decoder's cost per token grows with the text's length and the
recomputation's with its square.

## What next

- `spatial_weights="toeplitz"` makes `W[i, j]` depend on `i - j` only: a
  shift-invariant model with `2n - 1` spatial parameters a block.
- `lm.generate(prompts, max_length=..., strip_prompt=True)` returns only the
  new text.
"""
