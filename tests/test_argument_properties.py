"""Property-based tests (hypothesis) over the constructor arguments and input
shapes of the layers and backbones: valid combinations build and run and
give outputs of the documented shape; invalid ones raise a ValueError or a
TypeError, never anything else.

Each example is a valid combination of small sizes, half the time with one
argument or input size replaced by an invalid value (out of range, or of
another type). Whether an example is valid is decided by the rules each test
states, not by the draw: a replacement may happen to be valid too.
"""

import math

import numpy as np
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_gmlp.layers import GMLPBlock
from keras_gmlp.layers import PatchEmbedding
from keras_gmlp.layers import SpatialGatingUnit
from keras_gmlp.layers import TinyAttention
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPTextBackbone

# Few, small examples: every one builds and runs a layer or a model.
PROPERTIES = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WRONG_TYPES = st.sampled_from([2.5, "4", True, [2]])
BAD_SIZES = st.one_of(st.integers(-2, 0), WRONG_TYPES)
BAD_OPTIONAL_SIZES = BAD_SIZES
BAD_RATES = st.sampled_from([1.0, -0.1, "0.1", math.nan, None])
BAD_EPSILONS = st.sampled_from([0.0, -1e-5, math.inf, math.nan, "1e-6", None])
BAD_BOOLS = st.sampled_from(["yes", 1, None])
BAD_SPATIAL_WEIGHTS = st.sampled_from(["circulant", None, 0])
RATES = st.sampled_from([0.0, 0.3, 0.9])
EPSILONS = st.sampled_from([1e-6, 1e-3, 1.0])
SPATIAL_WEIGHTS = st.sampled_from(["dense", "toeplitz"])


def maybe_broken(draw, case, invalid):
    """`case`, half the time with one of the values `invalid` names
    replaced by a draw from its strategy of invalid values."""
    key = draw(st.sampled_from([None] * len(invalid) + sorted(invalid)))
    if key is None:
        return case
    return {**case, key: draw(invalid[key])}


