"""The named presets of keras_gmlp.

Presets without a `handle` ship inside the package, under `preset_files/`:
their configs (and, for the tiny test presets, their weights) resolve with
no network access. `scripts/make_presets.py` writes them. `parameters`
counts the backbone, as keras-hub's preset metadata does.
"""

import json
import pathlib

PRESET_FILES = pathlib.Path(__file__).parents[1] / "preset_files"

_VISION = "16x16 patches of 224x224 images, 30 blocks"
_TEXT = "uncased WordPiece vocabulary of Python's docstrings, 512 tokens"

_NAMED_PRESETS = {
    "gmlp_ti16_224": {
        "description": f"gMLP-Ti ({_VISION}, hidden 128). Architecture only.",
        "modality": "image",
    },
    "gmlp_s16_224": {
        "description": f"gMLP-S ({_VISION}, hidden 256). Architecture only.",
        "modality": "image",
    },
    "gmlp_b16_224": {
        "description": f"gMLP-B ({_VISION}, hidden 512). Architecture only.",
        "modality": "image",
    },
    "gmlp_s16_224_imagenet": {
        "description": (
            "gMLP-S with timm's ImageNet-1k weights (top-1 79.65 in timm), "
            "downloaded once from the Hugging Face hub and cached."
        ),
        "parameters": 19_165_656,
        "modality": "image",
        "handle": "hf://timm/gmlp_s16_224.ra3_in1k",
    },
    "gmlp_tiny_image_test": {
        "description": "A 2-block gMLP on 32x32 images, with random weights, "
        "for tests and examples.",
        "modality": "image",
    },
    "amlp_tiny_text_test": {
        "description": "A 2-block aMLP text encoder with random weights and a "
        "tiny vocabulary, for tests and examples.",
        "modality": "text",
    },
    "amlp_tiny_masked_lm_test": {
        "description": "A 2-block aMLP `GMLPMaskedLM` with random weights and a "
        "tiny vocabulary, for tests and examples.",
        "modality": "text",
    },
    "gmlp_tiny_causal_lm_test": {
        "description": "A 2-block causal gMLP `GMLPCausalLM` with Toeplitz "
        "spatial weights, random weights and a tiny vocabulary, for tests and "
        "examples.",
        "modality": "text",
    },
}
# The paper's text sizes, each in four variants: bidirectional encoders (for
# `GMLPMaskedLM` pretraining and `GMLPTextClassifier` fine-tuning) and
# causal language models (`GMLPCausalLM`), with dense or Toeplitz `W`.
TEXT_ARCHITECTURES = {
    "gmlp_base": ("gMLP-base", "48 blocks, hidden 512"),
    "amlp_base": ("aMLP-base", "36 blocks, hidden 512, tiny attention 64"),
    "gmlp_large": ("gMLP-large", "96 blocks, hidden 768"),
    "amlp_large": ("aMLP-large", "72 blocks, hidden 768, tiny attention 128"),
}
# Name suffix: (causal, spatial weights).
TEXT_VARIANTS = {
    "": (False, "dense"),
    "_toeplitz": (False, "toeplitz"),
    "_causal": (True, "dense"),
    "_causal_toeplitz": (True, "toeplitz"),
}


def text_preset_name(architecture, variant):
    """The name of a text preset, e.g. `gmlp_base_causal_toeplitz_en`."""
    return f"{architecture}{variant}_en"


def _text_presets():
    presets = {}
    for architecture, (label, shape) in TEXT_ARCHITECTURES.items():
        for variant, (causal, spatial_weights) in TEXT_VARIANTS.items():
            kind = "causal language model" if causal else "text encoder"
            toeplitz = {"dense": "", "toeplitz": ", Toeplitz spatial weights"}
            toeplitz = toeplitz[spatial_weights]
            presets[text_preset_name(architecture, variant)] = {
                "description": f"{label} {kind} ({shape}{toeplitz}; {_TEXT}). "
                "Architecture only.",
                "modality": "text",
            }
    return presets


def _with_shipped_metadata(name, preset):
    """Adds the parameter count and whether weights ship, from the files."""
    if "handle" in preset:
        return {**preset, "has_weights": True}
    directory = PRESET_FILES / name
    metadata_file = directory / "metadata.json"
    # Missing only while `scripts/make_presets.py` writes the presets.
    metadata = json.loads(metadata_file.read_text()) if metadata_file.exists() else {}
    return {
        **preset,
        "parameters": metadata.get("parameter_count"),
        "has_weights": (directory / "model.weights.h5").exists(),
    }


PRESETS = {
    name: _with_shipped_metadata(name, preset)
    for name, preset in {**_NAMED_PRESETS, **_text_presets()}.items()
}
