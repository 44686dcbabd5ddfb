import json
import pathlib
import shutil

import keras
import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from safetensors.numpy import save_file

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPImageConverter
from keras_gmlp.models.timm_gmlp_loader import timm_backbone_kwargs
from tests.helpers import run_the_plain_path
from tests.helpers import to_numpy

CHECKPOINT = pathlib.Path(__file__).parents[1] / "data" / "timm_gmlp_tiny"
REFERENCE = np.load(CHECKPOINT / "reference.npz")
# timm's own model input, already normalised, moved to channels last.
INPUTS = REFERENCE["inputs_nchw"].transpose(0, 2, 3, 1)


def checkpoint_copy(tmp_path, state_dict=None, config=None, weights="safetensors"):
    """The fixture checkpoint in `tmp_path`, with its parts replaced."""
    directory = tmp_path / "checkpoint"
    directory.mkdir()
    state_dict = state_dict or load_file(CHECKPOINT / "model.safetensors")
    config = config or json.loads((CHECKPOINT / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps(config))
    if weights == "safetensors":
        save_file(state_dict, directory / "model.safetensors")
    else:
        tensors = {name: torch.from_numpy(value) for name, value in state_dict.items()}
        torch.save(tensors, directory / "pytorch_model.bin")
    return str(directory)


@pytest.mark.parametrize("plain", [False, True], ids=["cpu_kernels", "plain"])
def test_features_and_logits_match_timm(plain, monkeypatch):
    if plain:
        run_the_plain_path(monkeypatch)
    classifier = GMLPClassifier.from_preset(str(CHECKPOINT))
    assert isinstance(classifier, GMLPImageClassifier)
    features = to_numpy(classifier.backbone(INPUTS))
    np.testing.assert_allclose(features, REFERENCE["features"], atol=1e-4, rtol=0)
    logits = to_numpy(classifier(INPUTS))
    np.testing.assert_allclose(logits, REFERENCE["logits"], atol=1e-4, rtol=0)


def test_backbone_loads_alone():
    backbone = GMLPBackbone.from_preset(str(CHECKPOINT))
    np.testing.assert_allclose(
        to_numpy(backbone(INPUTS)), REFERENCE["features"], atol=1e-4, rtol=0
    )


def test_model_args_override_the_architecture():
    classifier = GMLPClassifier.from_preset(str(CHECKPOINT))
    backbone = classifier.backbone
    assert (backbone.num_layers, backbone.hidden_dim) == (2, 32)
    assert (backbone.intermediate_dim, backbone.patch_size) == (192, 8)
    assert backbone.image_shape == (32, 32, 3)
    assert classifier.num_classes == 10


def test_architecture_name_alone_gives_the_paper_size():
    assert timm_backbone_kwargs({"architecture": "gmlp_s16_224"}) == {
        "num_layers": 30,
        "hidden_dim": 256,
        "intermediate_dim": 1536,
        "image_shape": (224, 224, 3),
        "patch_size": 16,
    }


def test_preprocessing_comes_from_pretrained_cfg():
    converter = GMLPImageConverter.from_preset(str(CHECKPOINT))
    assert converter.image_size == (32, 32)
    assert converter.crop_pct == 0.875
    assert converter.interpolation == "bicubic"
    np.testing.assert_allclose(converter.scale, [1 / (255 * 0.5)] * 3)
    np.testing.assert_allclose(converter.offset, [-1.0] * 3)
    # timm resizes to floor(32 / 0.875) = 36, then crops the central 32.
    assert converter.resizing.height == 36
    assert to_numpy(converter(np.zeros((1, 50, 40, 3), "uint8"))).shape == (
        1,
        32,
        32,
        3,
    )
    white = to_numpy(converter(np.full((1, 50, 40, 3), 255, "uint8")))
    np.testing.assert_allclose(white, 1.0, atol=1e-5)


def test_pytorch_model_bin_loads_the_same(tmp_path):
    directory = checkpoint_copy(tmp_path, weights="bin")
    logits = to_numpy(GMLPClassifier.from_preset(directory)(INPUTS))
    np.testing.assert_allclose(logits, REFERENCE["logits"], atol=1e-4, rtol=0)


def test_a_bfloat16_pytorch_model_bin_loads_as_float32(tmp_path):
    directory = checkpoint_copy(tmp_path, weights="bin")
    bin_path = pathlib.Path(directory) / "pytorch_model.bin"
    tensors = torch.load(bin_path, weights_only=True)
    torch.save({name: t.to(torch.bfloat16) for name, t in tensors.items()}, bin_path)
    backbone = GMLPClassifier.from_preset(directory).backbone
    kernel = backbone.get_layer("block_0").spatial_gating_unit.spatial_kernel
    expected = tensors["blocks.0.mlp_channels.gate.proj.weight"].to(torch.bfloat16)
    np.testing.assert_array_equal(to_numpy(kernel)[0], expected.float().numpy())


class RunsCodeWhenUnpickled:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_a_pytorch_model_bin_holding_code_is_refused_without_running_it(tmp_path):
    directory = checkpoint_copy(tmp_path, weights="bin")
    marker = tmp_path / "code_ran"
    torch.save(
        {"payload": RunsCodeWhenUnpickled(marker)},
        pathlib.Path(directory) / "pytorch_model.bin",
    )
    with pytest.raises(ValueError, match="holds more than tensors") as refusal:
        GMLPClassifier.from_preset(directory)
    assert "weights_only" not in str(refusal.value)
    assert not marker.exists()


def test_new_num_classes_gets_a_new_head_on_timm_features():
    classifier = GMLPClassifier.from_preset(str(CHECKPOINT), num_classes=4)
    assert classifier.output_dense.units == 4
    np.testing.assert_allclose(
        to_numpy(classifier.backbone(INPUTS)), REFERENCE["features"], atol=1e-4
    )


def test_saves_as_a_native_preset(tmp_path):
    classifier = GMLPClassifier.from_preset(str(CHECKPOINT))
    classifier.save_to_preset(str(tmp_path / "native"))
    assert "registered_name" in json.loads(
        (tmp_path / "native/config.json").read_text()
    )
    restored = GMLPClassifier.from_preset(str(tmp_path / "native"))
    np.testing.assert_allclose(
        to_numpy(restored(INPUTS)), REFERENCE["logits"], atol=1e-4, rtol=0
    )
    assert restored.preprocessor.image_converter.crop_pct == 0.875


def test_unknown_architecture_names_the_supported_ones(tmp_path):
    config = json.loads((CHECKPOINT / "config.json").read_text())
    config["architecture"] = "resmlp_12_224"
    directory = checkpoint_copy(tmp_path, config=config)
    with pytest.raises(ValueError, match="resmlp_12_224.*gmlp_b16_224"):
        GMLPClassifier.from_preset(directory)


def test_missing_tensor_is_named(tmp_path):
    state_dict = load_file(CHECKPOINT / "model.safetensors")
    del state_dict["blocks.1.mlp_channels.gate.proj.bias"]
    with pytest.raises(ValueError, match="'blocks.1.mlp_channels.gate.proj.bias'"):
        GMLPClassifier.from_preset(checkpoint_copy(tmp_path, state_dict))


def test_unexpected_tensor_is_named(tmp_path):
    state_dict = load_file(CHECKPOINT / "model.safetensors")
    state_dict["blocks.2.norm.weight"] = state_dict["blocks.1.norm.weight"]
    with pytest.raises(ValueError, match="'blocks.2.norm.weight' is unexpected"):
        GMLPClassifier.from_preset(checkpoint_copy(tmp_path, state_dict))


def test_wrong_shape_is_named_and_nothing_is_loaded(tmp_path, monkeypatch):
    state_dict = load_file(CHECKPOINT / "model.safetensors")
    state_dict["blocks.1.mlp_channels.fc2.weight"] = np.zeros((32, 95), "float32")
    assigned = []
    monkeypatch.setattr(
        keras.Variable, "assign", lambda self, value: assigned.append(self.path)
    )
    with pytest.raises(ValueError, match="'blocks.1.mlp_channels.fc2.weight'"):
        GMLPClassifier.from_preset(checkpoint_copy(tmp_path, state_dict))
    assert assigned == []


def test_checkpoint_without_weights_file_raises(tmp_path):
    directory = tmp_path / "checkpoint"
    shutil.copytree(CHECKPOINT, directory)
    (directory / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="neither model.safetensors nor"):
        GMLPClassifier.from_preset(str(directory))
