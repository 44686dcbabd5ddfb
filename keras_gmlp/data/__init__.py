"""Small datasets that ship inside keras_gmlp, for the command line's default
run and for examples."""

import pathlib

import numpy as np

DIGITS_FILE = pathlib.Path(__file__).parent / "digits.npz"


def load_digits():
    """The 1797 8x8 handwritten digits of scikit-learn, as RGB uint8 images.

    The UCI optdigits test set as scikit-learn distributes it (BSD-3-Clause),
    written by `scripts/make_digits.py`: gray levels 0..16 scaled to 0..255,
    repeated over three channels so that image presets take them as they are.

    Returns:
        A tuple `(images, labels)`: uint8 images of shape `(1797, 8, 8, 3)`
        and int32 labels, the digits 0 to 9.

    Example:
    ```python
    from keras_gmlp.data import load_digits

    images, labels = load_digits()
    images.shape  # (1797, 8, 8, 3)
    ```
    """
    with np.load(DIGITS_FILE) as digits:
        images, labels = digits["images"], digits["labels"]
    return np.repeat(images[..., None], 3, axis=-1), labels.astype("int32")
