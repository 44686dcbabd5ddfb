"""Presets load at another image size or sequence length, weights resized."""

import pathlib

import keras
import numpy as np
import pytest

from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models.input_size import linear_interpolation
from keras_gmlp.models.input_size import resize_over_patch_grid
from keras_gmlp.models.input_size import with_input_size
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

TIMM_CHECKPOINT = pathlib.Path(__file__).parents[1] / "data" / "timm_gmlp_tiny"
IMAGE_PRESET = "gmlp_tiny_image_test"  # 32x32 images, 8x8 patches: a 4x4 grid


def weights_by_path(model, spatial):
    return {
        variable.path: to_numpy(variable)
        for variable in model.weights
        if ("spatial_" in variable.path) == spatial
    }


@pytest.mark.parametrize(
    "load, kwargs",
    [(GMLPBackbone.from_preset, {}), (GMLPClassifier.from_preset, {"num_classes": 2})],
)
def test_the_same_size_is_the_model_as_loaded(load, kwargs):
    model = load(IMAGE_PRESET, image_shape=(32, 32, 3), **kwargs)
    assert model is with_input_size(model, image_shape=(32, 32, 3))
    native = load(IMAGE_PRESET, **kwargs)
    images = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)) * 255
    backbone = getattr(model, "backbone", model)
    np.testing.assert_array_equal(
        to_numpy(backbone(images)),
        to_numpy(getattr(native, "backbone", native)(images)),
    )


def test_a_resized_backbone_keeps_every_weight_but_the_spatial_ones():
    native = GMLPBackbone.from_preset(IMAGE_PRESET)
    resized = GMLPBackbone.from_preset(IMAGE_PRESET, image_shape=(48, 64, 3))
    assert resized.image_shape == (48, 64, 3)
    assert resized(np.ones((2, 48, 64, 3))).shape == (2, 6 * 8, native.hidden_dim)
    kept, native_kept = weights_by_path(resized, False), weights_by_path(native, False)
    assert kept.keys() == native_kept.keys()
    for path, value in native_kept.items():
        np.testing.assert_array_equal(kept[path], value)
    unit = resized.get_layer("block_0").spatial_gating_unit
    assert unit.spatial_kernel.shape == (1, 48, 48)
    assert unit.spatial_bias.shape == (1, 48)


@pytest.mark.parametrize(
    "load", [GMLPImageClassifier.from_preset, GMLPClassifier.from_preset]
)
def test_a_resized_classifier_converts_images_to_its_new_size(load):
    classifier = load(IMAGE_PRESET, num_classes=3, image_shape=(64, 64, 3))
    assert classifier.backbone.image_shape == (64, 64, 3)
    assert classifier.preprocessor.image_converter.image_size == (64, 64)
    images = np.zeros((2, 100, 80, 3), "uint8")
    assert classifier.predict(images, verbose=0).shape == (2, 3)
    classifier.fit(images, np.array([0, 2]), epochs=1, verbose=0)


def test_timm_checkpoints_load_at_another_size():
    native = GMLPImageClassifier.from_preset(str(TIMM_CHECKPOINT))
    height, width, channels = native.backbone.image_shape
    patch_size = native.backbone.patch_size
    new_shape = (height + 2 * patch_size, width + 2 * patch_size, channels)
    classifier = GMLPImageClassifier.from_preset(
        str(TIMM_CHECKPOINT), image_shape=new_shape
    )
    assert classifier.preprocessor.image_converter.image_size == new_shape[:2]
    np.testing.assert_array_equal(
        to_numpy(classifier.output_dense.kernel), to_numpy(native.output_dense.kernel)
    )
    assert classifier.predict(np.zeros((1, *new_shape), "uint8"), verbose=0).shape == (
        1,
        native.num_classes,
    )


