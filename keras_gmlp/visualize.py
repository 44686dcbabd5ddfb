"""Plots of what a gMLP model learned: the spatial weights `W` of its gating
units, as in Figure 4 of "Pay Attention to MLPs"; and of how a classifier
trained and how it errs, which `keras-gmlp` writes.

Needs matplotlib, the `visualize` extra: `pip install -e ".[visualize]"` in a
clone of the repository, or from its git URL (`INSTALL_HINT`).
"""

import csv

import keras
import numpy as np
from keras import ops

from keras_gmlp.layers.gmlp_block import GMLPBlock
from keras_gmlp.layers.spatial_gating_unit import SpatialGatingUnit
from keras_gmlp.version import REPOSITORY_URL

# keras-gmlp is not on PyPI: install from a clone or from the git URL.
INSTALL_HINT = (
    'pip install -e ".[visualize]" in a clone, or '
    f'pip install "keras-gmlp[visualize] @ git+{REPOSITORY_URL}"'
)
# A diverging map centred on zero: W's signs matter as much as its size.
COLORMAP = "RdBu_r"
PANEL_INCHES = 1.6


def plot_spatial_weights(
    model, path=None, layers=None, tokens=None, head=0, grid_shape=None
):
    """Plots the spatial weights `W` of a gMLP model's gating units.

    `W[i, j]` is how much token `j` feeds the gate of token `i`. For an image
    model, row `i` of `W` reshaped to the patch grid is the spatial filter of
    token `i`: the figure has one row of panels per gating unit and one
    column per token, each panel that filter with the token marked. The paper
    shows that trained filters are local and shift-invariant: each one is a
    small blob around its token, the same shape wherever the token is. For a
    text model, each panel is a unit's whole `n x n` matrix (lower-triangular
    for a causal model; a band along the diagonal where it learned locality).
    Each panel has its own colour scale, symmetric around zero: red positive,
    blue negative.

    Args:
        model: a built `GMLPBackbone` or `GMLPTextBackbone`, a task on one
            (`GMLPImageClassifier`, `GMLPTextClassifier`, `GMLPMaskedLM`,
            `GMLPCausalLM`), or any Keras model made of `GMLPBlock`s.
        path: str or `None`. Where to write the figure as a PNG.
        layers: list of ints or `None`. Which gating units to plot, counted
            in call order from 0 (negative counts from the end). Defaults to
            all of them.
        tokens: list of ints or `None`. For an image model, the tokens (patch
            indices in row-major order) whose filters to plot. Defaults to a
            3x3 lattice of tokens across the grid.
        head: int. Which head's `W` to plot, for multi-head gating.
        grid_shape: `(rows, columns)` of the patch grid, or `None` to read it
            from the backbone's `image_shape` and `patch_size`. Set it to plot
            a model of `GMLPBlock`s on images as filters.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
    ```python
    import keras_gmlp
    from keras_gmlp.visualize import plot_spatial_weights

    backbone = keras_gmlp.models.GMLPBackbone(
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        image_shape=(32, 32, 3),
        patch_size=4,
    )
    figure = plot_spatial_weights(backbone, layers=[-1], tokens=[0, 27])
    len(figure.axes)  # 2: the last unit's filters of tokens 0 and 27
    ```
    """
    figure_class = _matplotlib_figure_class()
    units = _selected_units(model, layers)
    matrices = [_spatial_matrix(unit, head) for _, unit in units]
    grid_shape = _grid_shape(model, grid_shape, len(matrices[0]))
    if grid_shape is None:
        if tokens is not None:
            raise ValueError(
                "`tokens` selects filters of an image model, but this model "
                "has no patch grid (pass `grid_shape` for one). Received: "
                f"tokens={tokens}"
            )
        figure = _plot_matrices(figure_class, units, matrices)
    else:
        tokens = _checked_tokens(tokens, grid_shape)
        figure = _plot_filters(figure_class, units, matrices, tokens, grid_shape)
    if path is not None:
        figure.savefig(path)
    return figure


