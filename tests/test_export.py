"""Export: a TensorFlow SavedModel that serves raw images, and ONNX run in
onnxruntime, each against Keras' own logits."""

import keras
import numpy as np
import pytest

from keras_gmlp import GMLPClassifier
from tests.helpers import to_numpy

BACKEND = keras.backend.backend()
# Why a format does not export yet on a backend (README.md, "Precision and export").
SAVED_MODEL_FAILURES = {
    "jax": "jax2tf's StableHLO (jax 0.10) is newer than TensorFlow 2.21's "
    "XlaCallModule can read, and the image converter does not trace under "
    "jax.export",
    "torch": "ExportArchive cannot track Keras layers on torch, and "
    "`export(format='tf_saved_model')` fails in torch.export",
}


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    return GMLPClassifier.from_preset("gmlp_tiny_image_test", num_classes=3)


def raw_images(height=40, width=56):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(2, height, width, 3)).astype("uint8")


def export_serving_raw_images(classifier, path):
    """A SavedModel whose `serve` takes uint8 images of any size: the
    preprocessor's image converter, then the classifier."""
    converter = classifier.preprocessor.image_converter
    archive = keras.export.ExportArchive()
    archive.track(classifier)
    archive.add_endpoint(
        "serve",
        lambda images: classifier(converter(images)),
        input_signature=[keras.InputSpec(shape=(None, None, None, 3), dtype="uint8")],
    )
    archive.write_out(str(path))


@pytest.mark.skipif(
    BACKEND in SAVED_MODEL_FAILURES, reason=SAVED_MODEL_FAILURES.get(BACKEND, "")
)
def test_saved_model_serves_raw_images(classifier, tmp_path):
    import tensorflow as tf

    export_serving_raw_images(classifier, tmp_path / "serving")
    # Keep the loaded object: its functions die with it.
    reloaded = tf.saved_model.load(str(tmp_path / "serving"))
    for images in (raw_images(), raw_images(24, 24)):
        np.testing.assert_allclose(
            reloaded.serve(tf.constant(images)).numpy(),
            # Float pixels: eager Keras `Resizing` rounds uint8 images (with
            # Grain installed, as the dev extra has it), a traced one does not.
            to_numpy(classifier.predict(images.astype("float32"), verbose=0)),
            atol=1e-4,
        )


@pytest.mark.skipif(
    BACKEND in SAVED_MODEL_FAILURES, reason=SAVED_MODEL_FAILURES.get(BACKEND, "")
)
def test_plain_export_serves_preprocessed_images(classifier, tmp_path):
    import tensorflow as tf

    classifier.export(str(tmp_path / "model"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "model"))
    inputs = to_numpy(classifier.preprocessor.image_converter(raw_images()))
    np.testing.assert_allclose(
        reloaded.serve(tf.constant(inputs)).numpy(),
        to_numpy(classifier(inputs)),
        atol=1e-4,
    )


def test_onnx_runs_in_onnxruntime(classifier, tmp_path):
    import onnxruntime

    inputs = to_numpy(classifier.preprocessor.image_converter(raw_images()))
    expected = to_numpy(classifier(inputs))
    path = str(tmp_path / "classifier.onnx")
    # torch.onnx traces the weights as constants, which must not require
    # gradients, and the batch size as fixed.
    classifier.trainable = False
    try:
        classifier.export(
            path,
            format="onnx",
            verbose=False,
            input_signature=[keras.InputSpec(shape=inputs.shape, dtype="float32")],
        )
    finally:
        classifier.trainable = True
    session = onnxruntime.InferenceSession(path)
    (input_name,) = [spec.name for spec in session.get_inputs()]
    logits = session.run(None, {input_name: inputs})[0]
    np.testing.assert_allclose(logits, expected, atol=1e-4)