def units_on_grids(grid, new_grid, heads=1, channels=8):
    """A built gating unit on `grid` tokens and an unbuilt-weights one on
    `new_grid`, as the blocks of two backbones hold them."""
    source = SpatialGatingUnit(heads=heads)
    source.build((None, grid[0] * grid[1], channels))
    target = SpatialGatingUnit(heads=heads)
    target.build((None, new_grid[0] * new_grid[1], channels))
    return source, target


def resize_grid(source, target, grid, new_grid, patch_size=4):
    resize_over_patch_grid(
        source,
        target,
        {
            "patch_size": patch_size,
            "image_shape": (grid[0] * patch_size, grid[1] * patch_size, 3),
        },
        {"image_shape": (new_grid[0] * patch_size, new_grid[1] * patch_size, 3)},
    )


@pytest.mark.parametrize("new_grid", [(6, 6), (2, 3), (4, 4)])
def test_a_constant_spatial_matrix_keeps_its_row_sums_exactly(new_grid):
    source, target = units_on_grids((4, 4), new_grid)
    source.spatial_kernel.assign(np.full((1, 16, 16), 0.25))
    source.spatial_bias.assign(np.full((1, 16), 0.5))
    resize_grid(source, target, (4, 4), new_grid)
    tokens = new_grid[0] * new_grid[1]
    # The sum over tokens of a constant input is what it was: 16 * 0.25.
    np.testing.assert_allclose(
        to_numpy(target.spatial_kernel).sum(-1), np.full((1, tokens), 4.0), rtol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(target.spatial_bias), np.full((1, tokens), 0.5), rtol=1e-6
    )


def test_a_smooth_input_gets_the_gate_it_got_before():
    # `W` and `v` vary smoothly over the grid, as a learned local `W` does:
    # the new gate, read back on the old grid, is the old one up to the blur
    # of interpolating twice (a wrong scale would be off by 4x).
    source, target = units_on_grids((8, 8), (16, 16))
    rows, columns = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    position = np.stack([rows.ravel(), columns.ravel()], axis=1) / 8
    distance = np.linalg.norm(position[:, None] - position[None], axis=-1)
    source.spatial_kernel.assign(np.exp(-4 * distance)[None] / 64)
    resize_grid(source, target, (8, 8), (16, 16))

    def smooth(grid):
        centres = (np.arange(grid) + 0.5) / grid
        return np.outer(np.sin(3 * centres), np.cos(2 * centres)).ravel()

    old_gate = to_numpy(source.spatial_kernel)[0] @ smooth(8)
    new_gate = to_numpy(target.spatial_kernel)[0] @ smooth(16)
    back_on_old_grid = new_gate.reshape(8, 2, 8, 2).mean(axis=(1, 3)).ravel()
    np.testing.assert_allclose(
        back_on_old_grid, old_gate, atol=0.1 * np.abs(old_gate).max()
    )


def test_each_head_is_resized_on_its_own():
    source, target = units_on_grids((4, 4), (6, 6), heads=2)
    randomize_weights(source)
    resize_grid(source, target, (4, 4), (6, 6))
    for head in range(2):
        one_head, one_target = units_on_grids((4, 4), (6, 6))
        one_head.spatial_kernel.assign(to_numpy(source.spatial_kernel)[head : head + 1])
        one_head.spatial_bias.assign(to_numpy(source.spatial_bias)[head : head + 1])
        resize_grid(one_head, one_target, (4, 4), (6, 6))
        np.testing.assert_allclose(
            to_numpy(target.spatial_kernel)[head],
            to_numpy(one_target.spatial_kernel)[0],
            rtol=1e-6,
        )


@pytest.mark.parametrize("size, new_size", [(5, 5), (4, 6), (6, 4), (3, 7)])
def test_the_interpolation_rows_sum_to_one_and_the_same_size_is_the_identity(
    size, new_size
):
    matrix = linear_interpolation(size, new_size)
    assert matrix.shape == (new_size, size)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    if size == new_size:
        np.testing.assert_array_equal(matrix, np.eye(size))


