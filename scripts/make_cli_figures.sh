#!/usr/bin/env bash
# The README's command-line figures: docs/images/training.png from
# `keras-gmlp train` on the digits, and docs/images/confusion.png from
# `keras-gmlp evaluate` of that model on all 1797 digits, written as a
# folder of PNGs. Run from the repository root: bash scripts/make_cli_figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
keras-gmlp train --output "${work}/digits_gmlp"
python - "${work}/digits" <<'PYTHON'
import pathlib
import sys

import PIL.Image

from keras_gmlp.data import load_digits

folder = pathlib.Path(sys.argv[1])
images, labels = load_digits()
for index, (image, label) in enumerate(zip(images, labels, strict=True)):
    (folder / str(label)).mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(image).save(folder / str(label) / f"{index}.png")
PYTHON
keras-gmlp evaluate "${work}/digits_gmlp" --data "${work}/digits" \
    --output "${work}/report/metrics.json"
cp "${work}/digits_gmlp/training.png" docs/images/training.png
cp "${work}/report/confusion.png" docs/images/confusion.png
