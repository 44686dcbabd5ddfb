import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import torch

from keras_gmlp.cli import build_classifier
from keras_gmlp.cli_data import Data
from keras_gmlp.cli_data import sorted_class_names
from keras_gmlp.data import load_digits
from keras_gmlp.models import GMLPClassifier
from keras_gmlp_cli import BACKENDS
from keras_gmlp_cli import build_parser
from keras_gmlp_cli import main
from tests.helpers import to_numpy

CHECKPOINT = pathlib.Path(__file__).parent / "data" / "timm_gmlp_tiny"


def test_presets_lists_every_named_preset(capsys):
    assert main(["presets"]) == 0
    output = capsys.readouterr().out
    assert "gmlp_s16_224_imagenet" in output and "amlp_tiny_text_test" in output


def test_convert_writes_a_native_preset_with_timm_logits(tmp_path):
    assert main(["convert", str(CHECKPOINT), str(tmp_path / "preset")]) == 0
    reference = np.load(CHECKPOINT / "reference.npz")
    classifier = GMLPClassifier.from_preset(str(tmp_path / "preset"))
    logits = to_numpy(classifier(reference["inputs_nchw"].transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(logits, reference["logits"], atol=1e-4, rtol=0)


def test_bad_source_is_one_line_and_a_non_zero_exit(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("keras-gmlp: error: Unknown preset")
    assert error.count("\n") == 1


def write_image_folder(root, sizes=None):
    """Two classes of tiny PNGs: bright on the left ("cat") or the right
    ("dog"); `sizes` maps a class to its images' (height, width)."""
    sizes = {"cat": (8, 8), "dog": (8, 8), **(sizes or {})}
    for column, name in enumerate(sizes):
        height, width = sizes[name]
        (root / name).mkdir(parents=True)
        for index in range(4):
            image = np.zeros((height, width, 3), "uint8")
            image[:, column * width // 2 : (column + 1) * width // 2] = 200 + index
            keras.utils.save_img(root / name / f"{index}.png", image)
    return root


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(argv, capsys):
    """`main(argv)`'s exit code, stdout and stderr; argument errors exit."""
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained_on_images(tmp_path_factory):
    """A folder of images and a classifier trained on it for one epoch."""
    root = tmp_path_factory.mktemp("images")
    # A 12x10 class next to an 8x8 one: the reader resizes mixed sizes.
    folder = write_image_folder(root / "images", sizes={"dog": (12, 10)})
    output = root / "model"
    train = ["train", "--data", str(folder), "--epochs", "1", "--batch-size", "4"]
    assert main([*train, "--output", str(output)]) == 0
    return folder, output


def test_train_writes_a_preset_with_metrics_and_class_names(trained_on_images):
    _, output = trained_on_images
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["train_examples"] == 6 and metrics["validation_examples"] == 2
    assert metrics["epochs"] == 1 and metrics["backend"] == keras.backend.backend()
    assert 0 <= metrics["accuracy"] <= 1 and metrics["seconds"] > 0
    assert json.loads((output / "class_names.json").read_text()) == ["cat", "dog"]
    assert GMLPClassifier.from_preset(str(output)).num_classes == 2


def test_evaluate_prints_loss_and_accuracy(trained_on_images, capsys):
    folder, output = trained_on_images
    code, out, _ = run(["evaluate", str(output), "--data", str(folder)], capsys)
    assert code == 0 and "accuracy" in out and "(8 examples)" in out


def test_predict_prints_a_class_name_per_image(trained_on_images, capsys):
    folder, output = trained_on_images
    images = [str(folder / "cat" / "0.png"), str(folder / "dog" / "1.png")]
    code, out, _ = run(["predict", str(output), *images], capsys)
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == images
    assert all(row[1] in {"cat", "dog"} and 0.5 <= float(row[2]) <= 1 for row in rows)


def test_predict_names_an_unreadable_image(trained_on_images, tmp_path, capsys):
    _, output = trained_on_images
    (tmp_path / "broken.png").write_bytes(b"not a png")
    code, _, error = run(["predict", str(output), str(tmp_path / "broken.png")], capsys)
    assert code == 1 and error.count("\n") == 1
    assert f"cannot read image '{tmp_path / 'broken.png'}'" in error


def test_train_evaluate_predict_on_a_csv_of_texts(tmp_path, capsys):
    rows = [("a great film", "good"), ("an awful film", "bad")] * 4
    data = write_csv(tmp_path / "reviews.csv", ["review", "stars"], rows)
    output = tmp_path / "model"
    columns = ["--text-column", "review", "--label-column", "stars"]
    train = ["train", "--data", str(data), *columns, "--epochs", "1"]
    code, _, _ = run([*train, "--output", str(output)], capsys)
    assert code == 0
    assert json.loads((output / "class_names.json").read_text()) == ["bad", "good"]

    evaluate = ["evaluate", str(output), "--data", str(data), *columns]
    code, out, _ = run(evaluate, capsys)
    assert code == 0 and "(8 examples)" in out
    texts = tmp_path / "texts.txt"
    texts.write_text("a great film\n\nan awful film\n")
    code, out, _ = run(["predict", str(output), str(texts)], capsys)
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == [f"{texts}:1", f"{texts}:3"]
    assert all(row[1] in {"bad", "good"} for row in rows)


def test_train_defaults_to_the_digits_that_ship_with_the_package(tmp_path, capsys):
    output = tmp_path / "digits"
    argv = ["train", "--limit", "40", "--epochs", "1", "--output", str(output)]
    code, _, _ = run(argv, capsys)
    assert code == 0
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["train_examples"] + metrics["validation_examples"] == 40
    assert 4 <= metrics["validation_examples"] <= 12  # each class holds out a fifth
    class_names = json.loads((output / "class_names.json").read_text())
    assert class_names == [str(digit) for digit in range(10)]

    images, _ = load_digits()
    keras.utils.save_img(tmp_path / "digit.png", images[0])
    code, out, _ = run(["predict", str(output), str(tmp_path / "digit.png")], capsys)
    assert code == 0 and out.split("\t")[1] in class_names


def test_load_digits_returns_rgb_uint8_images_and_ten_classes():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8, 3) and images.dtype == "uint8"
    assert images.max() == 255 and (images[..., 0] == images[..., 2]).all()
    assert labels.shape == (1797,) and sorted(set(labels)) == list(range(10))


def test_numeric_labels_sort_as_numbers():
    assert sorted_class_names(["10", "9", "2", "10"]) == ["2", "9", "10"]
    assert sorted_class_names(["dog", "cat"]) == ["cat", "dog"]


def _one_class(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    shutil.rmtree(folder / "dog")
    return ["train", "--data", str(folder)]


def _corrupt_image(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    (folder / "dog" / "broken.png").write_bytes(b"not a png")
    return ["train", "--data", str(folder)]


def _truncated_image(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    image = (folder / "cat" / "0.png").read_bytes()
    (folder / "cat" / "broken.png").write_bytes(image[: len(image) // 2])
    return ["train", "--data", str(folder)]


def _csv_without_columns(tmp_path):
    rows = [("fine", "1"), ("bad", "0")]
    data = write_csv(tmp_path / "data.csv", ["sentence", "sentiment"], rows)
    return ["train", "--data", str(data)]


def _unknown_train_preset(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    return ["train", "--data", str(folder), "--preset", str(tmp_path / "nope")]


def _preset_without_weights(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    return ["train", "--data", str(folder), "--preset", "gmlp_ti16_224"]


def _text_preset_for_images(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    return ["train", "--data", str(folder), "--preset", "amlp_tiny_text_test"]


def _unknown_evaluate_preset(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    return ["evaluate", str(tmp_path / "nope"), "--data", str(folder)]


def _unknown_predict_preset(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    return ["predict", str(tmp_path / "nope"), str(folder / "cat" / "0.png")]


def _images_with(*options):
    def make_argv(tmp_path):
        folder = write_image_folder(tmp_path / "images")
        return ["train", "--data", str(folder), *options]

    return make_argv


def _csv_with_an_empty_text(tmp_path):
    rows = [("fine", "1"), ("  ", "0"), ("bad", "0")]
    data = write_csv(tmp_path / "data.csv", ["text", "label"], rows)
    return ["train", "--data", str(data)]


def _existing_output(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "config.json").write_text("{}")
    return _images_with("--output", str(tmp_path / "out"))(tmp_path)


def _image_size_for_texts(tmp_path):
    rows = [("a", "1"), ("b", "0")] * 4
    data = write_csv(tmp_path / "data.csv", ["text", "label"], rows)
    return ["train", "--data", str(data), "--image-size", "32"]


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (print, ("code ran",))


def _checkpoint_holding_code(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    shutil.copy(CHECKPOINT / "config.json", checkpoint)
    torch.save({"payload": RunsCodeWhenUnpickled()}, checkpoint / "pytorch_model.bin")
    return ["convert", str(checkpoint), str(tmp_path / "out")]


BAD_INPUTS = {
    "no epochs": (_images_with("--epochs", "0"), ["--epochs: must be at least 1"]),
    "negative head epochs": (
        _images_with("--head-epochs", "-1"),
        ["--head-epochs: must be 0 or more"],
    ),
    "nan learning rate": (
        _images_with("--learning-rate", "nan"),
        ["--learning-rate: must be a finite number above 0, got nan"],
    ),
    "negative learning rate": (
        _images_with("--learning-rate=-1e-3"),
        ["--learning-rate: must be a finite number above 0"],
    ),
    "validation split of one": (
        _images_with("--validation-split", "1"),
        ["--validation-split: must be between 0 and 1"],
    ),
    "unknown dtype": (_images_with("--dtype", "float7"), ["--dtype 'float7'"]),
    "image size off the patch grid": (
        _images_with("--image-size", "15"),
        ["multiples of the patch size 2", "[14, 16]"],
    ),
    "image size for texts": (_image_size_for_texts, ["--image-size is for images"]),
    "resume without a run": (_images_with("--resume"), ["no interrupted run"]),
    "existing output": (_existing_output, ["exists: add --overwrite"]),
    "csv with an empty text": (_csv_with_an_empty_text, ["line 3 has an empty text"]),
    "negative evaluate batch size": (
        lambda tmp_path: ["evaluate", "p", "--data", "d", "--batch-size", "-1"],
        ["--batch-size: must be at least 1, got -1"],
    ),
    "checkpoint holding code": (
        _checkpoint_holding_code,
        ["holds more than tensors", "so it was refused"],
    ),
    "no top k": (
        lambda tmp_path: ["predict", "p", "x.png", "--top-k", "0"],
        ["--top-k: must be at least 1"],
    ),
    "missing folder": (
        lambda tmp_path: ["train", "--data", str(tmp_path / "missing")],
        ["missing' does not exist"],
    ),
    "one class": (_one_class, ["only one class (cat)"]),
    "corrupt image": (_corrupt_image, ["broken.png", "corrupt or not an image"]),
    "truncated image": (_truncated_image, ["broken.png", "corrupt or not an image"]),
    "csv without columns": (
        _csv_without_columns,
        ["no column 'text', 'label'", "columns are: 'sentence', 'sentiment'"],
    ),
    "unknown train preset": (_unknown_train_preset, ["Unknown preset", "nope"]),
    "preset without weights": (_preset_without_weights, ["--random-init"]),
    "text preset for images": (_text_preset_for_images, ["is for texts"]),
    "unknown evaluate preset": (_unknown_evaluate_preset, ["Unknown preset", "nope"]),
    "unknown predict preset": (_unknown_predict_preset, ["Unknown preset", "nope"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_and_a_non_zero_exit(case, tmp_path, capsys):
    make_argv, expected = BAD_INPUTS[case]
    code, _, error = run(make_argv(tmp_path), capsys)
    assert code in (1, 2)  # 2: refused by the argument parser
    assert error.startswith("keras-gmlp: error: ") and error.count("\n") == 1
    for text in expected:
        assert text in error


def test_python_m_keras_gmlp_switches_backend_and_reports_bad_data_last(tmp_path):
    # `--backend` restarts the command under another backend; the one-line
    # error survives the restart. One process for both checks: each start
    # imports keras-hub anew.
    other = next(b for b in BACKENDS if b != keras.backend.backend())
    command = [sys.executable, "-m", "keras_gmlp", "--backend", other, "train"]
    result = subprocess.run(
        [*command, "--data", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"keras-gmlp: error: --data '{tmp_path / 'x'}' does not exist."


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"0": "cat", "1": "dog"}', "must hold a JSON list of 2 class names"),
        ('["cat"]', "must hold a JSON list of 2 class names"),
        ("[cat", "is not a JSON file"),
    ],
)
def test_bad_class_names_are_one_line(
    trained_on_images, tmp_path, capsys, content, expected
):
    folder, output = trained_on_images
    broken = tmp_path / "model"
    shutil.copytree(output, broken)
    (broken / "class_names.json").write_text(content)
    code, _, error = run(["predict", str(broken), str(folder)], capsys)
    assert code == 1 and error.count("\n") == 1 and expected in error


def test_predict_refuses_more_classes_than_the_classifier_has(
    trained_on_images, capsys
):
    folder, output = trained_on_images
    code, _, error = run(["predict", str(output), str(folder), "--top-k", "3"], capsys)
    assert code == 1 and "--top-k 3 is more than the classifier's 2 classes" in error


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_predict_on_a_folder_writes_the_top_k_of_each_image(
    trained_on_images, tmp_path, capsys, suffix
):
    folder, output = trained_on_images
    written = tmp_path / f"predictions{suffix}"
    argv = [
        "predict",
        str(output),
        str(folder),
        "--top-k",
        "2",
        "--output",
        str(written),
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0 and len(out.splitlines()) == 8
    if suffix == ".json":
        predictions = json.loads(written.read_text())
        paths = [p["path"] for p in predictions]
        assert all(sorted(p["classes"]) == ["cat", "dog"] for p in predictions)
        assert all(abs(sum(p["probabilities"]) - 1) < 1e-4 for p in predictions)
    else:
        header, *rows = [line.split(",") for line in written.read_text().splitlines()]
        assert header == [
            "path",
            "class_1",
            "probability_1",
            "class_2",
            "probability_2",
        ]
        paths = [row[0] for row in rows]
        assert all(float(row[2]) >= float(row[4]) for row in rows)
    assert paths == sorted(str(path) for path in folder.rglob("*.png"))


def test_evaluate_writes_its_metrics_and_a_confusion_plot(
    trained_on_images, tmp_path, capsys
):
    folder, output = trained_on_images
    written = tmp_path / "report" / "metrics.json"
    argv = ["evaluate", str(output), "--data", str(folder), "--output", str(written)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    report = json.loads(written.read_text())
    assert report["examples"] == 8 and report["class_names"] == ["cat", "dog"]
    confusion = np.array(report["confusion_matrix"])
    assert confusion.shape == (2, 2) and confusion.sum() == 8
    assert report["accuracy"] == pytest.approx(np.trace(confusion) / 8)
    assert f"accuracy {report['accuracy']:.4f}" in out
    for name, row in zip(["cat", "dog"], confusion, strict=True):
        assert report["per_class"][name]["examples"] == row.sum() == 4
        assert 0 <= report["per_class"][name]["precision"] <= 1
    assert (tmp_path / "report" / "confusion.png").stat().st_size > 0


def test_train_writes_a_training_plot(trained_on_images):
    _, output = trained_on_images
    assert (output / "training.png").stat().st_size > 0
    assert not (output.parent / ".model.training").exists()


def test_csv_labels_lose_surrounding_whitespace(tmp_path, capsys):
    rows = [("a great film", " good"), ("an awful film", "bad ")] * 4
    data = write_csv(tmp_path / "reviews.csv", ["text", "label"], rows)
    output = tmp_path / "model"
    argv = ["train", "--data", str(data), "--epochs", "1", "--output", str(output)]
    code, _, _ = run(argv, capsys)
    assert code == 0
    assert json.loads((output / "class_names.json").read_text()) == ["bad", "good"]


def test_overwrite_replaces_the_output_and_leaves_no_old_file(
    trained_on_images, tmp_path, capsys
):
    folder, trained = trained_on_images
    output = tmp_path / "model"
    shutil.copytree(trained, output)
    (output / "stale.json").write_text("{}")
    train = ["train", "--data", str(folder), "--epochs", "1", "--output", str(output)]
    code, _, error = run(train, capsys)
    assert code == 1 and "exists: add --overwrite" in error
    assert (output / "stale.json").exists()
    code, _, _ = run([*train, "--overwrite"], capsys)
    assert code == 0
    assert not (output / "stale.json").exists()
    assert (output / "class_names.json").exists()


def test_ctrl_c_then_resume_continues_from_the_last_finished_epoch(
    tmp_path, capsys, monkeypatch
):
    output = tmp_path / "digits"
    train = ["train", "--limit", "60", "--epochs", "3", "--output", str(output)]
    save_checkpoint = keras.callbacks.BackupAndRestore.on_epoch_end

    def interrupted_after_the_first_epoch(callback, epoch, logs=None):
        save_checkpoint(callback, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(
        keras.callbacks.BackupAndRestore,
        "on_epoch_end",
        interrupted_after_the_first_epoch,
    )
    code, _, error = run(train, capsys)
    assert code == 130
    assert error == (
        "keras-gmlp: interrupted after 1 of 3 epochs. Run the same command with "
        "--resume to continue.\n"
    )
    assert not output.exists()
    monkeypatch.undo()

    code, _, error = run([*train, "--epochs", "4", "--resume"], capsys)
    assert code == 1 and "--epochs 3 (now 4)" in error
    code, out, _ = run([*train, "--resume"], capsys)
    assert code == 0
    assert "Epoch 2/3" in out and "Epoch 3/3" in out and "Epoch 1/3" not in out
    assert json.loads((output / "metrics.json").read_text())["epochs"] == 3
    assert not (tmp_path / ".digits.training").exists()


def test_head_epochs_train_the_head_alone_first(tmp_path, capsys, monkeypatch):
    trainable = []
    fit = keras.Model.fit

    def recording_fit(model, *args, **kwargs):
        trainable.append((kwargs["epochs"], model.backbone.trainable))
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    output = tmp_path / "digits"
    argv = ["train", "--limit", "40", "--head-epochs", "2", "--epochs", "1"]
    code, _, _ = run([*argv, "--output", str(output)], capsys)
    assert code == 0 and trainable == [(2, False), (1, True)]


def test_a_diverging_loss_stops_training_and_saves_nothing(tmp_path, capsys):
    output = tmp_path / "digits"
    argv = ["train", "--limit", "40", "--epochs", "2", "--learning-rate", "1e30"]
    code, _, error = run([*argv, "--output", str(output)], capsys)
    assert code == 1 and error.count("\n") == 1
    assert "the training loss became" in error and "nothing was saved" in error
    assert not output.exists() and not (tmp_path / ".digits.training").exists()


def test_photos_get_a_gmlp_ti_sized_model_and_image_size_resizes_it():
    args = build_parser().parse_args(["train", "--image-size", "32"])
    photos = Data("image", [], ["a", "b"], largest_side=64)
    classifier = build_classifier(args, photos, num_classes=2)
    assert (
        classifier.backbone.num_layers == 30 and classifier.backbone.hidden_dim == 128
    )
    assert classifier.backbone.image_shape == (32, 32, 3)
    digits = Data("image", [], ["a", "b"], largest_side=8)
    assert build_classifier(args, digits, num_classes=2).backbone.num_layers == 4


def test_dtype_sets_the_policy_of_the_trained_model(tmp_path, capsys):
    output = tmp_path / "digits"
    argv = ["train", "--limit", "40", "--epochs", "1", "--dtype", "mixed_bfloat16"]
    code, _, _ = run([*argv, "--output", str(output)], capsys)
    assert code == 0
    config = json.loads((output / "config.json").read_text())
    assert config["config"]["dtype"]["config"]["name"] == "mixed_bfloat16"
    # keras-hub loads a task in the default policy; the weights are float32.
    classifier = GMLPClassifier.from_preset(str(output))
    assert classifier.predict(load_digits()[0][:2], verbose=0).shape == (2, 10)


QUIET_RUN = """
import sys
from keras_gmlp_cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(name for name in ("keras", "tensorflow") if name in sys.modules))
"""


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["predict", "-h"]])
def test_help_loads_neither_keras_nor_tensorflow(argv):
    result = subprocess.run(
        [sys.executable, "-c", QUIET_RUN, *argv], capture_output=True, text=True
    )
    assert "usage: keras-gmlp" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_run_writes_nothing_to_stderr(tmp_path):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "TF_CPP_MIN_LOG_LEVEL"
    }
    argv = ["train", "--limit", "30", "--epochs", "1", "--output", str(tmp_path / "m")]
    result = subprocess.run(
        [sys.executable, "-c", QUIET_RUN, *argv],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert "held-out accuracy" in result.stdout
    assert result.stderr == ""
