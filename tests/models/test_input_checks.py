"""Bad values get clear errors where they enter, on every backend, and a
model that refused a bad call stays usable (on JAX, Keras' trainer breaks a
model for good when an error happens inside its step)."""

import numpy as np
import pytest

from keras_gmlp.models import GMLPBackbone
from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPCausalLMPreprocessor
from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models import GMLPImageClassifierPreprocessor
from keras_gmlp.models import GMLPImageConverter
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTextClassifier
from keras_gmlp.models import GMLPTextClassifierPreprocessor
from keras_gmlp.models import GMLPTokenizer

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
TEXTS = np.array(["a b", "c a b", "b"])
TEXT_SIZES = {"num_layers": 1, "hidden_dim": 8, "intermediate_dim": 16}


def image_classifier(num_classes=3):
    backbone = GMLPBackbone(
        num_layers=1,
        hidden_dim=8,
        intermediate_dim=16,
        image_shape=(16, 16, 3),
        patch_size=8,
    )
    converter = GMLPImageConverter(image_size=(16, 16), scale=1 / 255)
    preprocessor = GMLPImageClassifierPreprocessor(converter)
    return GMLPImageClassifier(backbone, num_classes, preprocessor=preprocessor)


def text_backbone(**kwargs):
    return GMLPTextBackbone(
        vocabulary_size=len(VOCABULARY), max_sequence_length=8, **TEXT_SIZES, **kwargs
    )


def text_classifier(with_preprocessor=True):
    preprocessor = None
    if with_preprocessor:
        tokenizer = GMLPTokenizer(vocabulary=VOCABULARY)
        preprocessor = GMLPTextClassifierPreprocessor(tokenizer, sequence_length=8)
    return GMLPTextClassifier(text_backbone(), 2, preprocessor=preprocessor)


def images(count=4, channels=3):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (count, 20, 20, channels)).astype("uint8")


def token_inputs(token_ids):
    token_ids = np.asarray(token_ids, "int32")
    return {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)}


