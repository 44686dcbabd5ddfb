import keras
import keras_hub
from keras import ops

from keras_gmlp.models.gmlp_classifier_head import GMLPClassifierHead
from keras_gmlp.models.gmlp_data_loader_mixin import GMLPDataLoaderMixin
from keras_gmlp.models.gmlp_input_check_mixin import GMLPInputCheckMixin
from keras_gmlp.models.gmlp_optimizer_mixin import GMLPOptimizerMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_shuffle_mixin import GMLPShuffleMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_text_classifier_preprocessor import (
    GMLPTextClassifierPreprocessor,
)


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPTextClassifier(
    GMLPPresetMixin,
    GMLPOptimizerMixin,
    GMLPInputCheckMixin,
    GMLPShuffleMixin,
    GMLPDataLoaderMixin,
    GMLPClassifierHead,
    keras_hub.models.TextClassifier,
):
    """A text classifier on a `GMLPTextBackbone`.

    The head pools the sequence features by a mean over the real (non-padded)
    tokens, then applies dropout and `Dense(num_classes)`. `fit`, `predict`
    and `evaluate` take raw strings, or pairs of strings, and tokenize them
    with `preprocessor`.

    Args:
        backbone: a `keras_gmlp.models.GMLPTextBackbone`.
        num_classes: int. The number of classes.
        preprocessor: a `GMLPTextClassifierPreprocessor`, or `None` to feed
            `{"token_ids", "padding_mask"}` directly.
        activation: `None` (logits, the default) or e.g. `"softmax"`.
        dropout: float. Dropout rate before the classification layer.
        head_dtype: dtype policy of the head; defaults to the backbone's.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.TextClassifier`, such as `name`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "movie", "was", "great", "awful", "!"]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    preprocessor = keras_gmlp.models.GMLPTextClassifierPreprocessor(
        tokenizer, sequence_length=8
    )
    backbone = keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        max_sequence_length=8,
    )
    classifier = keras_gmlp.models.GMLPTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    texts = ["the movie was great !", "the movie was awful"]
    classifier.fit(texts, [1, 0], epochs=1, verbose=0)
    classifier.predict(texts, verbose=0).shape  # (2, 2)
    ```
    """

    backbone_cls = GMLPTextBackbone
    preprocessor_cls = GMLPTextClassifierPreprocessor

    def _pool(self, features, inputs):
        real = ops.cast(inputs["padding_mask"], features.dtype)[:, :, None]
        # The maximum keeps an all-padding row at zero instead of NaN.
        return ops.sum(features * real, axis=1) / ops.maximum(
            ops.sum(real, axis=1), 1.0
        )