def text_inputs(length, batch=2):
    rng = np.random.default_rng(0)
    return {
        "token_ids": rng.integers(1, 20, size=(batch, length)).astype("int32"),
        "padding_mask": np.ones((batch, length), "int32"),
    }


@pytest.mark.parametrize(
    "preset, new_length",
    [
        ("amlp_tiny_text_test", 48),  # dense W
        ("amlp_tiny_text_test", 20),
        ("gmlp_tiny_causal_lm_test", 48),  # toeplitz, causal
        ("gmlp_tiny_causal_lm_test", 20),
    ],
)
def test_text_presets_give_the_same_features_on_the_lengths_both_take(
    preset, new_length
):
    native = GMLPTextBackbone.from_preset(preset)
    resized = GMLPTextBackbone.from_preset(preset, max_sequence_length=new_length)
    assert resized.max_sequence_length == new_length
    shared = min(native.max_sequence_length, new_length)
    np.testing.assert_allclose(
        to_numpy(resized(text_inputs(shared))),
        to_numpy(native(text_inputs(shared))),
        atol=1e-6,
    )
    assert resized(text_inputs(new_length)).shape[1] == new_length


def new_positions_of(preset):
    """The first gating unit of `preset` and of it made 8 tokens longer."""
    native = GMLPTextBackbone.from_preset(preset)
    length = native.max_sequence_length
    resized = GMLPTextBackbone.from_preset(preset, max_sequence_length=length + 8)
    return length, resized.get_layer("block_0").spatial_gating_unit


def test_new_positions_of_a_dense_unit_start_as_a_fresh_unit():
    length, unit = new_positions_of("amlp_tiny_text_test")
    matrix = to_numpy(unit.spatial_matrix())[0]
    assert np.any(matrix[:length, :length])
    assert not np.any(matrix[length:, :]) and not np.any(matrix[:, length:])
    np.testing.assert_array_equal(to_numpy(unit.spatial_bias)[:, length:], 1.0)


def test_a_toeplitz_unit_keeps_its_learned_offsets_and_starts_the_new_ones():
    length, unit = new_positions_of("gmlp_tiny_causal_lm_test")
    offsets = to_numpy(unit.spatial_kernel)[0]  # offsets -(n - 1) ... n - 1
    new_length = length + 8
    learned = offsets[new_length - length : new_length + length - 1]
    assert np.any(learned)
    assert not np.any(offsets[: new_length - length])
    assert not np.any(offsets[new_length + length - 1 :])
    np.testing.assert_array_equal(to_numpy(unit.spatial_bias)[:, length:], 1.0)


def test_a_causal_lm_generates_past_its_preset_length():
    lm = GMLPCausalLM.from_preset("gmlp_tiny_causal_lm_test", max_sequence_length=48)
    assert lm.preprocessor.sequence_length == 48
    keras.utils.set_random_seed(0)
    assert isinstance(lm.generate("the", max_length=40), str)


def test_an_image_size_off_the_patch_grid_names_the_nearest_valid_ones():
    with pytest.raises(ValueError, match=r"heights: \[24, 32\]; widths: \[48, 56\]"):
        GMLPBackbone.from_preset(IMAGE_PRESET, image_shape=(30, 50, 3))


@pytest.mark.parametrize(
    "load, size, message",
    [
        (GMLPBackbone.from_preset, {"image_shape": (32, 32, 1)}, "3 channels"),
        (
            GMLPBackbone.from_preset,
            {"max_sequence_length": 8},
            "no `max_sequence_length`",
        ),
        (GMLPTextBackbone.from_preset, {"image_shape": (8, 8, 3)}, "no `image_shape`"),
        (GMLPTextBackbone.from_preset, {"max_sequence_length": 0}, "positive int"),
    ],
)
def test_sizes_a_preset_cannot_take_are_refused(load, size, message):
    preset = IMAGE_PRESET if load == GMLPBackbone.from_preset else "amlp_tiny_text_test"
    with pytest.raises(ValueError, match=message):
        load(preset, **size)
