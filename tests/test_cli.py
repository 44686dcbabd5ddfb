import json
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gmlp.cli import BACKENDS
from keras_gmlp.cli import main
from keras_gmlp.cli import sorted_class_names
from keras_gmlp.data import load_digits
from keras_gmlp.models import GMLPClassifier
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
    """`main(argv)`'s exit code, stdout and stderr."""
    code = main(argv)
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
    assert set(out.split()) <= {"cat", "dog"} and len(out.splitlines()) == 2


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
    assert set(out.split()) <= {"bad", "good"} and len(out.splitlines()) == 2


def test_train_defaults_to_the_digits_that_ship_with_the_package(tmp_path, capsys):
    output = tmp_path / "digits"
    argv = ["train", "--limit", "40", "--epochs", "1", "--output", str(output)]
    code, _, _ = run(argv, capsys)
    assert code == 0
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["train_examples"] == 32 and metrics["validation_examples"] == 8
    class_names = json.loads((output / "class_names.json").read_text())
    assert class_names == [str(digit) for digit in range(10)]

    images, _ = load_digits()
    keras.utils.save_img(tmp_path / "digit.png", images[0])
    code, out, _ = run(["predict", str(output), str(tmp_path / "digit.png")], capsys)
    assert code == 0 and out.strip() in class_names


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


BAD_INPUTS = {
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
    assert code == 1
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
