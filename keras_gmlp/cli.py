"""The `keras-gmlp` command line (also `python -m keras_gmlp`)."""

import argparse
import collections
import csv
import json
import os
import pathlib
import sys
import time

from keras_gmlp import models
from keras_gmlp.data import load_digits
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.models.preset_files import check_preset_destination
from keras_gmlp.models.preset_files import preset_modality
from keras_gmlp.models.preset_files import resolve_preset
from keras_gmlp.utils import tune_cpu_memory

BACKENDS = ("jax", "tensorflow", "torch")
# The formats `keras.utils.image_dataset_from_directory` reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# The default image model, sized for small images such as the 8x8 digits:
# they are upsampled to 16x16 so that 2x2 patches give 64 tokens.
SMALL_IMAGE_MODEL = {
    "num_layers": 4,
    "hidden_dim": 64,
    "intermediate_dim": 256,
    "image_shape": (16, 16, 3),
    "patch_size": 2,
}
# The only text preset that ships weights (random ones), so it loads offline:
# a way to try the command out, not a model for real work.
DEFAULT_TEXT_PRESET = "amlp_tiny_text_test"
CLASS_NAMES_FILE = "class_names.json"
METRICS_FILE = "metrics.json"

# What `--data` holds: "image" or "text" examples (image paths, an image
# array or strings) and each example's class name.
Data = collections.namedtuple("Data", ["modality", "examples", "label_names"])


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
    _add_train_parser(commands)
    evaluate = commands.add_parser(
        "evaluate", help="print the loss and accuracy of a trained classifier"
    )
    evaluate.add_argument("preset", help="a preset directory written by `train`")
    _add_data_arguments(evaluate, required=True)
    predict = commands.add_parser(
        "predict", help="print the predicted class of each input, one a line"
    )
    predict.add_argument("preset", help="a preset directory written by `train`")
    predict.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="image files, or for a text classifier text files of one input a line",
    )
    predict.add_argument("--batch-size", type=int, default=32, metavar="N")
    return parser


def _add_train_parser(commands):
    train = commands.add_parser(
        "train",
        help="train a classifier on a folder of images or a CSV file of texts",
        description="Train a gMLP classifier, evaluate it on a held-out split "
        "and save it as a preset, with metrics.json and class_names.json. "
        "With no --data, trains a small gMLP on the 8x8 digits that ship "
        "with keras_gmlp.",
    )
    _add_data_arguments(train, required=False)
    train.add_argument(
        "--preset",
        metavar="NAME_OR_DIR",
        help="a named preset or a preset directory to start from (default: a "
        f"small gMLP for small images, {DEFAULT_TEXT_PRESET} for texts)",
    )
    train.add_argument(
        "--random-init",
        action="store_true",
        help="start from random weights (for presets that ship none)",
    )
    train.add_argument("--epochs", type=int, default=20, metavar="N")
    train.add_argument(
        "--learning-rate",
        type=float,
        default=2e-3,
        metavar="F",
        help="the peak learning rate of AdamW (default 2e-3; lower it to "
        "fine-tune pretrained weights)",
    )
    train.add_argument(
        "--output",
        default="gmlp_classifier",
        metavar="DIR",
        help="the preset directory to write (default gmlp_classifier)",
    )
    train.add_argument(
        "--validation-split",
        type=float,
        default=0.2,
        metavar="F",
        help="the fraction of examples held out for evaluation (default 0.2)",
    )
    train.add_argument(
        "--seed", type=int, default=0, help="for the split and the weights"
    )
    # For tests and quick trials: train on the first N shuffled examples.
    train.add_argument("--limit", type=int, help=argparse.SUPPRESS)


def _add_data_arguments(parser, required):
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
        help="the CSV column of the texts (default text)",
    )
    parser.add_argument(
        "--label-column",
        default="label",
        metavar="C",
        help="the CSV column of the labels (default label)",
    )
    parser.add_argument("--batch-size", type=int, default=32, metavar="N")


def list_presets(args):
    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        facts = f"{name:{width}} {preset['modality']:5} {preset['parameters']:>12,}"
        print(f"{facts}  {preset['description']}")


def convert(args):
    classifier = models.GMLPImageClassifier.from_preset(args.source)
    classifier.save_to_preset(args.destination)
    print(f"wrote {args.destination}")


