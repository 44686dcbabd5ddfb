"""keras-hub's own model test harness, run over every gMLP layer, backbone,
task, preprocessor and shipped preset, as keras-hub runs it on its models.

The models are tiny so that the module stays quick on every backend. The
harness's mixed-precision and quantization checks are on; keras-hub itself
skips the first on torch without CUDA and the second on torch.
"""

import numpy as np
from absl.testing import parameterized
from keras import ops

import keras_gmlp
from keras_gmlp.layers import DropPath
from keras_gmlp.layers import GMLPBlock
from keras_gmlp.layers import PatchEmbedding
from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.layers import TinyAttention
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPByteTokenizer
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPCausalLMPreprocessor
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPImageClassifierPreprocessor
from keras_gmlp.models import GMLPImageConverter
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPMaskedLMPreprocessor
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTextClassifierPreprocessor
from keras_gmlp.models import GMLPTokenizer
from keras_gmlp.models.gmlp_presets import PRESET_FILES
from tests.keras_hub_harness import HarnessTestCase

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCABULARY += "the quick brown fox jumps over lazy dog .".split()
SEQUENCE_LENGTH = 8
TEXTS = ["the quick brown fox.", "the lazy dog."]
# Packed by the text preprocessors: [CLS] text [SEP] [PAD] ...
PACKED = {
    "token_ids": np.array([[2, 5, 6, 7, 8, 13, 3, 0], [2, 5, 11, 12, 13, 3, 0, 0]]),
    "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0]]),
}
MASK_SELECTION_LENGTH = 5  # every token of TEXTS
IMAGE_SHAPE = (16, 16, 3)


def images(size=20):
    """Raw images, larger than the backbone's so that they get resized.

    Float, not uint8: Keras' `Resizing` rounds uint8 images on a direct call
    but not in `tf.data`, and `run_task_test` compares the two.
    """
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (2, size, size, 3)).astype("float32")


def tokenizer():
    return GMLPTokenizer(vocabulary=VOCABULARY)


def image_preprocessor():
    converter = GMLPImageConverter(image_size=IMAGE_SHAPE[:2], scale=1 / 255)
    return GMLPImageClassifierPreprocessor(converter)


def image_backbone_kwargs(**variant):
    return {
        "num_layers": 2,
        "hidden_dim": 8,
        "intermediate_dim": 16,
        "image_shape": IMAGE_SHAPE,
        "patch_size": 8,
        **variant,
    }


def text_backbone_kwargs(**variant):
    return {
        "vocabulary_size": len(VOCABULARY),
        "num_layers": 2,
        "hidden_dim": 8,
        "intermediate_dim": 16,
        "max_sequence_length": SEQUENCE_LENGTH,
        **variant,
    }


# Every option of the gating units, and all of them at once.
GATING_VARIANTS = {
    "dense": {},
    "toeplitz": {"spatial_weights": "toeplitz"},
    "causal": {"causal": True},
    "heads": {"heads": 2},
    "tiny_attention": {"attention_dim": 4},
    "causal_toeplitz_heads_tiny_attention": {
        "causal": True,
        "spatial_weights": "toeplitz",
        "heads": 2,
        "attention_dim": 4,
    },
}
# Regularisation adds the blocks' dropout and drop path layers.
REGULARIZED = {"dropout": 0.1, "drop_path_rate": 0.1}
TEXT_VARIANTS = {**GATING_VARIANTS, "regularized": REGULARIZED}


def tensor(shape, seed=0):
    """A backend tensor of random floats, as keras-hub's layer tests feed."""
    return ops.convert_to_tensor(
        np.random.default_rng(seed).normal(size=shape).astype("float32")
    )


