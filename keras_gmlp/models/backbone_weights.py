"""The weights of a gMLP backbone, known from its arguments before any layer
is built: the bytes they need, and what its weights file must hold.

Each backbone's `weight_shapes` checks its size arguments and gives the
shapes of the weights outside the blocks and of one block, keyed by their
path in a Keras weights file. The backbone refuses, before building, a model
whose weights exceed the memory left; a preset is refused, before anything
is built, when its weights file holds another number of blocks or another
shape anywhere than its config implies.
"""

import inspect
import re

import h5py

from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes

# Keras names the layers of a functional model in its weights file after
# their class: `gmlp_block`, `gmlp_block_1`, ...
# The arguments every keras-hub backbone takes besides its own.
BASE_ARGUMENTS = ("name", "trainable", "dtype")
_BLOCK_GROUP = re.compile(r"^layers/(gmlp_block(?:_\d+)?)/")


def check_backbone_fits_in_memory(name, outer, block, num_layers, dtype):
    """Raises a `MemoryError` stating the size when a backbone of `num_layers`
    blocks of `block` shapes, and `outer` shapes besides, exceeds the memory
    left."""
    num_bytes = weight_bytes(outer.values(), dtype)
    num_bytes += weight_bytes(block.values(), dtype) * num_layers
    check_fits_in_memory(num_bytes, f"The weights of a {name} of {num_layers} blocks")


def block_group(index):
    """The group of block `index` in a backbone's weights file."""
    return "layers/gmlp_block" + (f"_{index}" if index else "")


def constructor_arguments(cls, config, config_name):
    """The arguments `cls(**config)` would get, its defaults filled in;
    a `ValueError` naming `config_name` where they do not fit."""
    try:
        bound = inspect.signature(cls).bind(**config)
    except TypeError as error:
        raise ValueError(
            f"{config_name} does not hold arguments of {cls.__name__}: {error}"
        ) from None
    bound.apply_defaults()
    other = bound.arguments.pop("kwargs", {})
    unknown = sorted(set(other) - set(BASE_ARGUMENTS))
    if unknown:
        raise ValueError(
            f"{config_name} holds arguments that {cls.__name__} does not take: "
            f"{unknown}"
        )
    return {**bound.arguments, **other}


def check_weights_file(cls, config, config_name, weights_paths, weights_name):
    """Refuses a weights file (`weights_paths`, one file or its shards) that
    does not hold exactly the weights of `cls(**config)`: the number of
    blocks first, then every variable's shape. Reads shapes only."""
    arguments = constructor_arguments(cls, config, config_name)
    outer, block = cls.weight_shapes(**arguments)
    stored = stored_shapes(weights_paths, weights_name)
    num_layers = arguments["num_layers"]
    stored_blocks = {m.group(1) for m in map(_BLOCK_GROUP.match, stored) if m}
    if len(stored_blocks) != num_layers:
        raise ValueError(
            f"{weights_name} holds {len(stored_blocks)} blocks, but "
            f"{config_name} says num_layers={num_layers}. The preset's files do "
            "not belong together."
        )
    expected = dict(outer)
    for index in range(num_layers):
        expected.update(
            {f"{block_group(index)}/{path}": shape for path, shape in block.items()}
        )
    _compare(expected, stored, config_name, weights_name)


def stored_shapes(weights_paths, weights_name):
    """The shape of every layer variable in the weights files, by path;
    an `OSError` naming `weights_name` for a file h5py cannot read."""
    shapes = {}

    def visit(path, item):
        if isinstance(item, h5py.Dataset) and path.startswith("layers/"):
            shapes[path] = tuple(item.shape)

    for weights_path in weights_paths:
        try:
            with h5py.File(weights_path, "r") as weights:
                weights.visititems(visit)
        except OSError as error:
            raise OSError(
                f"{weights_name} is not a readable Keras weights file: {error}"
            ) from None
    return shapes


def _compare(expected, stored, config_name, weights_name):
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    mismatched = sorted(
        path for path in set(expected) & set(stored) if expected[path] != stored[path]
    )
    if not (missing or unexpected or mismatched):
        return
    differences = [
        f"'{path}' has shape {stored[path]} in {weights_name}, "
        f"{expected[path]} by {config_name}"
        for path in mismatched[:3]
    ]
    differences += [f"'{path}' is missing from {weights_name}" for path in missing[:3]]
    differences += [
        f"'{path}' in {weights_name} is no weight of {config_name}'s model"
        for path in unexpected[:3]
    ]
    raise ValueError(
        f"{weights_name} does not hold the weights {config_name} describes "
        f"({len(mismatched)} shapes differ, {len(missing)} missing, "
        f"{len(unexpected)} unexpected): " + "; ".join(differences)
    )
