"""Checks of the values that enter a gMLP model, where they enter.

Inside a compiled step a check cannot raise, and a bad value there gives a
silent wrong result (a token id past the vocabulary reads NaN on JAX, `-1`
reads the last embedding on every backend, a label past the classes trains
with a finite loss) or an error that leaves a JAX model unusable. So values
are checked before the step: when a task's `fit`, `evaluate` or `predict`
gets arrays, and when a backbone is called eagerly on concrete values. A
symbolic or traced value (a step being compiled) is left alone.
"""

import numbers

import keras
import numpy as np
import tensorflow as tf


def concrete_values(x):
    """`x` as a numpy array where its values exist now (numpy, a list, an
    eager tensor of any backend); `None` where `x` is symbolic or traced."""
    if isinstance(x, np.ndarray | list | tuple | numbers.Number):
        return np.asarray(x)
    if isinstance(x, keras.KerasTensor) or _is_jax_tracer(x):
        return None
    if isinstance(x, tf.Tensor) and (
        tf.is_symbolic_tensor(x) or not tf.executing_eagerly()
    ):
        return None
    return keras.ops.convert_to_numpy(x)


def check_token_ids(inputs, vocabulary_size, max_sequence_length, owner):
    """Refuses concrete `{"token_ids", "padding_mask"}` that a text backbone
    of `vocabulary_size` ids and `max_sequence_length` tokens cannot read."""
    if not isinstance(inputs, dict) or "token_ids" not in inputs:
        return  # Keras names the inputs it expects
    token_ids = concrete_values(inputs["token_ids"])
    if token_ids is None or token_ids.ndim != 2:
        return  # Keras names the shape it expects
    if not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(
            f"{owner} expects integer 'token_ids'. Received dtype {token_ids.dtype}"
        )
    batch_size, length = token_ids.shape
    if not (batch_size and 0 < length <= max_sequence_length):
        raise ValueError(
            f"{owner} expects at least one sequence, of at least 1 and at most "
            f"{max_sequence_length} tokens. Received 'token_ids' of shape "
            f"{token_ids.shape}"
        )
    if token_ids.min() < 0 or token_ids.max() >= vocabulary_size:
        raise ValueError(
            f"{owner} expects token ids in [0, {vocabulary_size}), its "
            f"vocabulary. Received ids from {token_ids.min()} to {token_ids.max()}"
        )
    padding_mask = concrete_values(inputs.get("padding_mask"))
    if padding_mask is not None and padding_mask.shape != token_ids.shape:
        raise ValueError(
            f"{owner} expects a 'padding_mask' of the shape of 'token_ids', "
            f"{token_ids.shape}. Received shape {padding_mask.shape}"
        )


def check_images(images, image_shape, owner):
    """Refuses images other than a non-empty batch of `image_shape`, the
    images a backbone takes. Reads shapes only; sizes unknown yet (a batch
    being traced) pass."""
    shape = tuple(np.shape(images))
    known = zip(shape[1:], image_shape, strict=False)
    if len(shape) != 4 or any(size not in (None, side) for size, side in known):
        raise ValueError(
            f"{owner} expects images of shape (batch, *{tuple(image_shape)}). "
            f"Received shape {shape}"
        )
    if shape[0] == 0:
        raise ValueError(f"{owner} expects at least one image. Received none.")


def check_raw_images(images, channels, owner):
    """Refuses concrete raw images (of any size: the preprocessor resizes
    them) that are not a non-empty batch, or one image, of `channels`
    channels."""
    values = concrete_values(images)
    if values is None:
        return
    if values.ndim not in (3, 4) or values.shape[-1] != channels:
        raise ValueError(
            f"{owner} expects images of {channels} channels: one of shape "
            f"(height, width, {channels}) or a batch of shape (batch, height, "
            f"width, {channels}). Received shape {values.shape}"
        )
    if values.ndim == 4:
        check_not_empty(values, owner)


def check_not_empty(samples, owner):
    """Refuses an array or list of samples with no sample in it."""
    if len(samples) == 0:
        raise ValueError(f"{owner} expects at least one sample. Received none.")


def check_labels(labels, num_classes, owner):
    """Refuses concrete class labels, one per sample, that are not integers
    in `[0, num_classes)`; one-hot labels (a column per class) pass."""
    values = concrete_values(labels)
    if values is None or (values.ndim == 2 and values.shape[1] == num_classes > 1):
        return
    values = values.reshape(-1) if values.ndim == 2 and values.shape[1] == 1 else values
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(
            f"{owner} expects one class label a sample, an integer in "
            f"[0, {num_classes}). Received labels of shape {values.shape} and "
            f"dtype {values.dtype}"
        )
    outside = (values < 0) | (values >= num_classes) | (values != np.round(values))
    if outside.any():
        raise ValueError(
            f"{owner} expects class labels that are integers in "
            f"[0, {num_classes}). Received {values[outside][:5].tolist()} among "
            "them."
        )


def check_preprocessor_fits(preprocessor, backbone, owner):
    """Refuses a preprocessor whose outputs the backbone cannot read: token
    ids past its vocabulary (once the tokenizer has one), sequences past its
    length, images of another size."""
    tokenizer = getattr(preprocessor, "tokenizer", None)
    # A preset's vocabulary is an asset, loaded once the task is built.
    has_vocabulary = getattr(tokenizer, "vocabulary", None) is not None
    if has_vocabulary and tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"{owner}'s tokenizer has {tokenizer.vocabulary_size()} tokens, but "
            f"its backbone embeds {backbone.vocabulary_size}: the others would "
            "read no embedding."
        )
    sequence_length = getattr(preprocessor, "sequence_length", None)
    if sequence_length is not None and sequence_length > backbone.max_sequence_length:
        raise ValueError(
            f"{owner}'s preprocessor packs {sequence_length} tokens, but its "
            f"backbone reads at most {backbone.max_sequence_length}."
        )
    converter = getattr(preprocessor, "image_converter", None)
    image_size = getattr(converter, "image_size", None)
    if image_size is not None and tuple(image_size) != tuple(backbone.image_shape[:2]):
        raise ValueError(
            f"{owner}'s image converter makes images of {tuple(image_size)}, "
            f"but its backbone takes {tuple(backbone.image_shape[:2])}."
        )


def _is_jax_tracer(x):
    """Whether `x` is a JAX tracer, without importing JAX."""
    return any(
        cls.__name__ == "Tracer" and cls.__module__.startswith("jax")
        for cls in type(x).__mro__
    )