def train(args):
    import keras

    _check_train_arguments(args)
    keras.utils.set_random_seed(args.seed)
    data = read_train_data(args)
    class_names = sorted_class_names(data.label_names)
    train_indices, validation_indices = split_indices(
        len(data.label_names), args.validation_split, args.seed, args.limit
    )
    classifier = build_classifier(args, data.modality, len(class_names))
    inputs = model_inputs(classifier, data.examples)
    labels = label_indices(data.label_names, class_names, args.data)
    start = time.perf_counter()
    held_out = fit_and_evaluate(
        classifier,
        (inputs[train_indices], labels[train_indices]),
        (inputs[validation_indices], labels[validation_indices]),
        args,
    )
    seconds = time.perf_counter() - start
    metrics = {
        "accuracy": held_out["accuracy"],
        "loss": held_out["loss"],
        "train_examples": len(train_indices),
        "validation_examples": len(validation_indices),
        "epochs": args.epochs,
        "seconds": round(seconds, 1),
        "backend": keras.backend.backend(),
        "data": args.data or "keras_gmlp.data.load_digits()",
        "preset": args.preset,
    }
    save_trained(classifier, args.output, class_names, metrics)
    print(
        f"held-out accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f} "
        f"({len(validation_indices)} examples), {seconds:.1f} s"
    )
    print(f"wrote {args.output}")


def read_train_data(args):
    """`--data`, or the digits that ship with keras_gmlp; two classes or more."""
    if args.data is None:
        images, labels = load_digits()
        return Data("image", images, [str(label) for label in labels])
    data = read_data(args.data, args.text_column, args.label_column)
    if len(set(data.label_names)) < 2:
        raise ValueError(
            f"--data '{args.data}' has only one class ({data.label_names[0]}); "
            "a classifier needs at least two."
        )
    return data