def plot_training_history(csv_logs, path=None):
    """Plots loss and accuracy per epoch, training and validation, from the
    files of `keras.callbacks.CSVLogger`, one per phase of training in
    order (e.g. the head alone, then everything), phases marked.

    Args:
        csv_logs: list of paths of CSV logs with `loss`, `val_loss` and,
            where measured, `accuracy` and `val_accuracy` columns.
        path: str or `None`. Where to write the figure as a PNG.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
    ```python
    import pathlib
    import tempfile
    from keras_gmlp.visualize import plot_training_history

    log = pathlib.Path(tempfile.mkdtemp()) / "training.csv"
    log.write_text("epoch,loss,val_loss\n0,2.3,2.2\n1,1.1,1.3\n")
    figure = plot_training_history([log])
    len(figure.axes)  # 1: loss (no accuracy was logged)
    ```
    """
    rows = [row for log in csv_logs for row in _csv_rows(log)]
    phase_starts = np.cumsum([len(_csv_rows(log)) for log in csv_logs])[:-1]
    metrics = [m for m in ("loss", "accuracy") if rows and m in rows[0]]
    figure = _matplotlib_figure_class()(
        figsize=(4 * len(metrics), 3), layout="constrained"
    )
    epochs = np.arange(1, len(rows) + 1)
    for ax, metric in zip(
        figure.subplots(1, len(metrics), squeeze=False)[0], metrics, strict=True
    ):
        for prefix, label in (("", "training"), ("val_", "validation")):
            if prefix + metric in rows[0]:
                values = [float(row[prefix + metric]) for row in rows]
                ax.plot(epochs, values, marker=".", label=label)
        for start in phase_starts:
            ax.axvline(start + 0.5, color="gray", linestyle=":")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend(fontsize="small")
    if path is not None:
        figure.savefig(path)
    return figure


def plot_confusion_matrix(matrix, class_names, path=None):
    """Plots a confusion matrix, true classes down the rows and predicted
    ones across, each cell its count.

    Args:
        matrix: `(classes, classes)` array of counts.
        class_names: list of str, one a class.
        path: str or `None`. Where to write the figure as a PNG.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
    ```python
    import numpy as np
    from keras_gmlp.visualize import plot_confusion_matrix

    figure = plot_confusion_matrix(np.array([[5, 1], [0, 4]]), ["cat", "dog"])
    len(figure.axes)  # 2: the matrix and its colour bar
    ```
    """
    matrix = np.asarray(matrix)
    side = max(3.0, 0.4 * len(class_names) + 1.5)
    figure = _matplotlib_figure_class()(figsize=(side + 1, side), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=90, fontsize="small")
    ax.set_yticks(ticks, class_names, fontsize="small")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(class_names) <= 20:  # counts stay legible
        dark = matrix > matrix.max() / 2
        for (row, column), count in np.ndenumerate(matrix):
            color = "white" if dark[row, column] else "black"
            ax.text(column, row, count, ha="center", va="center", color=color)
    if path is not None:
        figure.savefig(path)
    return figure


def _csv_rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def spatial_gating_units(model):
    """Every `SpatialGatingUnit` of a model, in call order.

    Args:
        model: a Keras model or layer; models are searched through their
            `layers`, and `GMLPBlock`s give their gating unit.
    """
    if isinstance(model, SpatialGatingUnit):
        return [model]
    if isinstance(model, GMLPBlock):
        return [model.spatial_gating_unit]
    if isinstance(model, keras.Model):
        units = [unit for layer in model.layers for unit in spatial_gating_units(layer)]
        # A layer called twice appears once.
        return list({id(unit): unit for unit in units}.values())
    return []


def _matplotlib_figure_class():
    # Imported here so that keras_gmlp itself never needs matplotlib. The
    # object-oriented `Figure` leaves pyplot's global state alone.
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"keras_gmlp.visualize needs matplotlib: {INSTALL_HINT}"
        ) from error
    return Figure


def _selected_units(model, layers):
    """`(index, unit)` for each selected gating unit, checked."""
    if not isinstance(model, keras.layers.Layer):
        raise ValueError(
            "plot_spatial_weights expects a Keras model with gMLP gating units. "
            f"Received: {type(model).__name__}"
        )
    units = spatial_gating_units(model)
    if not units:
        raise ValueError(
            "plot_spatial_weights expects a model with SpatialGatingUnits: a "
            "gMLP backbone, a task on one, or a model of GMLPBlocks. Received "
            f"{type(model).__name__} '{model.name}', which has none."
        )
    indices = range(len(units)) if layers is None else layers
    selected = []
    for index in indices:
        if not -len(units) <= index < len(units):
            raise ValueError(
                f"`layers` index {index} is out of range: the model has "
                f"{len(units)} gating units, 0 to {len(units) - 1}. "
                f"Received: layers={layers}"
            )
        unit = units[index]
        if not unit.built:
            raise ValueError(
                f"Gating unit {index} is not built yet: call the model on an "
                "input first."
            )
        selected.append((index % len(units), unit))
    if not selected:
        raise ValueError("`layers` is empty: name at least one gating unit.")
    return selected


