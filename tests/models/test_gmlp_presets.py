import json
import pathlib

import keras
import keras_hub
import keras_nlp
import numpy as np
import pytest

import keras_gmlp
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models.gmlp_presets import PRESET_FILES
from keras_gmlp.models.gmlp_presets import TEXT_ARCHITECTURES
from keras_gmlp.models.gmlp_presets import TEXT_VARIANTS
from keras_gmlp.models.gmlp_presets import text_preset_name
from keras_gmlp.models.preset_files import read_preset_config
from keras_gmlp.models.preset_files import resolve_preset
from tests.helpers import to_numpy

IMAGE_PRESET = "gmlp_tiny_image_test"
TEXT_PRESET = "amlp_tiny_text_test"


def images():
    return np.random.default_rng(0).integers(0, 256, (3, 40, 40, 3)).astype("uint8")


TEXTS = np.array(["the value of a file", "an error", "return a list of strings"])


def test_every_named_preset_is_listed_with_its_facts():
    assert set(keras_gmlp.presets) >= {
        "gmlp_ti16_224",
        "gmlp_s16_224",
        "gmlp_b16_224",
        "gmlp_s16_224_imagenet",
        "gmlp_base_en",
        "amlp_base_en",
        IMAGE_PRESET,
        TEXT_PRESET,
    }
    for preset in keras_gmlp.presets.values():
        assert preset["description"]
        assert preset["parameters"] > 0
        assert preset["modality"] in ("image", "text")
    assert GMLPClassifier.presets == keras_gmlp.presets
    image_names = {n for n, p in keras_gmlp.presets.items() if p["modality"] == "image"}
    assert set(GMLPImageClassifier.presets) == image_names
    assert set(GMLPBackbone.presets) == image_names
    assert set(GMLPTextClassifier.presets) == set(keras_gmlp.presets) - image_names


def test_vision_presets_have_the_paper_sizes():
    # timm's counts with a 1000-class head, less that head.
    parameters = {
        "gmlp_ti16_224": 5_867_328 - (128 * 1000 + 1000),
        "gmlp_s16_224": 19_422_656 - (256 * 1000 + 1000),
        "gmlp_b16_224": 73_075_392 - (512 * 1000 + 1000),
        "gmlp_s16_224_imagenet": 19_422_656 - (256 * 1000 + 1000),
    }
    for name, count in parameters.items():
        assert keras_gmlp.presets[name]["parameters"] == count


def test_imagenet_preset_resolves_to_timm_weights_without_network():
    assert resolve_preset("gmlp_s16_224_imagenet") == "hf://timm/gmlp_s16_224.ra3_in1k"


def test_unreachable_hub_is_not_a_missing_file(monkeypatch):
    import huggingface_hub

    def download(repo_id, filename, revision=None):
        raise huggingface_hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    with pytest.raises(OSError, match="Hub is unreachable"):
        GMLPClassifier.from_preset("gmlp_s16_224_imagenet")


def test_architecture_preset_builds_random_model_without_weights():
    classifier = GMLPClassifier.from_preset(
        "gmlp_ti16_224", num_classes=10, load_weights=False
    )
    assert isinstance(classifier, GMLPImageClassifier)
    assert classifier.backbone.hidden_dim == 128
    assert classifier.predict(images()[:1], verbose=0).shape == (1, 10)


def test_architecture_preset_asked_for_weights_raises():
    with pytest.raises(ValueError, match=f"ships no weights.*{IMAGE_PRESET}"):
        GMLPClassifier.from_preset("gmlp_ti16_224", num_classes=10)


@pytest.mark.parametrize(
    "name, cls",
    [(IMAGE_PRESET, GMLPImageClassifier), (TEXT_PRESET, GMLPTextClassifier)],
)
def test_classifier_from_preset_returns_the_preset_modality(name, cls):
    classifier = GMLPClassifier.from_preset(name, num_classes=4)
    assert type(classifier) is cls
    assert classifier.output_dense.units == 4


def test_missing_num_classes_raises():
    with pytest.raises(ValueError, match="needs `num_classes`"):
        GMLPClassifier.from_preset(IMAGE_PRESET)


def test_unknown_preset_lists_the_names():
    with pytest.raises(ValueError, match="Unknown preset 'gmlp_huge'.*gmlp_s16_224"):
        GMLPClassifier.from_preset("gmlp_huge", num_classes=2)


