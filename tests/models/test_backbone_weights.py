"""What a backbone's arguments imply about its weights, known before any
layer is built: the shapes in its weights file, and the memory they need."""

import time

import pytest

from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models.backbone_weights import check_weights_file
from keras_gmlp.models.backbone_weights import constructor_arguments
from keras_gmlp.models.backbone_weights import stored_shapes

IMAGE = {
    "num_layers": 2,
    "hidden_dim": 8,
    "intermediate_dim": 16,
    "image_shape": (16, 24, 3),
    "patch_size": 8,
}
TEXT = {
    "vocabulary_size": 20,
    "num_layers": 3,
    "hidden_dim": 8,
    "intermediate_dim": 16,
    "max_sequence_length": 6,
}


@pytest.mark.parametrize(
    "cls, config",
    [
        (GMLPBackbone, IMAGE),
        (GMLPBackbone, {**IMAGE, "image_shape": (8, 8, 1)}),
        (GMLPTextBackbone, TEXT),
        (GMLPTextBackbone, {**TEXT, "spatial_weights": "toeplitz", "causal": True}),
        (GMLPTextBackbone, {**TEXT, "heads": 2, "attention_dim": 4}),
    ],
)
def test_weight_shapes_are_those_of_the_built_backbone(cls, config, tmp_path):
    path = str(tmp_path / "model.weights.h5")
    cls(**config).save_weights(path)
    check_weights_file(cls, config, "config", [path], "weights")  # no error
    outer, block = cls.weight_shapes(**constructor_arguments(cls, config, "config"))
    stored = stored_shapes([path], "weights")
    assert len(stored) == len(outer) + len(block) * config["num_layers"]
    for path_in_file, shape in outer.items():
        assert stored[path_in_file] == shape
    for index in range(config["num_layers"]):
        group = "layers/gmlp_block" + (f"_{index}" if index else "")
        for path_in_block, shape in block.items():
            assert stored[f"{group}/{path_in_block}"] == shape


def test_a_weights_file_of_other_sizes_is_refused_naming_both(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    GMLPTextBackbone(**TEXT).save_weights(path)
    with pytest.raises(
        ValueError, match="'w.h5' holds 3 blocks, but config.json says num_layers=4"
    ):
        check_weights_file(
            GMLPTextBackbone, {**TEXT, "num_layers": 4}, "config.json", [path], "'w.h5'"
        )
    with pytest.raises(
        ValueError,
        match=r"embedding/vars/0' has shape \(20, 8\) in 'w.h5', \(21, 8\) by config",
    ):
        check_weights_file(
            GMLPTextBackbone,
            {**TEXT, "vocabulary_size": 21},
            "config.json",
            [path],
            "'w.h5'",
        )
    with pytest.raises(
        ValueError,
        match=r"holds arguments that GMLPTextBackbone does not take: .*depth",
    ):
        check_weights_file(
            GMLPTextBackbone, {**TEXT, "depth": 2}, "config.json", [path], "'w.h5'"
        )


@pytest.mark.parametrize(
    "cls, config, size",
    [
        (GMLPTextBackbone, {**TEXT, "max_sequence_length": 10**6}, "TiB"),
        (GMLPBackbone, {**IMAGE, "image_shape": (4096, 4096, 3)}, "GiB"),
        (GMLPBackbone, {**IMAGE, "num_layers": 10**9}, "TiB"),
        (GMLPTextBackbone, {**TEXT, "vocabulary_size": 10**13}, "TiB"),
    ],
)
def test_a_backbone_larger_than_memory_is_a_memory_error_stating_its_size(
    cls, config, size
):
    start = time.monotonic()
    with pytest.raises(
        MemoryError,
        match=rf"The weights of a {cls.__name__} of .*: [\d.]+ {size}, more than",
    ):
        cls(**config)
    assert time.monotonic() - start < 1.0  # checked before building anything


def test_a_gating_unit_larger_than_memory_is_refused_before_it_allocates():
    with pytest.raises(
        MemoryError, match="SpatialGatingUnit on 1000000 tokens: 3.6 TiB"
    ):
        SpatialGatingUnit(sequence_length=10**6).build((1, 4, 8))


@pytest.mark.parametrize(
    "argument, value",
    [
        ("num_layers", 0),
        ("num_layers", -1),
        ("hidden_dim", 0),
        ("intermediate_dim", 15),
        ("patch_size", 0),
        ("image_shape", (16, 16)),
        ("image_shape", (16, 0, 3)),
        ("dropout", 1.0),
        ("layer_norm_epsilon", 0.0),
    ],
)
def test_an_image_backbone_refuses_arguments_that_cannot_make_one(argument, value):
    with pytest.raises(ValueError, match=argument):
        GMLPBackbone(**{**IMAGE, argument: value})


@pytest.mark.parametrize(
    "argument, value",
    [
        ("vocabulary_size", 0),
        ("num_layers", 0),
        ("max_sequence_length", 0),
        ("heads", 0),
        ("attention_dim", 0),
        ("spatial_weights", "circulant"),
        ("causal", "yes"),
        ("drop_path_rate", -0.1),
    ],
)
def test_a_text_backbone_refuses_arguments_that_cannot_make_one(argument, value):
    with pytest.raises(ValueError, match=argument):
        GMLPTextBackbone(**{**TEXT, argument: value})
