"""The `keras-gmlp` command line (also `python -m keras_gmlp`)."""

import argparse
import os
import sys

BACKENDS = ("jax", "tensorflow", "torch")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-gmlp", description="gMLP models for Keras 3 and keras-hub."
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, help="the Keras backend to run on"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("presets", help="list the named presets")
    convert = commands.add_parser(
        "convert",
        help="convert a timm gMLP checkpoint into a native keras_gmlp preset",
    )
    convert.add_argument("source", help="a timm checkpoint directory or a hf:// handle")
    convert.add_argument("destination", help="the preset directory to write")
    return parser


def list_presets(args):
    import keras_gmlp

    for name, preset in keras_gmlp.presets.items():
        facts = f"{name:24} {preset['modality']:5} {preset['parameters']:>12,}"
        print(f"{facts}  {preset['description']}")


def convert(args):
    import keras_gmlp

    classifier = keras_gmlp.models.GMLPImageClassifier.from_preset(args.source)
    classifier.save_to_preset(args.destination)
    print(f"wrote {args.destination}")


COMMANDS = {"presets": list_presets, "convert": convert}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.backend and os.environ.get("KERAS_BACKEND") != args.backend:
        # Keras reads its backend once, at import: start again with it set.
        environment = {**os.environ, "KERAS_BACKEND": args.backend}
        os.execve(
            sys.executable, [sys.executable, "-m", "keras_gmlp", *argv], environment
        )
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as error:
        print(f"keras-gmlp: error: {error}", file=sys.stderr)
        return 1
    return 0
