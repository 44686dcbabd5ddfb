"""The `keras-gmlp` command line: its arguments, parsed before anything
heavy loads, so that `--help` and argument errors answer at once.

The commands themselves are in `keras_gmlp.cli`, which `main` imports only
once the arguments are known: importing keras_gmlp loads Keras, keras-hub
and TensorFlow, seconds of start-up that `--help` has no use for.
"""

import argparse
import contextlib
import logging
import math
import os
import re
import sys
import tempfile

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT = " (default: %(default)s)"
# Start-up notices TensorFlow's C++ side writes to stderr before its log
# level applies: absl's preamble, and INFO or WARNING lines (cuda stubs).
NATIVE_NOTICE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} "
)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one `keras-gmlp: error:` line, as
    the commands' own errors are."""

    def error(self, message):
        self.exit(2, f"keras-gmlp: error: {message}\n")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def build_parser():
    parser = Parser(
        prog="keras-gmlp",
        description="gMLP models for Keras 3 and keras-hub.",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="the Keras backend to run on (default: $KERAS_BACKEND, else Keras')",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("presets", help="list the named presets")
    add_convert_parser(commands)
    add_train_parser(commands)
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    return parser


def add_command(commands, name, help, description=None):
    return commands.add_parser(name, help=help, description=description or help)


def add_convert_parser(commands):
    convert = add_command(
        commands,
        "convert",
        "convert a timm gMLP checkpoint into a native keras_gmlp preset",
    )
    convert.add_argument("source", help="a timm checkpoint directory or a hf:// handle")
    convert.add_argument("destination", help="the preset directory to write")


def add_train_parser(commands):
    train = add_command(
        commands,
        "train",
        "train a classifier on a folder of images or a CSV file of texts",
        "Train a gMLP classifier, evaluate it on a held-out split and save it "
        "as a preset, with metrics.json, class_names.json and (with "
        "matplotlib) training.png. With no --data, trains a small gMLP on the "
        "8x8 digits that ship with keras_gmlp. Each finished epoch is "
        "checkpointed: after Ctrl-C, --resume continues.",
    )
    add_data_arguments(train, required=False)
    train.add_argument(
        "--preset",
        metavar="NAME_OR_DIR",
        help="a named preset or a preset directory to start from (default: a "
        "small gMLP for images up to 32 pixels, a gMLP-Ti-sized one for "
        "larger images, amlp_tiny_text_test for texts)",
    )
    train.add_argument(
        "--random-init",
        action="store_true",
        help="start from random weights (for presets that ship none)",
    )
    train.add_argument(
        "--image-size",
        type=positive_int,
        metavar="PIXELS",
        help="train on square images of this side, a multiple of the patch "
        "size; a preset's spatial weights are resized to it (default: the "
        "preset's size, 16 for the small default model, 224 for the larger)",
    )
    train.add_argument(
        "--epochs",
        type=positive_int,
        default=20,
        metavar="N",
        help=f"epochs of training the whole model{DEFAULT}",
    )
    train.add_argument(
        "--head-epochs",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="epochs of training the new head alone, the backbone frozen, "
        f"before --epochs of training everything{DEFAULT}",
    )
    train.add_argument(
        "--learning-rate",
        type=positive_float,
        default=2e-3,
        metavar="F",
        help="the peak learning rate of AdamW, after a short warm-up and "
        f"before a cosine decay; lower it to fine-tune pretrained weights{DEFAULT}",
    )
    train.add_argument(
        "--dtype",
        metavar="POLICY",
        help="a Keras dtype policy, e.g. mixed_bfloat16 (default: the "
        "preset's, float32)",
    )
    train.add_argument(
        "--validation-split",
        type=fraction,
        default=0.2,
        metavar="F",
        help=f"the fraction of each class held out for evaluation{DEFAULT}",
    )
    train.add_argument(
        "--seed", type=int, default=0, help=f"for the split and the weights{DEFAULT}"
    )
    train.add_argument(
        "--output",
        default="gmlp_classifier",
        metavar="DIR",
        help=f"the preset directory to write{DEFAULT}",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --output (and any interrupted run of it)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from its last finished epoch; give "
        "the same options as before",
    )
    # For tests and quick trials: train on N examples drawn at random.
    train.add_argument("--limit", type=positive_int, help=argparse.SUPPRESS)


def add_evaluate_parser(commands):
    evaluate = add_command(
        commands,
        "evaluate",
        "print the loss and accuracy of a trained classifier on labelled data",
    )
    evaluate.add_argument("preset", help="a preset directory written by `train`")
    add_data_arguments(evaluate, required=True)
    evaluate.add_argument(
        "--output",
        metavar="FILE.json",
        help="also write accuracy, loss, per-class precision and recall and the "
        "confusion matrix as JSON, and (with matplotlib) confusion.png beside it",
    )


def add_predict_parser(commands):
    predict = add_command(
        commands,
        "predict",
        "print each input's most likely classes and their probabilities",
    )
    predict.add_argument("preset", help="a preset directory written by `train`")
    predict.add_argument(
        "files",
        nargs="+",
        metavar="PATH",
        help="image files or folders of them, or for a text classifier text "
        "files of one input a line",
    )
    predict.add_argument(
        "--top-k",
        type=positive_int,
        default=1,
        metavar="K",
        help=f"classes per input{DEFAULT}",
    )
    predict.add_argument(
        "--output",
        metavar="FILE",
        help="also write the predictions to a .csv or .json file",
    )
    predict.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="N",
        help=f"inputs a step{DEFAULT}",
    )


def add_data_arguments(parser, required):
    parser.add_argument(
        "--data",
        required=required,
        metavar="PATH",
        help="a folder of images with one sub-folder per class, or a CSV file",
    )
    parser.add_argument(
        "--text-column",
        default="text",
        metavar="C",
        help=f"the CSV column of the texts{DEFAULT}",
    )
    parser.add_argument(
        "--label-column",
        default="label",
        metavar="C",
        help=f"the CSV column of the labels{DEFAULT}",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="N",
        help=f"examples a step{DEFAULT}",
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.backend and os.environ.get("KERAS_BACKEND") != args.backend:
        if "keras" in sys.modules:  # too late to switch: start again with it
            environment = {**os.environ, "KERAS_BACKEND": args.backend}
            os.execve(
                sys.executable,
                [sys.executable, "-m", "keras_gmlp_cli", *argv],
                environment,
            )
        os.environ["KERAS_BACKEND"] = args.backend
    quiet = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if quiet:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with native_notices_dropped(quiet):
        # Here, not at the top: the arguments are parsed without Keras.
        from keras_gmlp import cli
    if quiet:
        logging.getLogger("absl").setLevel(logging.ERROR)
    return cli.run(args)


@contextlib.contextmanager
def native_notices_dropped(drop):
    """Drops the start-up notices TensorFlow's C++ side writes straight to
    file descriptor 2 while the body runs; every other line still reaches
    stderr."""
    if not drop:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            for line in text.splitlines(keepends=True):
                if not NATIVE_NOTICE.match(line):
                    sys.stderr.write(line)