def fit_and_evaluate(classifier, train_data, validation_data, args):
    """Trains with AdamW, showing Keras' progress bars, and returns the loss
    and accuracy on `validation_data`."""
    import keras

    steps = args.epochs * -(-len(train_data[1]) // args.batch_size)
    classifier.compile(
        optimizer=keras.optimizers.AdamW(learning_schedule(args.learning_rate, steps)),
        metrics=accuracy_metrics(),
    )
    classifier.fit(
        *train_data,
        validation_data=validation_data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose="auto",
    )
    return classifier.evaluate(
        *validation_data, batch_size=args.batch_size, return_dict=True, verbose=0
    )


def _check_train_arguments(args):
    """Fails before the data are read or the model is trained."""
    if args.epochs < 1 or args.batch_size < 1:
        raise ValueError("--epochs and --batch-size must be at least 1.")
    if not 0.0 < args.validation_split < 1.0:
        raise ValueError(
            f"--validation-split must be between 0 and 1, got {args.validation_split}"
        )
    # `save_to_preset` refuses these too, but only once training is done.
    check_preset_destination(args.output)


def evaluate(args):
    data = read_data(args.data, args.text_column, args.label_column)
    classifier, class_names = load_trained(args.preset)
    _check_modality(args.preset, classifier, data.modality)
    class_names = class_names or sorted_class_names(data.label_names)
    if len(class_names) != classifier.num_classes:
        raise ValueError(
            f"--data '{args.data}' has {len(class_names)} classes, but the "
            f"classifier of '{args.preset}' has {classifier.num_classes}."
        )
    inputs = model_inputs(classifier, data.examples)
    labels = label_indices(data.label_names, class_names, args.data)
    classifier.compile(metrics=accuracy_metrics())
    results = classifier.evaluate(
        inputs, labels, batch_size=args.batch_size, return_dict=True, verbose="auto"
    )
    print(
        f"loss {results['loss']:.4f}, accuracy {results['accuracy']:.4f} "
        f"({len(labels)} examples)"
    )


def predict(args):
    import numpy as np

    classifier, class_names = load_trained(args.preset)
    if _modality_of(classifier) == "text":
        inputs = np.array(read_lines(args.files))
    else:
        inputs = read_images(args.files, _image_size(classifier))
    logits = classifier.predict(inputs, batch_size=args.batch_size, verbose=0)
    for index in np.argmax(logits, axis=-1):
        print(class_names[index] if class_names else index)


COMMANDS = {
    "presets": list_presets,
    "convert": convert,
    "train": train,
    "evaluate": evaluate,
    "predict": predict,
}


def read_data(path, text_column, label_column):
    """Reads `--data`: a folder of class folders of images, or a CSV file.

    Args:
        path: str. The folder or the CSV file.
        text_column: str. The CSV column that holds the texts.
        label_column: str. The CSV column that holds the labels.

    Returns:
        A `Data`: image paths or strings, and their class names.
    """
    data_path = pathlib.Path(path)
    if data_path.is_dir():
        return read_image_folder(data_path)
    if data_path.suffix.lower() == ".csv" and data_path.is_file():
        return read_csv(data_path, text_column, label_column)
    if not data_path.exists():
        raise ValueError(f"--data '{path}' does not exist.")
    raise ValueError(
        f"--data '{path}' is neither a folder of class folders of images nor a "
        ".csv file."
    )


def read_image_folder(folder):
    """The image paths of a folder with one sub-folder per class, as
    `keras.utils.image_dataset_from_directory` reads it."""
    class_folders = sorted(
        child
        for child in folder.iterdir()
        if child.is_dir() and not child.name.startswith(".")
    )
    if not class_folders:
        raise ValueError(
            f"--data '{folder}' has no class folders: put the images of each "
            "class in a sub-folder named after it."
        )
    paths, label_names = [], []
    for class_folder in class_folders:
        images = sorted(
            path
            for path in class_folder.rglob("*")
            if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()
        )
        if not images:
            raise ValueError(
                f"class folder '{class_folder}' has no images "
                f"({', '.join(IMAGE_EXTENSIONS)})."
            )
        paths += images
        label_names += [class_folder.name] * len(images)
    return Data("image", paths, label_names)


def read_csv(path, text_column, label_column):
    """The texts and labels of two columns of a CSV file with a header."""
    try:
        # utf-8-sig: spreadsheets often start their CSV files with a BOM.
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = reader.fieldnames or []
            missing = [c for c in (text_column, label_column) if c not in columns]
            if missing:
                raise ValueError(
                    f"'{path}' has no column {', '.join(map(repr, missing))}; its "
                    f"columns are: {', '.join(map(repr, columns)) or 'none'}. "
                    "Name them with --text-column and --label-column."
                )
            rows = [(row[text_column], row[label_column]) for row in reader]
    except csv.Error as error:
        raise ValueError(f"'{path}' is not a valid CSV file: {error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"cannot read '{path}': it is not UTF-8 text.") from error
    if not rows:
        raise ValueError(f"'{path}' has a header but no rows.")
    if any(text is None or label is None for text, label in rows):
        raise ValueError(f"'{path}' has rows with fewer cells than columns.")
    texts, label_names = zip(*rows, strict=True)
    return Data("text", list(texts), list(label_names))


def read_images(paths, image_size):
    """Image files as one uint8 array of RGB images.

    Images of different sizes are resized to `image_size`, the model's: a
    batch needs one size, and the model's preprocessor resizes them anyway.
    """
    import numpy as np

    images = [read_image(path) for path in paths]
    if len({image.shape for image in images}) > 1:
        images = [read_image(path, image_size) for path in paths]
    return np.stack(images)


def read_image(path, size=None):
    """One image file as a uint8 RGB array, resized to `size` if given."""
    import keras

    if not pathlib.Path(path).is_file():
        raise ValueError(f"no such image file: '{path}'")
    try:
        image = keras.utils.load_img(
            path, color_mode="rgb", target_size=size, interpolation="bilinear"
        )
        return keras.utils.img_to_array(image, dtype="uint8")
    except ImportError as error:
        raise ValueError(
            "reading image files needs Pillow: pip install pillow"
        ) from error
    # PIL raises OSError for unknown or truncated files, and SyntaxError or
    # ValueError for some broken headers.
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(
            f"cannot read image '{path}': it is corrupt or not an image."
        ) from error


def read_lines(paths):
    """The non-blank lines of text files, each one input."""
    lines = []
    for path in paths:
        if not pathlib.Path(path).is_file():
            raise ValueError(f"no such text file: '{path}'")
        try:
            text = pathlib.Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"cannot read '{path}': it is not UTF-8 text.") from error
        lines += [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the text files have no lines to classify.")
    return lines


def sorted_class_names(label_names):
    """The distinct labels, sorted; as numbers when they all are numbers, so
    that "10" comes after "9"."""
    names = set(label_names)
    if all(name.strip().lstrip("-").isdigit() for name in names):
        return sorted(names, key=int)
    return sorted(names)


def label_indices(label_names, class_names, data_path):
    """Each example's class name as its index in `class_names`."""
    import numpy as np

    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(label_names) - set(index))
    if unknown:
        raise ValueError(
            f"--data '{data_path}' has labels the classifier does not know: "
            f"{unknown[:5]}; its classes are {class_names}."
        )
    return np.array([index[name] for name in label_names], dtype="int32")


def split_indices(count, validation_split, seed, limit=None):
    """Shuffled train and validation indices, the same for the same seed."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(count)[:limit]
    validation_count = round(len(order) * validation_split)
    if not 0 < validation_count < len(order):
        raise ValueError(
            f"--validation-split {validation_split} of {len(order)} examples "
            "leaves no training or no validation example."
        )
    return order[validation_count:], order[:validation_count]


def learning_schedule(learning_rate, steps):
    """A short linear warm-up, then a cosine decay to zero."""
    import keras

    warmup_steps = max(1, steps // 10)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, steps - warmup_steps),
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def build_classifier(args, modality, num_classes):
    """The classifier that `train` starts from."""
    preset = args.preset
    if preset is None and modality == "image":
        return small_image_classifier(num_classes)
    preset = preset or DEFAULT_TEXT_PRESET
    if preset in PRESETS and not PRESETS[preset]["has_weights"]:
        if not args.random_init:
            raise ValueError(
                f"preset '{preset}' ships no weights: add --random-init to train "
                "it from scratch."
            )
    load_weights = not args.random_init
    preset_kind = preset_modality(resolve_preset(preset, load_weights))
    if preset_kind != modality:
        raise ValueError(
            f"preset '{preset}' is for {preset_kind}s, but --data "
            f"'{args.data}' holds {modality}s."
        )
    return GMLPClassifier.from_preset(
        preset, num_classes=num_classes, load_weights=load_weights
    )


def small_image_classifier(num_classes):
    """The default image classifier, `SMALL_IMAGE_MODEL` with random weights."""
    backbone = models.GMLPBackbone(**SMALL_IMAGE_MODEL)
    converter = models.GMLPImageConverter(
        image_size=SMALL_IMAGE_MODEL["image_shape"][:2], scale=1 / 255, offset=0.0
    )
    preprocessor = models.GMLPImageClassifierPreprocessor(converter)
    return models.GMLPImageClassifier(
        backbone, num_classes=num_classes, preprocessor=preprocessor
    )


def model_inputs(classifier, examples):
    """The examples as one numpy array that the classifier takes."""
    import numpy as np

    if isinstance(examples, np.ndarray):
        return examples
    if isinstance(examples[0], pathlib.Path):
        return read_images(examples, _image_size(classifier))
    return np.array(examples)


def accuracy_metrics():
    """The metrics of `train` and `evaluate`, named as they print them."""
    import keras

    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def save_trained(classifier, output, class_names, metrics):
    """Saves the preset, then its class names and metrics beside it."""
    # A fresh optimizer: the trained one's moments would double the preset's
    # size, and every load would warn that it skips them.
    classifier.compile(metrics=accuracy_metrics())
    classifier.save_to_preset(output)
    output = pathlib.Path(output)
    (output / CLASS_NAMES_FILE).write_text(json.dumps(class_names, indent=2) + "\n")
    (output / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")


def load_trained(preset):
    """A saved classifier and its class names (`None` if it has none)."""
    classifier = GMLPClassifier.from_preset(preset)
    names_file = pathlib.Path(preset) / CLASS_NAMES_FILE
    class_names = json.loads(names_file.read_text()) if names_file.is_file() else None
    return classifier, class_names


def _modality_of(classifier):
    return classifier.backbone.modality


def _image_size(classifier):
    return tuple(classifier.backbone.image_shape[:2])


def _check_modality(preset, classifier, modality):
    if _modality_of(classifier) != modality:
        raise ValueError(
            f"'{preset}' classifies {_modality_of(classifier)}s, but --data "
            f"holds {modality}s."
        )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.backend and os.environ.get("KERAS_BACKEND") != args.backend:
        # Keras reads its backend once, at import: start again with it set.
        environment = {**os.environ, "KERAS_BACKEND": args.backend}
        os.execve(
            sys.executable, [sys.executable, "-m", "keras_gmlp", *argv], environment
        )
    tune_cpu_memory()  # before JAX's first computation
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as error:
        print(f"keras-gmlp: error: {error}", file=sys.stderr)
        return 1
    return 0
