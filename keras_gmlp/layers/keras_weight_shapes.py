"""The shapes of the weights of Keras' own layers, keyed by their path in a
Keras weights file (`model.weights.h5`).

The gMLP layers list their weights the same way (`weight_shapes`), so that
the size of a model, and what its weights file must hold, are known from its
arguments before any layer is built.
"""


def dense_shapes(name, input_dim, units):
    """A `keras.layers.Dense` named `name`: its kernel, then its bias."""
    return {f"{name}/vars/0": (input_dim, units), f"{name}/vars/1": (units,)}


def layer_norm_shapes(name, dim):
    """A `keras.layers.LayerNormalization` named `name`: gamma, then beta."""
    return {f"{name}/vars/0": (dim,), f"{name}/vars/1": (dim,)}


def prefixed(prefix, shapes):
    """`shapes` of a layer held under `prefix` (its attribute name)."""
    return {f"{prefix}/{path}": shape for path, shape in shapes.items()}