def test_directory_without_config_raises(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        GMLPClassifier.from_preset(str(tmp_path), num_classes=2)


@pytest.mark.parametrize(
    "cls, preset",
    [
        (GMLPTextClassifier, IMAGE_PRESET),
        (GMLPImageClassifier, TEXT_PRESET),
        (GMLPTextBackbone, IMAGE_PRESET),
    ],
)
def test_preset_of_the_wrong_modality_raises(cls, preset):
    with pytest.raises(ValueError, match=f"{cls.__name__} loads .* presets"):
        cls.from_preset(preset, num_classes=2)


def test_preset_naming_another_class_is_never_deserialised(tmp_path):
    lambda_config = keras.saving.serialize_keras_object(
        keras.layers.Lambda(lambda x: x)
    )
    (tmp_path / "config.json").write_text(json.dumps(lambda_config, default=str))
    with pytest.raises(ValueError, match="does not hold a gMLP backbone"):
        GMLPClassifier.from_preset(str(tmp_path), num_classes=2)


@pytest.mark.parametrize(
    "preset, inputs, hub_cls",
    [
        (IMAGE_PRESET, images(), keras_hub.models.ImageClassifier),
        (TEXT_PRESET, TEXTS, keras_hub.models.TextClassifier),
        (TEXT_PRESET, TEXTS, keras_nlp.models.TextClassifier),
    ],
)
def test_save_to_preset_then_load_gives_identical_outputs(
    preset, inputs, hub_cls, tmp_path
):
    classifier = GMLPClassifier.from_preset(preset, num_classes=3)
    expected = classifier.predict(inputs, verbose=0)
    classifier.save_to_preset(str(tmp_path / "saved"))
    for loader in (GMLPClassifier, type(classifier), hub_cls):
        restored = loader.from_preset(str(tmp_path / "saved"))
        assert type(restored) is type(classifier)
        np.testing.assert_array_equal(restored.predict(inputs, verbose=0), expected)


def test_loading_with_new_num_classes_keeps_backbone_and_makes_new_head(tmp_path):
    classifier = GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3)
    classifier.save_to_preset(str(tmp_path))
    restored = GMLPClassifier.from_preset(str(tmp_path), num_classes=5)
    assert restored.output_dense.units == 5
    for saved, loaded in zip(
        classifier.backbone.weights, restored.backbone.weights, strict=True
    ):
        np.testing.assert_array_equal(to_numpy(saved), to_numpy(loaded))


def test_dtype_on_load(tmp_path):
    classifier = GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3)
    classifier.save_to_preset(str(tmp_path))
    restored = GMLPClassifier.from_preset(str(tmp_path), dtype="bfloat16")
    assert restored.backbone.dtype_policy.name == "bfloat16"
    assert np.all(np.isfinite(restored.predict(images(), verbose=0)))


def test_saving_into_a_non_empty_non_preset_directory_raises(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    classifier = GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3)
    with pytest.raises(ValueError, match="non-empty directory that is not a preset"):
        classifier.save_to_preset(str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_failed_save_leaves_no_preset(tmp_path, monkeypatch):
    classifier = GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(classifier.backbone), "save_weights", fail)
    with pytest.raises(OSError, match="disk full"):
        classifier.save_to_preset(str(tmp_path / "preset"))
    assert list(tmp_path.iterdir()) == []


def test_saving_over_an_existing_preset_replaces_it(tmp_path):
    preset_dir = str(tmp_path / "preset")
    GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3).save_to_preset(preset_dir)
    second = GMLPClassifier.from_preset(IMAGE_PRESET, num_classes=3)
    second.save_to_preset(preset_dir)
    restored = GMLPClassifier.from_preset(preset_dir)
    np.testing.assert_array_equal(
        restored.predict(images(), verbose=0), second.predict(images(), verbose=0)
    )
    assert [p.name for p in tmp_path.iterdir()] == ["preset"]  # no leftovers


def shipped_presets():
    """The named presets without a `handle`: their files are in the package."""
    return {
        name: preset
        for name, preset in keras_gmlp.presets.items()
        if "handle" not in preset
    }


def test_named_presets_ship_inside_the_package():
    for name in shipped_presets():
        assert (PRESET_FILES / name / "config.json").exists(), name


TASKS = {
    "image": ["ImageClassifier"],
    "text": ["CausalLM", "MaskedLM", "TextClassifier"],
}


