"""A preset is refused before anything of it is built when its files leave
it, its config files are no JSON objects (the error names the file), it
names foreign classes, or its weights do not match its config (the error
names both). tests/test_hostile_presets.py tries many more such presets."""

import json
import shutil

import pytest

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTokenizer
from keras_gmlp.models.gmlp_presets import PRESET_FILES


@pytest.fixture
def image_preset(tmp_path):
    return shutil.copytree(PRESET_FILES / "gmlp_tiny_image_test", tmp_path / "image")


@pytest.fixture
def text_preset(tmp_path):
    return shutil.copytree(PRESET_FILES / "amlp_tiny_text_test", tmp_path / "text")


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'{"config": ', "is not a UTF-8 JSON file: Expecting value"),
        ('{"a": "\xe9"}'.encode("latin-1"), "is not a UTF-8 JSON file: 'utf-8' codec"),
        (b"[1, 2]", "holds a JSON array, expected an object"),
        (b"null", "holds a JSON null, expected an object"),
    ],
)
@pytest.mark.parametrize("filename", ["config.json", "image_converter.json"])
def test_a_config_file_that_is_no_json_object_is_refused_naming_it(
    image_preset, filename, content, problem
):
    (image_preset / filename).write_bytes(content)
    with pytest.raises(ValueError, match=f"{image_preset / filename} {problem}"):
        GMLPBackbone.from_preset(str(image_preset))


def test_a_vocabulary_symlinked_out_of_the_preset_is_refused(text_preset, tmp_path):
    vocabulary = text_preset / "assets" / "tokenizer" / "vocabulary.txt"
    outside = tmp_path / "vocabulary.txt"
    shutil.move(vocabulary, outside)
    vocabulary.symlink_to(outside)
    with pytest.raises(
        ValueError, match=f"resolves to '{outside}', outside the preset"
    ):
        GMLPTokenizer.from_preset(str(text_preset))


@pytest.mark.parametrize("config_file", ["/etc/tokenizer.json", "../tokenizer.json"])
def test_a_tokenizer_config_file_outside_the_preset_is_refused(
    text_preset, config_file
):
    for filename in ("tokenizer.json", "preprocessor.json"):
        config = json.loads((text_preset / filename).read_text())
        tokenizer = config["config"].get("tokenizer", config)
        tokenizer["config"]["config_file"] = config_file
        (text_preset / filename).write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"'{config_file}' as its `config_file`"):
        GMLPTokenizer.from_preset(str(text_preset))


def test_a_foreign_class_is_refused_before_it_is_imported(text_preset):
    config = json.loads((text_preset / "tokenizer.json").read_text())
    config.update(module="subprocess", class_name="Popen", registered_name=None)
    (text_preset / "tokenizer.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="'Popen' of module 'subprocess'"):
        GMLPTextClassifier.from_preset(str(text_preset), num_classes=2)


def test_weights_of_other_sizes_than_the_config_are_refused_naming_both(image_preset):
    config = json.loads((image_preset / "config.json").read_text())
    config["config"]["num_layers"] = 10**9
    (image_preset / "config.json").write_text(json.dumps(config))
    weights = image_preset / "model.weights.h5"
    with pytest.raises(
        ValueError, match=f"'{weights}' holds 2 blocks, but config.json says num_layers"
    ):
        GMLPBackbone.from_preset(str(image_preset))
