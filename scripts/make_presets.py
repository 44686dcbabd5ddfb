"""Writes the named presets that ship in `keras_gmlp/preset_files/`.

Run from the repository root after changing a preset:

    KERAS_BACKEND=torch python scripts/make_presets.py

Architecture presets keep their configs, metadata and tokenizer assets and
drop their weights; the tiny test presets keep seeded random weights. The
WordPiece vocabularies are learned from the docstrings of the Python standard
library, a corpus every machine has offline.
"""

import pathlib
import shutil
import sys
import tempfile

import keras

from keras_gmlp.data.standard_library import standard_library_docstrings
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPCausalLMPreprocessor
from keras_gmlp.models import GMLPImageClassifierPreprocessor
from keras_gmlp.models import GMLPImageConverter
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPMaskedLMPreprocessor
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifierPreprocessor
from keras_gmlp.models import GMLPTokenizer
from keras_gmlp.models.gmlp_presets import PRESET_FILES
from keras_gmlp.models.gmlp_presets import TEXT_ARCHITECTURES
from keras_gmlp.models.gmlp_presets import TEXT_VARIANTS
from keras_gmlp.models.gmlp_presets import text_preset_name

VISION = {"num_layers": 30, "image_shape": (224, 224, 3), "patch_size": 16}
TEXT = {"max_sequence_length": 512}
# timm's gMLP preprocessing: mean = std = 0.5, bicubic resize.
IMAGENET_STYLE = {"scale": 2 / 255, "offset": -1.0, "interpolation": "bicubic"}

IMAGE_PRESETS = {
    "gmlp_ti16_224": dict(hidden_dim=128, intermediate_dim=768, **VISION),
    "gmlp_s16_224": dict(
        hidden_dim=256, intermediate_dim=1536, drop_path_rate=0.05, **VISION
    ),
    "gmlp_b16_224": dict(
        hidden_dim=512, intermediate_dim=3072, drop_path_rate=0.2, **VISION
    ),
    "gmlp_tiny_image_test": dict(
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        image_shape=(32, 32, 3),
        patch_size=8,
    ),
}
TEXT_PRESETS = {
    "gmlp_base_en": dict(num_layers=48, hidden_dim=512, intermediate_dim=3072, **TEXT),
    "amlp_base_en": dict(
        num_layers=36, hidden_dim=512, intermediate_dim=3072, attention_dim=64, **TEXT
    ),
    "gmlp_large_en": dict(num_layers=96, hidden_dim=768, intermediate_dim=3072, **TEXT),
    "amlp_large_en": dict(
        num_layers=72, hidden_dim=768, intermediate_dim=3072, attention_dim=128, **TEXT
    ),
    "amlp_tiny_text_test": dict(
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        attention_dim=8,
        max_sequence_length=32,
    ),
}
# The other variants of the paper's sizes come after the presets above, so
# that rerunning leaves the seeded weights of `amlp_tiny_text_test` as they
# were.
for architecture in TEXT_ARCHITECTURES:
    for variant, (causal, spatial_weights) in TEXT_VARIANTS.items():
        TEXT_PRESETS.setdefault(
            text_preset_name(architecture, variant),
            dict(
                TEXT_PRESETS[text_preset_name(architecture, "")],
                causal=causal,
                spatial_weights=spatial_weights,
            ),
        )
TINY_TEXT = dict(
    num_layers=2, hidden_dim=16, intermediate_dim=64, max_sequence_length=32
)
# Tasks with seeded weights: name -> (task, preprocessor, backbone config).
TASK_PRESETS = {
    "amlp_tiny_masked_lm_test": (
        GMLPMaskedLM,
        GMLPMaskedLMPreprocessor,
        dict(TINY_TEXT, attention_dim=8),
    ),
    "gmlp_tiny_causal_lm_test": (
        GMLPCausalLM,
        GMLPCausalLMPreprocessor,
        dict(TINY_TEXT, causal=True, spatial_weights="toeplitz"),
    ),
}
TEST_PRESETS = {"gmlp_tiny_image_test", "amlp_tiny_text_test", *TASK_PRESETS}
TINY_VOCABULARY_SIZE = 1024
VOCABULARY_SIZES = {name: TINY_VOCABULARY_SIZE for name in TEST_PRESETS}
# The learner stops short of this where the corpus runs out of pieces.
DEFAULT_VOCABULARY_SIZE = 16384


def save_preset(name, parts):
    directory = PRESET_FILES / name
    shutil.rmtree(directory, ignore_errors=True)
    for part in parts:
        part.save_to_preset(str(directory))
    if name not in TEST_PRESETS:
        (directory / "model.weights.h5").unlink()
    print(f"wrote {directory}")


def main():
    keras.utils.set_random_seed(0)
    for name, config in IMAGE_PRESETS.items():
        backbone = GMLPBackbone(**config)
        converter = GMLPImageConverter(
            image_size=config["image_shape"][:2], **IMAGENET_STYLE
        )
        save_preset(name, [backbone, GMLPImageClassifierPreprocessor(converter)])

    docstrings = standard_library_docstrings()
    print(f"{len(docstrings)} docstrings, {sum(map(len, docstrings))} characters")
    corpus = pathlib.Path(tempfile.mkdtemp()) / "docstrings.txt"
    corpus.write_text("\n".join(docstrings), encoding="utf-8")
    tokenizers = {}
    for name, config in TEXT_PRESETS.items():
        size = VOCABULARY_SIZES.get(name, DEFAULT_VOCABULARY_SIZE)
        if size not in tokenizers:
            tokenizers[size] = GMLPTokenizer.from_text_files([corpus], size)
        tokenizer = tokenizers[size]
        vocabulary_size = tokenizer.vocabulary_size()
        backbone = GMLPTextBackbone(vocabulary_size=vocabulary_size, **config)
        preprocessor_cls = (
            GMLPCausalLMPreprocessor
            if config.get("causal")
            else GMLPTextClassifierPreprocessor
        )
        preprocessor = preprocessor_cls(
            tokenizer, sequence_length=config["max_sequence_length"]
        )
        save_preset(name, [backbone, preprocessor])

    tokenizer = tokenizers[TINY_VOCABULARY_SIZE]
    for name, (task_cls, preprocessor_cls, config) in TASK_PRESETS.items():
        backbone = GMLPTextBackbone(
            vocabulary_size=tokenizer.vocabulary_size(), **config
        )
        preprocessor = preprocessor_cls(
            tokenizer, sequence_length=config["max_sequence_length"]
        )
        save_preset(name, [task_cls(backbone, preprocessor=preprocessor)])


if __name__ == "__main__":
    sys.exit(main())