def is_size(value):
    """A positive int (not a bool): what every size argument must be."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def is_optional_size(value):
    return value is None or is_size(value)


def is_rate(value):
    return isinstance(value, float) and 0.0 <= value < 1.0


def is_epsilon(value):
    return isinstance(value, float) and 0.0 < value < math.inf


def check_outcome(valid, run, expected_shape=None):
    """Runs `run`: valid arguments must give `expected_shape`, invalid ones
    a ValueError or a TypeError; any other exception fails the test."""
    try:
        outputs = run()
    except (ValueError, TypeError) as error:
        assert not valid, f"valid arguments were refused: {error}"
        return
    assert valid, "invalid arguments were accepted"
    if expected_shape is not None:
        assert tuple(outputs.shape) == tuple(expected_shape)


# === SpatialGatingUnit ===
GATE_INVALID = {
    "sequence_length": BAD_OPTIONAL_SIZES,
    "heads": BAD_SIZES,
    "spatial_weights": BAD_SPATIAL_WEIGHTS,
    "attention_dim": BAD_OPTIONAL_SIZES,
    "causal": BAD_BOOLS,
    "layer_norm_epsilon": BAD_EPSILONS,
    "length": st.sampled_from([0, 7]),
    "channels": st.integers(0, 13),
    "batch": st.just(0),
}


def draw_gate(draw, length):
    heads = draw(st.integers(1, 3))
    return {
        "sequence_length": draw(st.one_of(st.none(), st.integers(length, 6))),
        "heads": heads,
        "spatial_weights": draw(SPATIAL_WEIGHTS),
        "attention_dim": draw(st.one_of(st.none(), st.integers(1, 4))),
        "causal": draw(st.booleans()),
        "layer_norm_epsilon": draw(EPSILONS),
        "channels": 2 * heads * draw(st.integers(1, 2)),
    }


def gate_is_valid(case):
    """The rules of `SpatialGatingUnit` on `(batch, length, channels)`: at
    least one sequence, sizes positive ints (`sequence_length` and
    `attention_dim` may be None), a known kind of spatial weights, a bool
    `causal`, a positive finite epsilon, channels that split into halves and
    heads, and 1 to `sequence_length` tokens."""
    valid = (
        case["batch"] >= 1
        and is_optional_size(case["sequence_length"])
        and is_size(case["heads"])
        and case["spatial_weights"] in ("dense", "toeplitz")
        and is_optional_size(case["attention_dim"])
        and isinstance(case["causal"], bool)
        and is_epsilon(case["layer_norm_epsilon"])
        and is_size(case["channels"])
        and case["channels"] % (2 * case["heads"]) == 0
    )
    return valid and 1 <= case["length"] <= (case["sequence_length"] or case["length"])


@st.composite
def gate_cases(draw):
    length = draw(st.integers(1, 4))
    case = {
        **draw_gate(draw, length),
        "length": length,
        "batch": draw(st.integers(1, 2)),
    }
    return maybe_broken(draw, case, GATE_INVALID)


def gate_arguments(case):
    names = ("sequence_length", "heads", "spatial_weights", "attention_dim", "causal")
    return {name: case[name] for name in names}


@PROPERTIES
@given(case=gate_cases())
def test_spatial_gating_unit(case):
    valid = gate_is_valid(case)
    inputs = np.ones((case["batch"], case["length"], case["channels"]), "float32")
    unit_arguments = {
        **gate_arguments(case),
        "layer_norm_epsilon": case["layer_norm_epsilon"],
    }
    expected = (case["batch"], case["length"], case["channels"] // 2)
    check_outcome(valid, lambda: SpatialGatingUnit(**unit_arguments)(inputs), expected)


# === GMLPBlock ===
BLOCK_INVALID = {
    **{key: GATE_INVALID[key] for key in GATE_INVALID if key != "layer_norm_epsilon"},
    "dropout": BAD_RATES,
    "drop_path_rate": BAD_RATES,
    "hidden_dim": st.just(0),
}


@st.composite
def block_cases(draw):
    length = draw(st.integers(1, 4))
    case = {
        **draw_gate(draw, length),
        "layer_norm_epsilon": 1e-5,  # the block's own goes to its LayerNorm
        "length": length,
        "batch": draw(st.integers(1, 2)),
        "dropout": draw(RATES),
        "drop_path_rate": draw(RATES),
        "hidden_dim": draw(st.integers(1, 4)),
    }
    return maybe_broken(draw, case, BLOCK_INVALID)


@PROPERTIES
@given(case=block_cases())
def test_gmlp_block(case):
    # `channels` is the block's intermediate_dim: the gating unit's input.
    valid = (
        is_size(case["channels"])
        and gate_is_valid(case)
        and is_rate(case["dropout"])
        and is_rate(case["drop_path_rate"])
        and case["hidden_dim"] >= 1
    )
    inputs = np.ones((case["batch"], case["length"], case["hidden_dim"]), "float32")
    block = {
        **gate_arguments(case),
        "dropout": case["dropout"],
        "drop_path_rate": case["drop_path_rate"],
    }
    check_outcome(
        valid,
        lambda: GMLPBlock(case["channels"], **block)(inputs, training=True),
        inputs.shape,
    )


# === TinyAttention ===
@st.composite
def attention_cases(draw):
    case = {
        "attention_dim": draw(st.integers(1, 6)),
        "output_dim": draw(st.integers(1, 6)),
        "causal": draw(st.booleans()),
        "batch": draw(st.integers(0, 2)),
        "length": draw(st.integers(1, 6)),
        "channels": draw(st.integers(1, 6)),
    }
    invalid = {
        "attention_dim": BAD_SIZES,
        "output_dim": BAD_SIZES,
        "causal": BAD_BOOLS,
        "channels": st.just(0),
    }
    return maybe_broken(draw, case, invalid)


@PROPERTIES
@given(case=attention_cases())
def test_tiny_attention(case):
    """Positive int sizes, a bool `causal`, inputs with channels."""
    valid = (
        is_size(case["attention_dim"])
        and is_size(case["output_dim"])
        and isinstance(case["causal"], bool)
        and case["channels"] >= 1
    )
    inputs = np.ones((case["batch"], case["length"], case["channels"]), "float32")
    layer = {key: case[key] for key in ("attention_dim", "output_dim", "causal")}
    expected = (case["batch"], case["length"], case["output_dim"])
    check_outcome(valid, lambda: TinyAttention(**layer)(inputs), expected)


# === PatchEmbedding ===
@st.composite
def patch_cases(draw):
    patch_size = draw(st.integers(1, 4))
    case = {
        "hidden_dim": draw(st.integers(1, 6)),
        "patch_size": patch_size,
        "batch": draw(st.integers(0, 2)),
        "height": patch_size * draw(st.integers(1, 3)),
        "width": patch_size * draw(st.integers(1, 3)),
        "channels": draw(st.integers(1, 3)),
    }
    invalid = {
        "hidden_dim": BAD_SIZES,
        "patch_size": BAD_SIZES,
        "height": st.integers(0, 9),
        "width": st.integers(0, 9),
        "channels": st.just(0),
    }
    return maybe_broken(draw, case, invalid)


@PROPERTIES
@given(case=patch_cases())
def test_patch_embedding(case):
    """Positive int sizes; height and width positive multiples of the
    patch size; images with channels."""
    hidden_dim, patch_size = case["hidden_dim"], case["patch_size"]
    sides = (case["height"], case["width"])
    valid = (
        is_size(hidden_dim)
        and is_size(patch_size)
        and all(side >= 1 and side % patch_size == 0 for side in sides)
        and case["channels"] >= 1
    )
    inputs = np.ones((case["batch"], *sides, case["channels"]), "float32")
    expected = None
    if valid:
        patches = (sides[0] // patch_size) * (sides[1] // patch_size)
        expected = (case["batch"], patches, hidden_dim)
    check_outcome(
        valid, lambda: PatchEmbedding(hidden_dim, patch_size)(inputs), expected
    )


# === GMLPBackbone ===
@st.composite
def image_backbone_cases(draw):
    patch_size = draw(st.integers(1, 4))
    case = {
        "num_layers": draw(st.integers(1, 2)),
        "hidden_dim": draw(st.integers(1, 8)),
        "intermediate_dim": 2 * draw(st.integers(1, 6)),
        "image_shape": [
            patch_size * draw(st.integers(1, 2)),
            patch_size * draw(st.integers(1, 2)),
            draw(st.integers(1, 3)),
        ],
        "patch_size": patch_size,
    }
    invalid = {
        "num_layers": BAD_SIZES,
        "hidden_dim": BAD_SIZES,
        "intermediate_dim": st.one_of(BAD_SIZES, st.sampled_from([3, 7])),
        "image_shape": st.lists(st.integers(-1, 9), min_size=2, max_size=4),
        "patch_size": BAD_SIZES,
    }
    return maybe_broken(draw, case, invalid)


@PROPERTIES
@given(case=image_backbone_cases())
def test_image_backbone(case):
    """Positive int sizes, an even `intermediate_dim`, an `image_shape` of
    three positive ints whose height and width are multiples of the patch
    size. The backbone takes a batch of images of that shape."""
    image_shape, patch_size = case["image_shape"], case["patch_size"]
    valid = (
        is_size(case["num_layers"])
        and is_size(case["hidden_dim"])
        and is_size(case["intermediate_dim"])
        and case["intermediate_dim"] % 2 == 0
        and is_size(patch_size)
        and len(image_shape) == 3
        and all(side >= 1 for side in image_shape)
        and all(side % patch_size == 0 for side in image_shape[:2])
    )

    def build_and_run():
        backbone = GMLPBackbone(**case)
        return backbone(np.ones((1, *image_shape), "float32"))

    expected = None
    if valid:
        patches = (image_shape[0] // patch_size) * (image_shape[1] // patch_size)
        expected = (1, patches, case["hidden_dim"])
    check_outcome(valid, build_and_run, expected)


# === GMLPTextBackbone ===
@st.composite
def text_backbone_cases(draw):
    max_length = draw(st.integers(1, 6))
    gate = draw_gate(draw, max_length)
    case = {
        **gate_arguments(gate),
        "sequence_length": max_length,
        "vocabulary_size": draw(st.integers(1, 9)),
        "num_layers": draw(st.integers(1, 2)),
        "hidden_dim": draw(st.integers(1, 8)),
        "channels": gate["channels"],
    }
    invalid = {
        **{key: GATE_INVALID[key] for key in ("heads", "spatial_weights", "causal")},
        "attention_dim": BAD_OPTIONAL_SIZES,
        "sequence_length": BAD_SIZES,
        "vocabulary_size": BAD_SIZES,
        "num_layers": BAD_SIZES,
        "hidden_dim": BAD_SIZES,
        "channels": st.one_of(BAD_SIZES, st.integers(1, 13)),
    }
    case = maybe_broken(draw, case, invalid)
    length = draw(st.integers(0, 7))
    ids = draw(st.lists(st.integers(-1, 9), min_size=length, max_size=length))
    return case, np.array(ids, "int32").reshape(1, length)


@PROPERTIES
@given(case_and_token_ids=text_backbone_cases())
def test_text_backbone(case_and_token_ids):
    """Builds with positive int sizes and valid gating units over
    `max_sequence_length` tokens; then reads 1 to `max_sequence_length`
    token ids in `[0, vocabulary_size)`."""
    case, token_ids = case_and_token_ids
    sizes = ("vocabulary_size", "num_layers", "hidden_dim", "sequence_length")
    builds = all(is_size(case[name]) for name in sizes) and gate_is_valid(
        {
            **case,
            "length": case["sequence_length"],
            "batch": 1,
            "layer_norm_epsilon": 1e-5,
        }
    )
    arguments = {
        **gate_arguments(case),
        "vocabulary_size": case["vocabulary_size"],
        "num_layers": case["num_layers"],
        "hidden_dim": case["hidden_dim"],
        "intermediate_dim": case["channels"],
        "max_sequence_length": case["sequence_length"],
    }
    del arguments["sequence_length"]
    check_outcome(builds, lambda: GMLPTextBackbone(**arguments))
    if not builds:
        return
    backbone = GMLPTextBackbone(**arguments)
    inputs = {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)}
    length = token_ids.shape[1]
    readable = (
        1 <= length <= case["sequence_length"]
        and token_ids.min(initial=0) >= 0
        and token_ids.max(initial=0) < case["vocabulary_size"]
    )
    expected = (1, length, case["hidden_dim"])
    check_outcome(readable, lambda: backbone(inputs), expected)