def test_saved_metadata_names_the_keras_hub_tasks(tmp_path):
    GMLPTextBackbone.from_preset(TEXT_PRESET).save_to_preset(str(tmp_path))
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["tasks"] == TASKS["text"]


def test_shipped_metadata_names_the_keras_hub_tasks():
    for name, preset in shipped_presets().items():
        metadata = json.loads((PRESET_FILES / name / "metadata.json").read_text())
        assert metadata["tasks"] == TASKS[preset["modality"]], name


MASKED_LM_PRESET = "amlp_tiny_masked_lm_test"
CAUSAL_LM_PRESET = "gmlp_tiny_causal_lm_test"


@pytest.mark.parametrize("architecture", TEXT_ARCHITECTURES)
def test_text_presets_come_in_every_variant(architecture):
    attention_dim = {"amlp_base": 64, "amlp_large": 128}.get(architecture)
    for variant, (causal, spatial_weights) in TEXT_VARIANTS.items():
        preset = resolve_preset(text_preset_name(architecture, variant))
        config = read_preset_config(preset)["config"]
        assert (config["causal"], config["spatial_weights"]) == (
            causal,
            spatial_weights,
        )
        assert config["attention_dim"] == attention_dim
        preprocessor = json.loads(
            (pathlib.Path(preset) / "preprocessor.json").read_text()
        )
        expected = (
            "GMLPCausalLMPreprocessor" if causal else "GMLPTextClassifierPreprocessor"
        )
        assert preprocessor["class_name"] == expected


def masked_lm_inputs(lm):
    """Masked inputs, drawn once: the preprocessor masks at random."""
    return {
        key: to_numpy(value).astype("int32")
        for key, value in lm.preprocessor(TEXTS)[0].items()
    }


def test_masked_lm_preset_loads_its_weights_and_round_trips(tmp_path):
    lm = GMLPMaskedLM.from_preset(MASKED_LM_PRESET)
    inputs = masked_lm_inputs(lm)
    expected = to_numpy(lm(inputs))
    untrained = GMLPMaskedLM.from_preset(MASKED_LM_PRESET, load_weights=False)
    assert not np.allclose(to_numpy(untrained(inputs)), expected)
    lm.save_to_preset(str(tmp_path))
    restored = GMLPMaskedLM.from_preset(str(tmp_path))
    np.testing.assert_array_equal(to_numpy(restored(inputs)), expected)


@pytest.mark.parametrize("loader", [GMLPTextClassifier, GMLPClassifier])
def test_classifier_from_the_masked_lm_preset_keeps_its_backbone(loader):
    lm = GMLPMaskedLM.from_preset(MASKED_LM_PRESET)
    classifier = loader.from_preset(MASKED_LM_PRESET, num_classes=2)
    assert type(classifier) is GMLPTextClassifier
    for pretrained, loaded in zip(
        lm.backbone.weights, classifier.backbone.weights, strict=True
    ):
        np.testing.assert_array_equal(to_numpy(pretrained), to_numpy(loaded))
    assert classifier.predict(TEXTS, verbose=0).shape == (3, 2)


def test_causal_lm_preset_loads_its_weights_generates_and_round_trips(tmp_path):
    lm = GMLPCausalLM.from_preset(CAUSAL_LM_PRESET)
    assert (lm.backbone.causal, lm.backbone.spatial_weights) == (True, "toeplitz")
    inputs = lm.preprocessor(TEXTS)[0]
    expected = to_numpy(lm(inputs))
    untrained = GMLPCausalLM.from_preset(CAUSAL_LM_PRESET, load_weights=False)
    assert not np.allclose(to_numpy(untrained(inputs)), expected)
    lm.compile(sampler="greedy")
    generated = lm.generate(["a value", "return"], max_length=12)
    lm.save_to_preset(str(tmp_path))
    restored = GMLPCausalLM.from_preset(str(tmp_path))
    np.testing.assert_array_equal(to_numpy(restored(inputs)), expected)
    restored.compile(sampler="greedy")
    assert restored.generate(["a value", "return"], max_length=12) == generated


def test_causal_lm_from_a_bidirectional_preset_raises():
    with pytest.raises(ValueError, match="needs a causal backbone"):
        GMLPCausalLM.from_preset(MASKED_LM_PRESET)