@pytest.mark.parametrize("labels", [[0, 1, 3, 2], [0, -1, 2, 1], [0.5, 1, 2, 0]])
def test_fit_and_evaluate_refuse_labels_outside_the_classes(labels):
    classifier = image_classifier()
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        classifier.fit(images(), np.array(labels), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        classifier.evaluate(images(), np.array(labels), verbose=0)
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        classifier.fit(
            images(),
            [0, 1, 2, 0],
            validation_data=(images(), np.array(labels)),
            verbose=0,
        )


def test_labels_for_another_loss_are_left_to_it():
    classifier = image_classifier(num_classes=1)
    classifier.compile(loss="binary_crossentropy")
    classifier.fit(images(), np.array([0.0, 1.0, 1.0, 0.0]), epochs=1, verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_an_empty_batch_is_refused(method):
    classifier = image_classifier()
    args = (images(0), np.zeros((0,), "int32")) if method != "predict" else (images(0),)
    with pytest.raises(ValueError, match="at least one sample"):
        getattr(classifier, method)(*args, verbose=0)
    with pytest.raises(ValueError, match="at least one sample"):
        getattr(text_classifier(), method)(*(([],) + args[1:]), verbose=0)


def test_a_model_that_refused_a_bad_predict_stays_usable():
    classifier = image_classifier()
    with pytest.raises(ValueError, match="images of 3 channels.*1\\)"):
        classifier.predict(images(channels=1), verbose=0)
    with pytest.raises(ValueError, match="at least one sample"):
        classifier.predict(images(0), verbose=0)
    assert classifier.predict(images(), verbose=0).shape == (4, 3)
    text = text_classifier()
    with pytest.raises(ValueError, match="expects text"):
        text.predict(np.array([1.0, 2.0]), verbose=0)
    assert text.predict(TEXTS, verbose=0).shape == (3, 2)


def test_a_model_that_refused_a_bad_fit_still_trains():
    classifier = image_classifier()
    with pytest.raises(ValueError):
        classifier.fit(images(), np.array([0, 1, 2, 7]), epochs=1, verbose=0)
    history = classifier.fit(images(), np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("token_ids", [[[5, 8]], [[5, -1]], [[5, 100]]])
def test_token_ids_outside_the_vocabulary_are_refused(token_ids):
    backbone = text_backbone()
    with pytest.raises(ValueError, match=r"token ids in \[0, 8\)"):
        backbone(token_inputs(token_ids))
    classifier = text_classifier(with_preprocessor=False)
    with pytest.raises(ValueError, match=r"token ids in \[0, 8\)"):
        classifier.predict(token_inputs(token_ids), verbose=0)
    assert classifier.predict(token_inputs([[5, 6]]), verbose=0).shape == (1, 2)


@pytest.mark.parametrize("shape", [(1, 0), (0, 4), (1, 9)])
def test_sequences_empty_or_too_long_are_refused(shape):
    with pytest.raises(ValueError, match="at least 1 and at most 8 tokens"):
        text_backbone()(token_inputs(np.full(shape, 5)))


def test_images_of_another_shape_are_refused_by_the_backbone():
    backbone = image_classifier().backbone
    with pytest.raises(ValueError, match=r"images of shape \(batch, \*\(16, 16, 3\)\)"):
        backbone(np.zeros((1, 16, 16, 1), "float32"))


@pytest.mark.parametrize("max_length", [0, -1, 2.5])
def test_generate_refuses_a_max_length_below_one(max_length):
    backbone = text_backbone(causal=True)
    tokenizer = GMLPTokenizer(vocabulary=VOCABULARY)
    preprocessor = GMLPCausalLMPreprocessor(tokenizer, sequence_length=8)
    lm = GMLPCausalLM(backbone, preprocessor=preprocessor)
    with pytest.raises(ValueError, match=f"max_length={max_length}"):
        lm.generate("a b", max_length=max_length)
    with pytest.raises(ValueError, match="expects a prompt"):
        lm.generate([], max_length=6)


def test_a_task_refuses_a_preprocessor_its_backbone_cannot_read():
    larger = GMLPTokenizer(vocabulary=VOCABULARY + ["d", "e"])
    with pytest.raises(ValueError, match="tokenizer has 10 tokens.*embeds 8"):
        GMLPTextClassifier(
            text_backbone(), 2, preprocessor=GMLPTextClassifierPreprocessor(larger)
        )
    longer = GMLPTextClassifierPreprocessor(
        GMLPTokenizer(vocabulary=VOCABULARY), sequence_length=9
    )
    with pytest.raises(ValueError, match="packs 9 tokens.*at most 8"):
        GMLPTextClassifier(text_backbone(), 2, preprocessor=longer)
    converter = GMLPImageConverter(image_size=(32, 32))
    with pytest.raises(ValueError, match=r"images of \(32, 32\).*\(16, 16\)"):
        GMLPImageClassifier(
            image_classifier().backbone,
            3,
            preprocessor=GMLPImageClassifierPreprocessor(converter),
        )


@pytest.mark.parametrize("num_classes", [0, -2, 1.5, "3"])
def test_a_classifier_refuses_a_class_count_that_cannot_be(num_classes):
    with pytest.raises(ValueError, match="`num_classes` to be a positive int"):
        GMLPTextClassifier(text_backbone(), num_classes)


def test_a_head_larger_than_memory_is_a_memory_error_stating_its_size():
    with pytest.raises(
        MemoryError, match=r"classification head of 10000000000000 classes: .* TiB"
    ):
        GMLPTextClassifier(text_backbone(), 10**13)


def test_preprocessors_refuse_a_sequence_length_below_one():
    with pytest.raises(ValueError, match="sequence_length=0"):
        GMLPTextClassifierPreprocessor(GMLPTokenizer(vocabulary=VOCABULARY), 0)
    with pytest.raises(ValueError, match="image_size's width"):
        GMLPImageConverter(image_size=(16, 0))
