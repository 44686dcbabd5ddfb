import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPMaskedLM
from keras_gmlp.models import GMLPTextClassifier
from tests.helpers import to_numpy

PRESET = "amlp_tiny_text_test"
TEXTS = ["a value and a file", "return an error", "the list of strings"] * 8


def test_fit_lowers_the_loss_and_reports_perplexity():
    lm = GMLPMaskedLM.from_preset(PRESET)
    lm.compile(optimizer=keras.optimizers.Adam(1e-2))
    # Few epochs of many steps: each epoch starts a new tf.data iterator,
    # and keras-hub's masking pipeline takes most of a second to start.
    history = lm.fit(TEXTS * 4, batch_size=8, epochs=2, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert history["perplexity"][-1] < history["perplexity"][0]


def test_predict_gives_logits_at_the_masked_positions():
    lm = GMLPMaskedLM.from_preset(PRESET)
    preprocessor = lm.preprocessor
    logits = lm.predict(TEXTS[:2], verbose=0)
    vocabulary_size = lm.backbone.vocabulary_size
    assert logits.shape == (2, preprocessor.mask_selection_length, vocabulary_size)


def test_preprocessor_masks_and_packs_without_segment_ids():
    x, y, sample_weight = GMLPMaskedLM.from_preset(PRESET).preprocessor(TEXTS[:2])
    assert set(x) == {"token_ids", "padding_mask", "mask_positions"}
    assert tuple(x["token_ids"].shape) == (2, 32)  # the backbone's maximum
    assert np.any(to_numpy(x["token_ids"]) == 4)  # some [MASK]


def test_pretrained_backbone_carries_over_to_the_classifier(tmp_path):
    lm = GMLPMaskedLM.from_preset(PRESET)
    lm.fit(TEXTS, batch_size=8, epochs=1, verbose=0)
    lm.save_to_preset(str(tmp_path))
    restored = GMLPMaskedLM.from_preset(str(tmp_path))
    inputs = lm.preprocessor(TEXTS[:2])[0]
    np.testing.assert_allclose(
        to_numpy(restored(inputs)), to_numpy(lm(inputs)), atol=1e-5
    )
    classifier = GMLPTextClassifier.from_preset(str(tmp_path), num_classes=2)
    for pretrained, loaded in zip(
        lm.backbone.weights, classifier.backbone.weights, strict=True
    ):
        np.testing.assert_array_equal(to_numpy(pretrained), to_numpy(loaded))
    assert classifier.predict(TEXTS[:2], verbose=0).shape == (2, 2)


@pytest.mark.parametrize("text", [np.array([[1, 2]]), 3])
def test_non_string_text_raises(text):
    with pytest.raises(ValueError, match="expects text"):
        GMLPMaskedLM.from_preset(PRESET).preprocessor(text)
