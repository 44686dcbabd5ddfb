"""Writes `keras_gmlp/data/digits.npz`, the default dataset of `keras-gmlp train`.

The data are the 1797 8x8 handwritten digits of scikit-learn's
`load_digits`, the test part of the UCI "Optical Recognition of Handwritten
Digits" data (optdigits, Alpaydin and Kaynak, 1998), as distributed with
scikit-learn under its BSD-3-Clause license. scikit-learn is needed only to
run this script, once; the package reads the `.npz` it writes.

    pip install scikit-learn
    python scripts/make_digits.py

The file holds `images`, uint8 of shape (1797, 8, 8) scaled from the
original 0..16 gray levels to 0..255, and `labels`, the digits 0..9.
"""

import pathlib

import numpy as np
from sklearn.datasets import load_digits

DESTINATION = pathlib.Path(__file__).parents[1] / "keras_gmlp" / "data" / "digits.npz"


def main():
    digits = load_digits()
    # 16 * 255 / 16 = 255: the brightest level maps exactly to 255.
    images = np.rint(digits.images * 255 / 16).astype("uint8")
    labels = digits.target.astype("uint8")
    np.savez_compressed(DESTINATION, images=images, labels=labels)
    print(f"wrote {DESTINATION}: {images.shape} images, {len(set(labels))} classes")


if __name__ == "__main__":
    main()
