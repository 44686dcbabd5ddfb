import keras
import keras_hub

from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_text_preprocessor_mixin import GMLPTextPreprocessorMixin
from keras_gmlp.models.gmlp_tokenizer import GMLPTokenizer


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPTextClassifierPreprocessor(
    GMLPPresetMixin,
    GMLPTextPreprocessorMixin,
    keras_hub.models.TextClassifierPreprocessor,
):
    """Tokenizes and packs strings (or string pairs) for `GMLPTextClassifier`.

    A `keras_hub.models.TextClassifierPreprocessor`: each input is tokenized
    with a `GMLPTokenizer` and packed as `[CLS] a [SEP]` (or
    `[CLS] a [SEP] b [SEP]` for pairs), padded with `[PAD]` to
    `sequence_length`. It returns `{"token_ids", "padding_mask"}`; gMLP has
    no segment embedding, so no segment ids.

    Args:
        tokenizer: a `GMLPTokenizer`.
        sequence_length: int. The packed length; at most the backbone's
            `max_sequence_length`.
        truncate: `"round_robin"` or `"waterfall"`, how pairs are cut to fit.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.TextClassifierPreprocessor`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    preprocessor = keras_gmlp.models.GMLPTextClassifierPreprocessor(
        tokenizer, sequence_length=8
    )
    preprocessor(["the quick fox.", "the brown fox"])["token_ids"].shape
    ```
    """

    backbone_cls = GMLPTextBackbone
    tokenizer_cls = GMLPTokenizer
