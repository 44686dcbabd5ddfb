import keras
import keras_hub

from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_text_preprocessor_mixin import GMLPTextPreprocessorMixin
from keras_gmlp.models.gmlp_tokenizer import GMLPTokenizer


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPMaskedLMPreprocessor(
    GMLPPresetMixin, GMLPTextPreprocessorMixin, keras_hub.models.MaskedLMPreprocessor
):
    """Tokenizes, packs and masks strings for `GMLPMaskedLM` pretraining.

    A `keras_hub.models.MaskedLMPreprocessor`: it packs `[CLS] text [SEP]`
    to `sequence_length` and masks tokens BERT's way with keras-hub's
    `MaskedLMMaskGenerator` (of the `mask_selection_rate` chosen, 80% become
    `[MASK]`, 10% a random token, 10% stay). It returns
    `({"token_ids", "padding_mask", "mask_positions"}, mask_ids, mask_weights)`.

    Args:
        tokenizer: a `GMLPTokenizer`.
        sequence_length: int. The packed length.
        mask_selection_rate: float. The share of tokens to predict.
        mask_selection_length: int. The most tokens predicted per sequence.
        **kwargs: other arguments of `keras_hub.models.MaskedLMPreprocessor`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    preprocessor = keras_gmlp.models.GMLPMaskedLMPreprocessor(
        tokenizer, sequence_length=8, mask_selection_length=2
    )
    x, y, sample_weight = preprocessor(["the quick brown fox."])
    ```
    """

    backbone_cls = GMLPTextBackbone
    tokenizer_cls = GMLPTokenizer