class LayerHarnessTest(HarnessTestCase):
    def test_patch_embedding(self):
        self.run_layer_test(
            cls=PatchEmbedding,
            init_kwargs={"hidden_dim": 8, "patch_size": 4},
            input_data=tensor((2, 8, 12, 3)),
            expected_output_shape=(2, 6, 8),
            expected_num_trainable_weights=2,
        )

    @parameterized.named_parameters(
        ("plain", {}, 10), ("tiny_attention", {"attention_dim": 4}, 14)
    )
    def test_gmlp_block(self, variant, num_weights):
        self.run_layer_test(
            cls=GMLPBlock,
            init_kwargs={"intermediate_dim": 16, "heads": 2, **variant},
            input_data={
                "inputs": tensor((2, SEQUENCE_LENGTH, 8)),
                "padding_mask": ops.ones((2, SEQUENCE_LENGTH), "bool"),
            },
            expected_output_shape=(2, SEQUENCE_LENGTH, 8),
            expected_num_trainable_weights=num_weights,
            expected_num_non_trainable_variables=1,  # DropPath's seed state
        )

    @parameterized.named_parameters(*GATING_VARIANTS.items())
    def test_spatial_gating_unit(self, variant):
        num_weights = 8 if variant.get("attention_dim") else 4
        self.run_layer_test(
            cls=SpatialGatingUnit,
            init_kwargs=variant,
            input_data=tensor((2, SEQUENCE_LENGTH, 16)),
            expected_output_shape=(2, SEQUENCE_LENGTH, 8),
            expected_num_trainable_weights=num_weights,
        )

    @parameterized.named_parameters(("bidirectional", False), ("causal", True))
    def test_tiny_attention(self, causal):
        self.run_layer_test(
            cls=TinyAttention,
            init_kwargs={"attention_dim": 4, "output_dim": 6, "causal": causal},
            input_data=tensor((2, SEQUENCE_LENGTH, 8)),
            expected_output_shape=(2, SEQUENCE_LENGTH, 6),
            expected_num_trainable_weights=4,
        )

    def test_drop_path(self):
        self.run_layer_test(
            cls=DropPath,
            init_kwargs={"rate": 0.5, "seed": 0},
            input_data=tensor((2, SEQUENCE_LENGTH, 8)),
            expected_output_shape=(2, SEQUENCE_LENGTH, 8),
            expected_num_non_trainable_variables=1,  # the seed generator's state
            # Nothing to train: Keras' `fit` refuses a model with no weights.
            run_training_check=False,
        )


IMAGE_VARIANTS = {"plain": {}, "regularized": REGULARIZED}


class GMLPBackboneHarnessTest(HarnessTestCase):
    @parameterized.named_parameters(*IMAGE_VARIANTS.items())
    def test_backbone_basics(self, variant):
        self.run_vision_backbone_test(
            cls=GMLPBackbone,
            init_kwargs=image_backbone_kwargs(**variant),
            input_data=images(16),
            expected_output_shape=(2, 4, 8),
            # gMLP reads channels-last images only: its patch grid and image
            # converter fix the layout, and it has no `data_format` argument.
            run_data_format_check=False,
        )

    @parameterized.named_parameters(*IMAGE_VARIANTS.items())
    def test_saved_model(self, variant):
        self.run_model_saving_test(
            cls=GMLPBackbone,
            init_kwargs=image_backbone_kwargs(**variant),
            input_data=images(16),
        )


class GMLPTextBackboneHarnessTest(HarnessTestCase):
    @parameterized.named_parameters(*TEXT_VARIANTS.items())
    def test_backbone_basics(self, variant):
        self.run_backbone_test(
            cls=GMLPTextBackbone,
            init_kwargs=text_backbone_kwargs(**variant),
            input_data=PACKED,
            expected_output_shape=(2, SEQUENCE_LENGTH, 8),
        )

    @parameterized.named_parameters(*TEXT_VARIANTS.items())
    def test_saved_model(self, variant):
        self.run_model_saving_test(
            cls=GMLPTextBackbone,
            init_kwargs=text_backbone_kwargs(**variant),
            input_data=PACKED,
        )


