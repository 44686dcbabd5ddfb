"""How many of a gMLP backbone's parameters LoRA trains.

    python benchmarks/lora_parameters.py gmlp_s16_224 --rank 4

Builds the preset's backbone (architecture only, no weights needed), calls
`enable_lora(rank)` and prints its parameter count, the trainable count and
their ratio, as JSON.
"""

import argparse
import json

import numpy as np

import keras_gmlp


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset", help="a named preset or a preset directory")
    parser.add_argument("--rank", type=int, default=4)
    args = parser.parse_args()

    backbone = keras_gmlp.models.GMLPBackbone.from_preset(
        args.preset, load_weights=False
    )
    parameters = backbone.count_params()
    backbone.enable_lora(args.rank)
    trainable = sum(int(np.prod(v.shape)) for v in backbone.trainable_weights)
    result = {
        "preset": args.preset,
        "rank": args.rank,
        "parameters": parameters,
        "trainable": trainable,
        "trainable_fraction": round(trainable / parameters, 5),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
