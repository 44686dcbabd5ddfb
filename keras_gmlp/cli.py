"""The commands of `keras-gmlp`; `keras_gmlp_cli` parses their arguments."""

import csv
import importlib.util
import io
import json
import pathlib
import shutil
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_gmlp import models
from keras_gmlp import visualize
from keras_gmlp.cli_data import Data
from keras_gmlp.cli_data import image_file_batches
from keras_gmlp.cli_data import image_paths
from keras_gmlp.cli_data import label_indices
from keras_gmlp.cli_data import read_data
from keras_gmlp.cli_data import read_lines
from keras_gmlp.cli_data import sorted_class_names
from keras_gmlp.cli_data import split_indices
from keras_gmlp.data import load_digits
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.models.preset_files import check_preset_destination
from keras_gmlp.models.preset_files import preset_modality
from keras_gmlp.models.preset_files import resolve_preset
from keras_gmlp.models.preset_files import staged_preset_directory
from keras_gmlp.utils import tune_cpu_memory

# The default image model for small images such as the 8x8 digits: they are
# upsampled to 16x16 so that 2x2 patches give 64 tokens.
SMALL_IMAGE_MODEL = {
    "num_layers": 4,
    "hidden_dim": 64,
    "intermediate_dim": 256,
    "image_shape": (16, 16, 3),
    "patch_size": 2,
}
# Images up to this side get the small model; larger ones, photos, get
# gMLP-Ti's architecture (random weights, ImageNet's normalisation).
SMALL_IMAGE_SIDE = 32
PHOTO_PRESET = "gmlp_ti16_224"
# The only text preset that ships weights (random ones), so it loads offline:
# a way to try the command out, not a model for real work.
DEFAULT_TEXT_PRESET = "amlp_tiny_text_test"
CLASS_NAMES_FILE = "class_names.json"
METRICS_FILE = "metrics.json"
TRAINING_PLOT = "training.png"
CONFUSION_PLOT = "confusion.png"
# What a run of `train` is, for `--resume` to check it continues the same.
RUN_OPTIONS = (
    "data",
    "text_column",
    "label_column",
    "preset",
    "random_init",
    "image_size",
    "epochs",
    "head_epochs",
    "learning_rate",
    "dtype",
    "batch_size",
    "validation_split",
    "seed",
    "limit",
)
INTERRUPTED = 130  # a shell's exit status after Ctrl-C


class TrainingInterruptedError(Exception):
    """Ctrl-C during `train`, with where it stopped."""