def image_classifier():
    return GMLPImageClassifier, {
        "backbone": GMLPBackbone(**image_backbone_kwargs()),
        "preprocessor": image_preprocessor(),
        "num_classes": 2,
    }


def text_classifier():
    return GMLPTextClassifier, {
        "backbone": GMLPTextBackbone(**text_backbone_kwargs(attention_dim=4)),
        "preprocessor": GMLPTextClassifierPreprocessor(
            tokenizer(), sequence_length=SEQUENCE_LENGTH
        ),
        "num_classes": 2,
    }


def masked_lm_preprocessor_kwargs():
    # Every token becomes [MASK], so that the harness's runs mask alike.
    return {
        "tokenizer": tokenizer(),
        "sequence_length": SEQUENCE_LENGTH,
        "mask_selection_rate": 1.0,
        "mask_token_rate": 1.0,
        "random_token_rate": 0.0,
        "mask_selection_length": MASK_SELECTION_LENGTH,
    }


def masked_lm():
    return GMLPMaskedLM, {
        "backbone": GMLPTextBackbone(**text_backbone_kwargs(attention_dim=4)),
        "preprocessor": GMLPMaskedLMPreprocessor(**masked_lm_preprocessor_kwargs()),
    }


def causal_lm():
    backbone_kwargs = text_backbone_kwargs(causal=True, spatial_weights="toeplitz")
    return GMLPCausalLM, {
        "backbone": GMLPTextBackbone(**backbone_kwargs),
        "preprocessor": GMLPCausalLMPreprocessor(
            tokenizer(), sequence_length=SEQUENCE_LENGTH
        ),
    }


# Each task: `(class and constructor arguments, raw training data, the shape
# of its predictions)`.
TASKS = {
    "image_classifier": (image_classifier, (images(), np.array([0, 1])), (2, 2)),
    "text_classifier": (text_classifier, (TEXTS, np.array([0, 1])), (2, 2)),
    "masked_lm": (masked_lm, (TEXTS,), (2, MASK_SELECTION_LENGTH, len(VOCABULARY))),
    "causal_lm": (causal_lm, (TEXTS,), (2, SEQUENCE_LENGTH, len(VOCABULARY))),
}


class TaskHarnessTest(HarnessTestCase):
    """Each task with its preprocessor: `run_task_test` predicts and fits on
    raw data, and checks that an uncompiled task's `fit` raises Keras' own
    error."""

    @parameterized.named_parameters(*TASKS.items())
    def test_task_basics(self, task):
        make_task, train_data, output_shape = task
        cls, init_kwargs = make_task()
        self.run_task_test(
            cls=cls,
            init_kwargs=init_kwargs,
            train_data=train_data,
            expected_output_shape=output_shape,
        )

    @parameterized.named_parameters(*TASKS.items())
    def test_saved_model(self, task):
        make_task, train_data, _ = task
        cls, init_kwargs = make_task()
        self.run_model_saving_test(
            cls=cls,
            init_kwargs=init_kwargs,
            input_data=init_kwargs["preprocessor"](*train_data)[0],
        )


