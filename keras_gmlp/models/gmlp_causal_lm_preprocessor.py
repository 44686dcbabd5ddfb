import keras
import keras_hub

from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_text_preprocessor_mixin import GMLPTextPreprocessorMixin
from keras_gmlp.models.gmlp_tokenizer import GMLPTokenizer


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPCausalLMPreprocessor(
    GMLPPresetMixin, GMLPTextPreprocessorMixin, keras_hub.models.CausalLMPreprocessor
):
    """Tokenizes and packs strings for `GMLPCausalLM`.

    A `keras_hub.models.CausalLMPreprocessor`: for training it packs
    `[CLS] text [SEP]` to `sequence_length` and returns the inputs, the
    labels shifted by one token and the padding weights; for `generate` it
    packs prompts without the end token.

    Args:
        tokenizer: a `GMLPTokenizer` (or any keras-hub tokenizer with start,
            end and pad tokens).
        sequence_length: int. The packed length.
        **kwargs: other arguments of `keras_hub.models.CausalLMPreprocessor`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    preprocessor = keras_gmlp.models.GMLPCausalLMPreprocessor(
        tokenizer, sequence_length=8
    )
    x, y, sample_weight = preprocessor(["the quick brown fox."])
    ```
    """

    backbone_cls = GMLPTextBackbone
    tokenizer_cls = GMLPTokenizer
