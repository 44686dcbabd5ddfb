import inspect
import sys

import keras
import numpy as np
import pytest

import keras_gmlp
from keras_gmlp import visualize
from keras_gmlp.version import REPOSITORY_URL
from tests.helpers import randomize_weights
from tests.helpers import to_numpy
from tests.test_examples import CODE_BLOCK

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def image_classifier():
    """A classifier on a 4x8 patch grid, non-square so that a transposed
    reshape would show; random weights so that every entry of W differs."""
    backbone = keras_gmlp.models.GMLPBackbone(
        num_layers=3,
        hidden_dim=8,
        intermediate_dim=16,
        image_shape=(8, 16, 3),
        patch_size=2,
    )
    classifier = keras_gmlp.models.GMLPImageClassifier(backbone, num_classes=2)
    return randomize_weights(classifier)


def plotted(figure):
    """The array of each panel, row by row."""
    return [ax.images[0].get_array() for ax in figure.axes]


def spatial_matrices(model):
    return [
        to_numpy(unit.spatial_matrix())
        for unit in visualize.spatial_gating_units(model)
    ]


def test_image_filters_are_rows_of_w_on_the_patch_grid(image_classifier, tmp_path):
    path = tmp_path / "filters.png"
    figure = visualize.plot_spatial_weights(
        image_classifier, path, layers=[0, -1], tokens=[0, 13, 31]
    )
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 1000
    matrices = spatial_matrices(image_classifier)
    expected = [
        matrices[layer][0, token].reshape(4, 8)
        for layer in (0, 2)
        for token in (0, 13, 31)
    ]
    panels = plotted(figure)
    assert len(panels) == len(expected)
    for panel, filter_ in zip(panels, expected, strict=True):
        np.testing.assert_array_equal(panel, filter_)


def test_default_filters_are_a_lattice_of_tokens_of_every_unit(image_classifier):
    figure = visualize.plot_spatial_weights(image_classifier)
    # Rows 1, 2 and 3 of 4 and columns 1, 4 and 6 of 8, in each of 3 units.
    assert len(figure.axes) == 3 * 9
    matrices = spatial_matrices(image_classifier)
    np.testing.assert_array_equal(plotted(figure)[-1], matrices[2][0, 30].reshape(4, 8))


def test_text_model_plots_each_unit_whole(tmp_path):
    backbone = keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=20,
        num_layers=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=6,
        causal=True,
        heads=2,
    )
    lm = randomize_weights(keras_gmlp.models.GMLPCausalLM(backbone))
    path = tmp_path / "w.png"
    figure = visualize.plot_spatial_weights(lm, path, head=1)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    panels = plotted(figure)
    for panel, matrices in zip(panels, spatial_matrices(lm), strict=True):
        np.testing.assert_array_equal(panel, matrices[1])
        assert not np.any(np.triu(panel, 1)), "a causal W is lower-triangular"
    assert len(panels) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layers": [3]}, "`layers` index 3 is out of range: the model has 3"),
        ({"layers": [-4]}, "`layers` index -4 is out of range"),
        ({"layers": []}, "`layers` is empty"),
        ({"head": 1}, "`head` must be between 0 and 0"),
        ({"tokens": [32]}, "`tokens` must be patch indices from 0 to 31"),
        ({"grid_shape": (8, 8)}, "rows * columns equal to the 32 tokens"),
    ],
)
def test_bad_arguments_say_what_was_expected(image_classifier, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        visualize.plot_spatial_weights(image_classifier, **kwargs)


def test_tokens_of_a_text_model_need_a_grid():
    classifier = keras_gmlp.GMLPClassifier.from_preset(
        "amlp_tiny_text_test", num_classes=2
    )
    with pytest.raises(ValueError, match="has no patch grid"):
        visualize.plot_spatial_weights(classifier, tokens=[0])
    # With a grid, the 32 tokens of its W plot as filters.
    figure = visualize.plot_spatial_weights(classifier, tokens=[5], grid_shape=(4, 8))
    assert len(figure.axes) == 2


def test_models_without_gating_units_are_refused():
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="expects a model with SpatialGatingUnits"):
        visualize.plot_spatial_weights(dense)
    with pytest.raises(ValueError, match="expects a Keras model .* Received: ndarray"):
        visualize.plot_spatial_weights(np.zeros((2, 2)))
    unbuilt = keras_gmlp.layers.GMLPBlock(intermediate_dim=8)
    with pytest.raises(ValueError, match="not built yet"):
        visualize.plot_spatial_weights(unbuilt)


def test_missing_matplotlib_names_the_extra(image_classifier, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    # keras-gmlp is not on PyPI: the hint installs from a clone or the git URL.
    with pytest.raises(ImportError) as raised:
        visualize.plot_spatial_weights(image_classifier)
    message = str(raised.value)
    assert 'pip install -e ".[visualize]"' in message
    assert f'pip install "keras-gmlp[visualize] @ git+{REPOSITORY_URL}"' in message


def test_docstring_example_runs():
    (example,) = CODE_BLOCK.findall(inspect.getdoc(visualize.plot_spatial_weights))
    exec(example, {})