def run(args):
    """Runs the parsed command; one `keras-gmlp: error:` line on bad input."""
    tune_cpu_memory()  # before JAX's first computation
    try:
        COMMANDS[args.command](args)
    except TrainingInterruptedError as stop:
        print(f"keras-gmlp: {stop}", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OSError) as error:
        print(f"keras-gmlp: error: {error}", file=sys.stderr)
        return 1
    except tf.errors.InvalidArgumentError as error:  # a file PIL read, TF can't
        print(
            f"keras-gmlp: error: cannot decode an image: {error.message}",
            file=sys.stderr,
        )
        return 1
    return 0


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
    output = pathlib.Path(args.output)
    run_area = training_area(output)
    check_train_destination(args, output, run_area)
    keras.utils.set_random_seed(args.seed)
    data = read_train_data(args)
    class_names = sorted_class_names(data.label_names)
    labels = label_indices(data.label_names, class_names, args.data)
    train_indices, validation_indices = split_indices(
        labels, args.validation_split, args.seed, args.limit
    )
    classifier = build_classifier(args, data, len(class_names))
    start_run(args, run_area)
    train_data = model_data(classifier, data, labels, train_indices, args, True)
    validation_data = model_data(
        classifier, data, labels, validation_indices, args, False
    )
    start = time.perf_counter()
    try:
        fit_in_phases(classifier, train_data, validation_data, args, run_area)
    except KeyboardInterrupt:
        raise TrainingInterruptedError(interruption_message(args, run_area)) from None
    except ValueError:
        shutil.rmtree(run_area, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    held_out = classifier.evaluate(**validation_data, return_dict=True, verbose=0)
    metrics = {
        "accuracy": held_out["accuracy"],
        "loss": held_out["loss"],
        "train_examples": len(train_indices),
        "validation_examples": len(validation_indices),
        "epochs": args.epochs,
        "head_epochs": args.head_epochs,
        "seconds": round(seconds, 1),
        "backend": keras.backend.backend(),
        "data": args.data or "keras_gmlp.data.load_digits()",
        "preset": args.preset,
    }
    save_trained(classifier, output, class_names, metrics, run_area)
    shutil.rmtree(run_area)
    print(
        f"held-out accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f} "
        f"({len(validation_indices)} examples), {seconds:.1f} s"
    )
    print(f"wrote {args.output}")


def training_area(output):
    """Where a run of `train` into `output` keeps its checkpoints until the
    preset is written: a hidden folder beside it."""
    return output.parent / f".{output.name}.training"


def check_train_destination(args, output, run_area):
    """Refuses, before any data is read, to overwrite a preset or an
    interrupted run unasked, or to resume what isn't there."""
    check_preset_destination(output)
    if args.resume and not run_area.is_dir():
        raise ValueError(f"there is no interrupted run of '{output}' to --resume.")
    if run_area.is_dir() and not (args.resume or args.overwrite):
        raise ValueError(
            f"'{output}' has an interrupted run: add --resume to continue it, "
            "or --overwrite to start again."
        )
    if output.exists() and any(output.iterdir()) and not args.overwrite:
        raise ValueError(
            f"'{output}' exists: add --overwrite to replace it, or choose "
            "another --output."
        )
    if args.resume:
        check_same_run(args, run_area)
    elif run_area.is_dir():
        shutil.rmtree(run_area)


def run_options(args):
    options = {name: getattr(args, name) for name in RUN_OPTIONS}
    if options["data"] is not None:
        options["data"] = str(pathlib.Path(options["data"]).absolute())
    return options


def start_run(args, run_area):
    run_area.mkdir(parents=True, exist_ok=True)
    (run_area / "run.json").write_text(json.dumps(run_options(args), indent=2))


def check_same_run(args, run_area):
    recorded = json.loads((run_area / "run.json").read_text())
    changed = {
        name: (recorded.get(name), value)
        for name, value in run_options(args).items()
        if recorded.get(name) != value
    }
    if changed:
        differences = ", ".join(
            f"--{name.replace('_', '-')} {was} (now {now})"
            for name, (was, now) in changed.items()
        )
        raise ValueError(
            f"--resume continues a run with the same options; the interrupted "
            f"run had {differences}."
        )


def interruption_message(args, run_area):
    done = ", ".join(
        f"{finished_epochs(run_area / phase)} of {epochs} {name}"
        for phase, epochs, name in training_phases(args)
    )
    return f"interrupted after {done}. Run the same command with --resume to continue."


def finished_epochs(phase_area):
    """The epochs a phase's checkpoint holds (Keras' `BackupAndRestore`)."""
    metadata = phase_area / "training_metadata.json"
    return json.loads(metadata.read_text())["epoch"] if metadata.exists() else 0


def training_phases(args):
    """`(folder, epochs, name)` of each phase: the head alone, then all."""
    phases = [
        ("head", args.head_epochs, "head-only epochs"),
        ("all", args.epochs, "epochs"),
    ]
    return [phase for phase in phases if phase[1]]


def fit_in_phases(classifier, train_data, validation_data, args, run_area):
    """Trains the head alone for `--head-epochs`, then everything for
    `--epochs`, checkpointing each epoch under `run_area` so that a resumed
    run starts from the last finished one."""
    for phase, epochs, _ in training_phases(args):
        classifier.backbone.trainable = phase != "head"
        steps = epochs * steps_per_epoch(train_data, args.batch_size)
        classifier.compile(
            optimizer=keras.optimizers.AdamW(
                learning_schedule(args.learning_rate, steps)
            ),
            metrics=accuracy_metrics(),
        )
        history = classifier.fit(
            **train_data,
            validation_data=as_validation_data(validation_data),
            epochs=epochs,
            shuffle="y" in train_data,  # a dataset of image files shuffles itself
            callbacks=[
                keras.callbacks.TerminateOnNaN(),
                keras.callbacks.BackupAndRestore(
                    str(run_area / phase),
                    double_checkpoint=True,
                    delete_checkpoint=False,
                ),
                keras.callbacks.CSVLogger(str(run_area / f"{phase}.csv"), append=True),
            ],
            verbose="auto",
        )
        check_finite_loss(history)


def steps_per_epoch(train_data, batch_size):
    x = train_data["x"]
    if isinstance(x, tf.data.Dataset):
        return int(x.cardinality())
    return -(-len(x) // batch_size)


def check_finite_loss(history):
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise ValueError(
            f"the training loss became {losses[-1]} in epoch {len(losses)}; "
            "training stopped and nothing was saved. Try a lower --learning-rate."
        )


def read_train_data(args):
    """`--data`, or the digits that ship with keras_gmlp; two classes or more."""
    if args.data is None:
        images, labels = load_digits()
        label_names = [str(label) for label in labels]
        return Data("image", images, label_names, images.shape[1])
    data = read_data(args.data, args.text_column, args.label_column)
    if len(set(data.label_names)) < 2:
        raise ValueError(
            f"--data '{args.data}' has only one class ({data.label_names[0]}); "
            "a classifier needs at least two."
        )
    return data


def model_data(classifier, data, labels, indices, args, shuffle):
    """The `fit`/`evaluate` arguments for `data`'s examples at `indices`:
    image files as a dataset decoded batch by batch, arrays as they are."""
    examples = data.examples
    if data.modality == "image" and not isinstance(examples, np.ndarray):
        paths = [examples[index] for index in indices]
        size = image_size(classifier)
        batches = image_file_batches(
            paths, labels[indices], size, args.batch_size, shuffle
        )
        return {"x": batches}
    return {
        "x": np.asarray(examples)[indices],
        "y": labels[indices],
        "batch_size": args.batch_size,
    }


def as_validation_data(data):
    """`model_data`'s arguments as `fit`'s `validation_data`."""
    return (data["x"], data["y"]) if "y" in data else data["x"]


def learning_schedule(learning_rate, steps):
    """A short linear warm-up, then a cosine decay to zero."""
    warmup_steps = max(1, steps // 10)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, steps - warmup_steps),
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def build_classifier(args, data, num_classes):
    """The classifier that `train` starts from."""
    dtype = checked_dtype(args.dtype)
    new_size = {}
    if args.image_size:
        if data.modality != "image":
            raise ValueError("--image-size is for images, but --data holds texts.")
        new_size["image_shape"] = (args.image_size, args.image_size, 3)
    if args.preset is None and data.modality == "image":
        if data.largest_side <= SMALL_IMAGE_SIDE:
            return small_image_classifier(num_classes, dtype, **new_size)
        return GMLPClassifier.from_preset(
            PHOTO_PRESET,
            num_classes=num_classes,
            load_weights=False,
            dtype=dtype,
            **new_size,
        )
    preset = args.preset or DEFAULT_TEXT_PRESET
    if preset in PRESETS and not PRESETS[preset]["has_weights"]:
        if not args.random_init:
            raise ValueError(
                f"preset '{preset}' ships no weights: add --random-init to train "
                "it from scratch."
            )
    load_weights = not args.random_init
    preset_kind = preset_modality(resolve_preset(preset, load_weights))
    if preset_kind != data.modality:
        raise ValueError(
            f"preset '{preset}' is for {preset_kind}s, but --data "
            f"'{args.data}' holds {data.modality}s."
        )
    return GMLPClassifier.from_preset(
        preset,
        num_classes=num_classes,
        load_weights=load_weights,
        dtype=dtype,
        **new_size,
    )


def checked_dtype(dtype):
    """`--dtype` as a Keras dtype policy name, or `None` for the default."""
    if dtype is None:
        return None
    try:
        keras.DTypePolicy(dtype)
    except ValueError as error:
        raise ValueError(
            f"--dtype {dtype!r} is not a Keras dtype policy, such as float32, "
            "bfloat16 or mixed_bfloat16."
        ) from error
    return dtype


def small_image_classifier(num_classes, dtype=None, image_shape=None):
    """The default classifier for small images, `SMALL_IMAGE_MODEL` with
    random weights, at `image_shape` if given."""
    config = dict(SMALL_IMAGE_MODEL, image_shape=image_shape or (16, 16, 3))
    backbone = models.GMLPBackbone(**config, dtype=dtype)
    converter = models.GMLPImageConverter(
        image_size=config["image_shape"][:2], scale=1 / 255, offset=0.0
    )
    preprocessor = models.GMLPImageClassifierPreprocessor(converter)
    return models.GMLPImageClassifier(
        backbone, num_classes=num_classes, preprocessor=preprocessor
    )


def accuracy_metrics():
    """The metrics of `train`, named as they print them."""
    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def save_trained(classifier, output, class_names, metrics, run_area):
    """Saves the preset with its class names, metrics and training plot, all
    in one atomic replacement of `output`."""
    # A fresh optimizer: the trained one's moments would double the preset's
    # size, and every load would warn that it skips them.
    classifier.compile(metrics=accuracy_metrics())
    with staged_preset_directory(output) as staging:
        classifier.save_to_preset(staging)
        staging = pathlib.Path(staging)
        write_json(staging / CLASS_NAMES_FILE, class_names)
        write_json(staging / METRICS_FILE, metrics)
        if has_matplotlib():
            history = [
                run_area / f"{phase}.csv"
                for phase in ("head", "all")
                if (run_area / f"{phase}.csv").exists()
            ]
            visualize.plot_training_history(history, staging / TRAINING_PLOT)


def evaluate(args):
    data = read_data(args.data, args.text_column, args.label_column)
    classifier, class_names = load_trained(args.preset)
    check_modality(args.preset, classifier, data.modality)
    class_names = class_names or sorted_class_names(data.label_names)
    if len(class_names) != classifier.num_classes:
        raise ValueError(
            f"--data '{args.data}' has {len(class_names)} classes, but the "
            f"classifier of '{args.preset}' has {classifier.num_classes}."
        )
    output = checked_output(args.output, (".json",))
    labels = label_indices(data.label_names, class_names, args.data)
    everything = np.arange(len(labels))
    inputs = model_data(classifier, data, labels, everything, args, False)
    inputs.pop("y", None)
    probabilities = class_probabilities(classifier, classifier.predict(**inputs))
    report = evaluation_report(probabilities, labels, class_names)
    print(
        f"loss {report['loss']:.4f}, accuracy {report['accuracy']:.4f} "
        f"({len(labels)} examples)"
    )
    if output:
        write_json(output, report)
        if has_matplotlib():
            visualize.plot_confusion_matrix(
                np.array(report["confusion_matrix"]),
                class_names,
                output.parent / CONFUSION_PLOT,
            )
        print(f"wrote {output}")


def evaluation_report(probabilities, labels, class_names):
    """Accuracy, cross-entropy loss, each class's precision and recall, and
    the confusion matrix (rows: true classes, columns: predicted)."""
    predicted = probabilities.argmax(axis=-1)
    count = len(class_names)
    confusion = np.zeros((count, count), "int64")
    np.add.at(confusion, (labels, predicted), 1)
    true_positives = np.diag(confusion)
    per_class = {
        name: {
            "precision": ratio(true_positives[i], confusion[:, i].sum()),
            "recall": ratio(true_positives[i], confusion[i].sum()),
            "examples": int(confusion[i].sum()),
        }
        for i, name in enumerate(class_names)
    }
    chosen = probabilities[np.arange(len(labels)), labels]
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "loss": float(-np.mean(np.log(np.maximum(chosen, 1e-12)))),
        "examples": len(labels),
        "class_names": list(class_names),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
    }


def ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else 0.0


def predict(args):
    classifier, class_names = load_trained(args.preset)
    class_names = class_names or [str(i) for i in range(classifier.num_classes)]
    if args.top_k > classifier.num_classes:
        raise ValueError(
            f"--top-k {args.top_k} is more than the classifier's "
            f"{classifier.num_classes} classes."
        )
    output = checked_output(args.output, (".csv", ".json"))
    if modality_of(classifier) == "text":
        names, lines = read_lines(args.files)
        outputs = classifier.predict(
            np.array(lines), batch_size=args.batch_size, verbose=0
        )
    else:
        paths = image_paths(args.files)
        names = [str(path) for path in paths]
        batches = image_file_batches(
            paths, None, image_size(classifier), args.batch_size
        )
        outputs = classifier.predict(batches, verbose=0)
    probabilities = class_probabilities(classifier, outputs)
    top = np.argsort(-probabilities, axis=-1)[:, : args.top_k]
    predictions = [
        {
            "path": name,
            "classes": [class_names[i] for i in indices],
            "probabilities": [round(float(p[i]), 6) for i in indices],
        }
        for name, indices, p in zip(names, top, probabilities, strict=True)
    ]
    for prediction in predictions:
        pairs = zip(prediction["classes"], prediction["probabilities"], strict=True)
        print("\t".join([prediction["path"], *(f"{c}\t{p:.4f}" for c, p in pairs)]))
    if output:
        write_predictions(predictions, output)


def write_predictions(predictions, path):
    """Predictions as a JSON list, or CSV rows of the path and each class
    with its probability."""
    if path.suffix.lower() == ".json":
        write_json(path, predictions)
        return
    top_k = len(predictions[0]["classes"])
    header = ["path"] + [
        f"{column}_{rank}"
        for rank in range(1, top_k + 1)
        for column in ("class", "probability")
    ]
    rows = [
        [
            p["path"],
            *(
                x
                for pair in zip(p["classes"], p["probabilities"], strict=True)
                for x in pair
            ),
        ]
        for p in predictions
    ]
    write_text(path, "\n".join(csv_line(row) for row in [header, *rows]) + "\n")


def csv_line(cells):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def class_probabilities(classifier, outputs):
    """The classifier's outputs as probabilities: a softmax of its logits."""
    outputs = keras.ops.convert_to_numpy(keras.ops.cast(outputs, "float32"))
    if classifier.activation is not None:
        return outputs
    return keras.ops.convert_to_numpy(keras.ops.softmax(outputs, axis=-1))


def checked_output(output, suffixes):
    """`--output` as a path, refused before any work unless it ends in one
    of `suffixes`."""
    if output is None:
        return None
    path = pathlib.Path(output)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"--output '{output}' must end in {' or '.join(suffixes)}.")
    if path.is_dir():
        raise ValueError(f"--output '{output}' is a folder; give a file name.")
    return path


def write_json(path, value):
    write_text(path, json.dumps(value, indent=2) + "\n")


def write_text(path, text):
    """Writes `path` whole or not at all: to a temporary file, then renamed."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def has_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


def load_trained(preset):
    """A saved classifier and its class names (`None` if it has none)."""
    classifier = GMLPClassifier.from_preset(preset)
    names_file = pathlib.Path(preset) / CLASS_NAMES_FILE
    if not names_file.is_file():
        return classifier, None
    try:
        class_names = json.loads(names_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"'{names_file}' is not a JSON file: {error}") from error
    if not (
        isinstance(class_names, list)
        and all(isinstance(name, str) for name in class_names)
        and len(class_names) == classifier.num_classes
    ):
        raise ValueError(
            f"'{names_file}' must hold a JSON list of {classifier.num_classes} "
            "class names, one a class."
        )
    return classifier, class_names


def modality_of(classifier):
    return classifier.backbone.modality


def image_size(classifier):
    return tuple(classifier.backbone.image_shape[:2])


def check_modality(preset, classifier, modality):
    if modality_of(classifier) != modality:
        raise ValueError(
            f"'{preset}' classifies {modality_of(classifier)}s, but --data "
            f"holds {modality}s."
        )


COMMANDS = {
    "presets": list_presets,
    "convert": convert,
    "train": train,
    "evaluate": evaluate,
    "predict": predict,
}
