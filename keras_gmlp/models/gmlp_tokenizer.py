import keras
import keras_hub
import numpy as np

from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPTokenizer(GMLPPresetMixin, keras_hub.tokenizers.WordPieceTokenizer):
    """The WordPiece tokenizer of the gMLP text models.

    A `keras_hub.tokenizers.WordPieceTokenizer` with BERT's special tokens,
    `"[PAD]"`, `"[UNK]"`, `"[CLS]"`, `"[SEP]"` and `"[MASK]"`, which the
    vocabulary must contain. Presets save the vocabulary as an asset.

    Args:
        vocabulary: a list of strings or the path of a vocabulary file, one
            token per line.
        lowercase: bool. Whether to lowercase the text first.
        **kwargs: other arguments of `keras_hub.tokenizers.WordPieceTokenizer`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    tokenizer(["the quick brown fox.", "the fox"])
    ```
    """

    backbone_cls = GMLPTextBackbone

    def __init__(self, vocabulary=None, lowercase=True, **kwargs):
        add_special_tokens(self)
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)

    @classmethod
    def from_text_files(cls, files, vocabulary_size, lowercase=True, **kwargs):
        """A tokenizer with a WordPiece vocabulary learned from text files.

        Uses keras-hub's `compute_word_piece_vocabulary` with this
        tokenizer's special tokens. The learned vocabulary can be smaller
        than `vocabulary_size` when the text runs out of word pieces.

        Args:
            files: a list of paths of plain text files.
            vocabulary_size: int. The largest vocabulary to learn.
            lowercase: bool. Whether to lowercase the text first.
            **kwargs: passed to the constructor.
        """
        vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
            [str(path) for path in files],
            vocabulary_size,
            lowercase=lowercase,
            reserved_tokens=list(SPECIAL_TOKENS),
        )
        # The learner keeps whitespace and a bare "##", which WordPiece can
        # never produce.
        vocabulary = [token for token in vocabulary if token.strip() and token != "##"]
        return cls(vocabulary=vocabulary, lowercase=lowercase, **kwargs)

    def load_assets(self, dir_path):
        try:
            super().load_assets(dir_path)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"The vocabulary in '{dir_path}' is not UTF-8 text: {error}"
            ) from None

    def tokenize(self, inputs):
        check_text(inputs, type(self).__name__)
        return super().tokenize(inputs)


def add_special_tokens(tokenizer):
    """Registers the special tokens that the gMLP preprocessors read."""
    tokenizer._add_special_token("[CLS]", "cls_token")
    tokenizer._add_special_token("[SEP]", "sep_token")
    tokenizer._add_special_token("[PAD]", "pad_token")
    tokenizer._add_special_token("[MASK]", "mask_token")
    # keras-hub's packers and samplers look for start and end tokens.
    tokenizer._add_special_token("[CLS]", "start_token")
    tokenizer._add_special_token("[SEP]", "end_token")


def check_text(inputs, tokenizer_name):
    """Raises a `ValueError` naming the tokenizer unless `inputs` are text."""
    dtype = getattr(inputs, "dtype", None) or np.asarray(inputs).dtype
    is_text = getattr(dtype, "name", None) == "string" or getattr(
        dtype, "kind", None
    ) in ("S", "U", "O")
    if not is_text:
        raise ValueError(
            f"{tokenizer_name} expects text: a string, a list of strings or a "
            f"string tensor. Received values of dtype {dtype}"
        )
