import math

import keras
import tensorflow as tf


class GMLPShuffleMixin:
    """Shuffles the samples a keras-hub task's `fit` gets as arrays, anew
    each epoch, as `keras.Model.fit` does.

    keras-hub turns arrays (numpy, tensors, lists of strings) into a dataset
    in their given order, and Keras then ignores `shuffle=True`: every epoch
    would see the same batches. Here the arrays go to keras-hub as a
    `tf.data` pipeline that draws a new order of the samples each epoch and
    gathers each batch from them. `shuffle=False` keeps the order. Datasets,
    generators and `DataLoader`s are the caller's to shuffle, as in Keras.
    """

    def fit(self, x=None, y=None, batch_size=None, sample_weight=None, **kwargs):
        if not (kwargs.get("shuffle", True) and holds_arrays(x)):
            return super().fit(
                x, y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
            )
        samples = keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
        samples = map_leaves(samples, to_tensor)
        validation_split = kwargs.pop("validation_split", None)
        if validation_split and kwargs.get("validation_data") is None:
            samples, kwargs["validation_data"] = split_off_last(
                samples, validation_split
            )
        kwargs["shuffle"] = False  # done here
        return super().fit(shuffled_batches(samples, batch_size or 32), **kwargs)


def holds_arrays(x):
    """Whether `x` is array data, alone or in tuples and dicts: not a
    dataset, generator or data loader, which have no `shape`."""
    leaves = flatten_leaves(x)
    return bool(leaves) and all(
        isinstance(leaf, list) or hasattr(leaf, "shape") for leaf in leaves
    )


def shuffled_batches(samples, batch_size):
    """Batches of `samples` (tensors, in tuples and dicts) in a new random
    order each epoch.

    Only the sample indices pass through the shuffle buffer, and each batch
    is one gather: the samples are held once, whatever their size.
    """
    count = int(flatten_leaves(samples)[0].shape[0])
    order = tf.data.Dataset.range(count).shuffle(count, reshuffle_each_iteration=True)
    return order.batch(batch_size).map(
        lambda rows: map_leaves(samples, lambda leaf: tf.gather(leaf, rows))
    )


def split_off_last(samples, fraction):
    """`samples` cut in two before shuffling, the last `fraction` for
    validation, as `keras.Model.fit`'s `validation_split` does."""
    count = int(flatten_leaves(samples)[0].shape[0])
    split_at = math.floor(count * (1.0 - fraction))
    if not 0 < split_at < count:
        raise ValueError(
            f"`validation_split={fraction}` leaves no samples for training or "
            f"for validation out of {count}. Expected a fraction in (0, 1) "
            "that leaves at least one sample on each side."
        )
    train = map_leaves(samples, lambda leaf: leaf[:split_at])
    validation = map_leaves(samples, lambda leaf: leaf[split_at:])
    return train, validation


def to_tensor(leaf):
    """`leaf` (numpy, a list, a JAX, torch or tf tensor) as a tf tensor,
    with the dtypes `tf.data.Dataset.from_tensor_slices` gives lists."""
    if isinstance(leaf, tf.RaggedTensor):
        return leaf
    return tf.convert_to_tensor(leaf)


def map_leaves(samples, fn):
    """`fn` over the leaves of `samples`, where tuples and dicts are
    structure and a list is one leaf (a list of strings), as in keras-hub."""
    if isinstance(samples, tuple):
        return tuple(map_leaves(item, fn) for item in samples)
    if isinstance(samples, dict):
        return {key: map_leaves(value, fn) for key, value in samples.items()}
    return fn(samples)


def flatten_leaves(samples):
    """The leaves of `samples`, with `map_leaves`' structure."""
    if isinstance(samples, tuple):
        return [leaf for item in samples for leaf in flatten_leaves(item)]
    if isinstance(samples, dict):
        return [leaf for item in samples.values() for leaf in flatten_leaves(item)]
    return [] if samples is None else [samples]