def _spatial_matrix(unit, head):
    if not 0 <= head < unit.heads:
        raise ValueError(
            f"`head` must be between 0 and {unit.heads - 1}: the gating units "
            f"have {unit.heads} head(s). Received: head={head}"
        )
    matrices = ops.cast(unit.spatial_matrix(), "float32")
    return ops.convert_to_numpy(matrices)[head]


def _grid_shape(model, grid_shape, num_tokens):
    """The patch grid: given, read from an image backbone, or `None`."""
    if grid_shape is None:
        backbone = getattr(model, "backbone", model)
        if getattr(backbone, "modality", None) != "image":
            return None
        height, width = backbone.image_shape[:2]
        grid_shape = (height // backbone.patch_size, width // backbone.patch_size)
    grid_shape = tuple(grid_shape)
    if len(grid_shape) != 2 or grid_shape[0] * grid_shape[1] != num_tokens:
        raise ValueError(
            f"`grid_shape` must be (rows, columns) with rows * columns equal "
            f"to the {num_tokens} tokens of W. Received: grid_shape={grid_shape}"
        )
    return grid_shape


def _checked_tokens(tokens, grid_shape):
    rows, columns = grid_shape
    if tokens is None:
        # A 3x3 lattice across the grid: filters of the same shape at every
        # position are what shift invariance looks like.
        lattice = [
            int(f * (side - 1) + 0.5)
            for side in grid_shape
            for f in (1 / 6, 0.5, 5 / 6)
        ]
        tokens = [r * columns + c for r in lattice[:3] for c in lattice[3:]]
        return list(dict.fromkeys(tokens))
    tokens = list(tokens)
    bad = [token for token in tokens if not 0 <= token < rows * columns]
    if bad or not tokens:
        raise ValueError(
            f"`tokens` must be patch indices from 0 to {rows * columns - 1} "
            f"(a {rows}x{columns} grid, row-major). Received: tokens={tokens}"
        )
    return tokens


def _plot_filters(figure_class, units, matrices, tokens, grid_shape):
    """One row per unit, one column per token: `W[token]` on the grid."""
    figure = figure_class(
        figsize=(PANEL_INCHES * len(tokens), PANEL_INCHES * len(units)),
        layout="constrained",
    )
    axes = figure.subplots(len(units), len(tokens), squeeze=False)
    for row, ((index, _), matrix) in enumerate(zip(units, matrices, strict=True)):
        for column, token in enumerate(tokens):
            ax = axes[row, column]
            _show(ax, matrix[token].reshape(grid_shape))
            ax.set_xticks([])
            ax.set_yticks([])
            # The token itself, so that a filter reads relative to it.
            ax.plot(token % grid_shape[1], token // grid_shape[1], "k+")
            if row == 0:
                ax.set_title(f"token {token}", fontsize="small")
        axes[row, 0].set_ylabel(f"unit {index}", fontsize="small")
    return figure


def _plot_matrices(figure_class, units, matrices):
    """One panel per unit: its whole `W`, output tokens down the rows."""
    figure = figure_class(
        figsize=(2 * PANEL_INCHES * len(units), 2 * PANEL_INCHES),
        layout="constrained",
    )
    axes = figure.subplots(1, len(units), squeeze=False)[0]
    for ax, (index, _), matrix in zip(axes, units, matrices, strict=True):
        _show(ax, matrix)
        ax.set_title(f"unit {index}: W[i, j]", fontsize="small")
        ax.set_xlabel("input token j", fontsize="small")
    axes[0].set_ylabel("output token i", fontsize="small")
    return figure


def _show(ax, image):
    limit = float(np.max(np.abs(image))) or 1.0
    ax.imshow(image, cmap=COLORMAP, vmin=-limit, vmax=limit)