class PreprocessingHarnessTest(HarnessTestCase):
    """Tokenizers, image converters and preprocessors: a direct call, `tf.data`
    (batched and not) and Grain give the same outputs."""

    def test_tokenizer(self):
        self.run_preprocessing_layer_test(
            cls=GMLPTokenizer,
            init_kwargs={"vocabulary": VOCABULARY},
            input_data=TEXTS,
            expected_output=[[5, 6, 7, 8, 13], [5, 11, 12, 13]],
            expected_detokenize_output=["the quick brown fox .", "the lazy dog ."],
        )

    def test_byte_tokenizer(self):
        self.run_preprocessing_layer_test(
            cls=GMLPByteTokenizer,
            init_kwargs={},
            input_data=["hé", "fox"],
            # Each UTF-8 byte plus 5, the ids of the special tokens.
            expected_output=[
                [104 + 5, 0xC3 + 5, 0xA9 + 5],
                [102 + 5, 111 + 5, 120 + 5],
            ],
        )

    @parameterized.named_parameters(("resize", 1.0), ("resize_and_crop", 0.875))
    def test_image_converter(self, crop_pct):
        self.run_preprocessing_layer_test(
            cls=GMLPImageConverter,
            init_kwargs={
                "image_size": (16, 16),
                "scale": 1 / 255,
                "crop_pct": crop_pct,
            },
            input_data=images(),
        )

    def test_image_classifier_preprocessor(self):
        converter = GMLPImageConverter(image_size=(16, 16), scale=1 / 255)
        self.run_preprocessing_layer_test(
            cls=GMLPImageClassifierPreprocessor,
            init_kwargs={"image_converter": converter},
            input_data=(images(), np.array([0, 1])),
        )

    def test_text_classifier_preprocessor(self):
        self.run_preprocessor_test(
            cls=GMLPTextClassifierPreprocessor,
            init_kwargs={"tokenizer": tokenizer(), "sequence_length": SEQUENCE_LENGTH},
            input_data=(TEXTS, [1, 0], [1.0, 0.5]),
            expected_output=(PACKED, [1, 0], [1.0, 0.5]),
        )

    def test_masked_lm_preprocessor(self):
        self.run_preprocessor_test(
            cls=GMLPMaskedLMPreprocessor,
            init_kwargs=masked_lm_preprocessor_kwargs(),
            input_data=TEXTS,
            expected_output=(
                {
                    "token_ids": [[2, 4, 4, 4, 4, 4, 3, 0], [2, 4, 4, 4, 4, 3, 0, 0]],
                    "padding_mask": PACKED["padding_mask"],
                    "mask_positions": [[1, 2, 3, 4, 5], [1, 2, 3, 4, 0]],
                },
                [[5, 6, 7, 8, 13], [5, 11, 12, 13, 0]],
                [[1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 0.0]],
            ),
        )

    def test_causal_lm_preprocessor(self):
        self.run_preprocessor_test(
            cls=GMLPCausalLMPreprocessor,
            init_kwargs={"tokenizer": tokenizer(), "sequence_length": SEQUENCE_LENGTH},
            input_data=TEXTS,
            # The packed tokens, and as labels the same tokens one step on.
            expected_output=(
                PACKED,
                [[5, 6, 7, 8, 13, 3, 0, 0], [5, 11, 12, 13, 3, 0, 0, 0]],
                [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
            ),
        )


IMAGE_PRESET = "gmlp_tiny_image_test"
TEXT_PRESET = "amlp_tiny_text_test"
MASKED_LM_PRESET = "amlp_tiny_masked_lm_test"
CAUSAL_LM_PRESET = "gmlp_tiny_causal_lm_test"
# The presets' sizes: 32x32 images in 8x8 patches, 32 tokens, 16 channels.
PRESET_LENGTH, PRESET_VOCABULARY_SIZE = 32, 1006


def preset_token_ids(words):
    """The ids of `words` in the presets' vocabulary file, read directly."""
    path = PRESET_FILES / TEXT_PRESET / "assets" / "tokenizer" / "vocabulary.txt"
    vocabulary = path.read_text().splitlines()
    return [vocabulary.index(word) for word in words]


def packed_shapes(*keys, length=PRESET_LENGTH):
    return {key: (2, length) for key in keys}


# Every preset that ships weights, loaded by each class that reads it: `(class,
# preset, input data, constructor arguments, expected output shape)`.
PRESET_CASES = {
    "image_backbone": (GMLPBackbone, IMAGE_PRESET, images(32), {}, (2, 16, 16)),
    "image_converter": (GMLPImageConverter, IMAGE_PRESET, images(), {}, (2, 32, 32, 3)),
    "image_classifier_preprocessor": (
        GMLPImageClassifierPreprocessor,
        IMAGE_PRESET,
        images(),
        {},
        (2, 32, 32, 3),
    ),
    "image_classifier": (
        GMLPImageClassifier,
        IMAGE_PRESET,
        images(32),
        {"num_classes": 2},
        (2, 2),
    ),
    "classifier_of_image_preset": (
        keras_gmlp.GMLPClassifier,
        IMAGE_PRESET,
        images(32),
        {"num_classes": 2},
        (2, 2),
    ),
    "text_classifier_preprocessor": (
        GMLPTextClassifierPreprocessor,
        TEXT_PRESET,
        TEXTS,
        {},
        packed_shapes("token_ids", "padding_mask"),
    ),
    "text_classifier": (
        GMLPTextClassifier,
        TEXT_PRESET,
        PACKED,
        {"num_classes": 2},
        (2, 2),
    ),
    "classifier_of_text_preset": (
        keras_gmlp.GMLPClassifier,
        TEXT_PRESET,
        PACKED,
        {"num_classes": 2},
        (2, 2),
    ),
    "masked_lm_preprocessor": (
        GMLPMaskedLMPreprocessor,
        MASKED_LM_PRESET,
        TEXTS,
        {"mask_selection_length": 3},
        (
            packed_shapes("token_ids", "padding_mask")
            | packed_shapes("mask_positions", length=3),
            (2, 3),
            (2, 3),
        ),
    ),
    "masked_lm": (
        GMLPMaskedLM,
        MASKED_LM_PRESET,
        {**PACKED, "mask_positions": np.array([[1, 2], [3, 4]])},
        {},
        (2, 2, PRESET_VOCABULARY_SIZE),
    ),
    "causal_lm_preprocessor": (
        GMLPCausalLMPreprocessor,
        CAUSAL_LM_PRESET,
        TEXTS,
        {},
        (packed_shapes("token_ids", "padding_mask"), (2, 32), (2, 32)),
    ),
    "causal_lm": (
        GMLPCausalLM,
        CAUSAL_LM_PRESET,
        PACKED,
        {},
        (2, SEQUENCE_LENGTH, PRESET_VOCABULARY_SIZE),
    ),
}
for preset in (TEXT_PRESET, MASKED_LM_PRESET, CAUSAL_LM_PRESET):
    PRESET_CASES[f"text_backbone_of_{preset}"] = (
        GMLPTextBackbone,
        preset,
        PACKED,
        {},
        (2, SEQUENCE_LENGTH, 16),
    )


class PresetHarnessTest(HarnessTestCase):
    """`run_preset_test` on every preset that ships weights: an unknown name
    raises, and the preset loads, with and without its weights, and runs."""

    def test_every_preset_with_weights_is_run(self):
        with_weights = {p.parent.name for p in PRESET_FILES.glob("*/model.weights.h5")}
        run = {preset for _, preset, *_ in PRESET_CASES.values()}
        self.assertEqual(run, with_weights)

    @parameterized.named_parameters(*PRESET_CASES.items())
    def test_preset(self, case):
        cls, preset, input_data, init_kwargs, output_shape = case
        self.run_preset_test(
            cls=cls,
            preset=preset,
            input_data=input_data,
            init_kwargs=init_kwargs,
            expected_output_shape=output_shape,
        )

    @parameterized.named_parameters(
        ("text", TEXT_PRESET),
        ("masked_lm", MASKED_LM_PRESET),
        ("causal_lm", CAUSAL_LM_PRESET),
    )
    def test_tokenizer_preset(self, preset):
        words = ["the", "value", "of", "a", "file"]
        self.run_preset_test(
            cls=GMLPTokenizer,
            preset=preset,
            input_data=" ".join(words),
            expected_output=preset_token_ids(words),
        )
