import keras
import pytest

from keras_gmlp import GMLPClassifier
from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models.gmlp_layout_map import gmlp_layout_map

# Device names only: nothing runs on them, so this works on every backend.
MESH = keras.distribution.DeviceMesh(
    (2, 4), ("data", "tensor"), [f"gpu:{index}" for index in range(8)]
)
# The weights the layout map shards, by the end of their path.
SHARDED = {
    "proj_in/kernel": ("data", "tensor"),
    "proj_in/bias": ("tensor",),
    "proj_out/kernel": ("tensor", "data"),
    "tiny_attention/output_dense/kernel": (None, "tensor"),
    "tiny_attention/output_dense/bias": ("tensor",),
    "token_embedding/embeddings": (None, "tensor"),
    "patch_embedding/projection/kernel": (None, None, None, "tensor"),
    "patch_embedding/projection/bias": ("tensor",),
}


def layout_map_for(backbone_cls):
    return backbone_cls.get_layout_map(
        MESH, model_parallel_dim_name="tensor", data_parallel_dim_name="data"
    )


def axes_by_path(model, layout_map):
    """Each weight's layout axes, `None` where it is replicated. Looking a
    path up raises if it matches two keys of the map."""
    layouts = {variable.path: layout_map[variable.path] for variable in model.weights}
    return {path: layout and layout.axes for path, layout in layouts.items()}


@pytest.mark.parametrize(
    "preset, backbone_cls",
    [("gmlp_tiny_image_test", GMLPBackbone), ("amlp_tiny_text_test", GMLPTextBackbone)],
)
def test_every_weight_of_a_classifier_gets_its_layout(preset, backbone_cls):
    classifier = GMLPClassifier.from_preset(preset, num_classes=3)
    axes = axes_by_path(classifier, layout_map_for(backbone_cls))
    for variable in classifier.weights:
        expected = [a for end, a in SHARDED.items() if variable.path.endswith(end)]
        assert axes[variable.path] == (expected[0] if expected else None)
        # The tiny presets split evenly over the mesh (JAX requires it).
        layout = axes[variable.path] or (None,) * len(variable.shape)
        for size, axis in zip(variable.shape, layout, strict=True):
            assert axis is None or size % MESH.shape[MESH.axis_names.index(axis)] == 0
    replicated = [path for path, layout in axes.items() if layout is None]
    assert any("spatial_gating_unit/spatial_kernel" in path for path in replicated)
    assert any(path.startswith("predictions/") for path in replicated)
    assert len(replicated) < len(axes)


def test_the_masked_lm_head_is_replicated():
    backbone = GMLPTextBackbone(
        vocabulary_size=40,
        num_layers=1,
        hidden_dim=16,
        intermediate_dim=64,
        max_sequence_length=8,
    )
    masked_lm = GMLPMaskedLM(backbone)
    axes = axes_by_path(masked_lm, layout_map_for(GMLPTextBackbone))
    head = [path for path in axes if path.startswith("masked_lm_head/")]
    assert head and all(axes[path] is None for path in head)
    assert axes["block_0/proj_in/kernel"] == ("data", "tensor")


def test_both_backbones_share_one_layout():
    image, text = layout_map_for(GMLPBackbone), layout_map_for(GMLPTextBackbone)
    assert list(image) == list(text)
    assert [image[key].axes for key in image] == [text[key].axes for key in text]


def test_a_prefixed_path_matches():
    layout_map = gmlp_layout_map(MESH, "tensor", "data")
    path = "encoder/block_12/spatial_gating_unit/tiny_attention/output_dense/kernel"
    assert layout_map[path].axes == (None, "tensor")


def test_a_device_mesh_is_required():
    with pytest.raises(ValueError, match="expects a `keras.distribution.DeviceMesh`"):
        GMLPBackbone.get_layout_map(("batch", "model"))


@pytest.mark.parametrize(
    "names, argument",
    [
        ({"model_parallel_dim_name": "model"}, "model_parallel_dim_name='model'"),
        ({"data_parallel_dim_name": "batch"}, "data_parallel_dim_name='batch'"),
    ],
)
def test_unknown_mesh_axes_are_refused(names, argument):
    names = {
        "model_parallel_dim_name": "tensor",
        "data_parallel_dim_name": "data",
        **names,
    }
    with pytest.raises(
        ValueError, match=f"one of \\['data', 'tensor'\\]. .*{argument}"
    ):
        GMLPTextBackbone.get_layout_map(MESH, **names)
