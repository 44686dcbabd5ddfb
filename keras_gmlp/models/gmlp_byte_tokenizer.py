import keras
import keras_hub

from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_tokenizer import SPECIAL_TOKENS
from keras_gmlp.models.gmlp_tokenizer import add_special_tokens
from keras_gmlp.models.gmlp_tokenizer import check_text

# Byte `b` has id `b + BYTE_OFFSET`: the special tokens keep the ids they
# have in `GMLPTokenizer`, and byte 0 stays apart from `[PAD]`.
BYTE_OFFSET = len(SPECIAL_TOKENS)


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPByteTokenizer(GMLPPresetMixin, keras_hub.tokenizers.ByteTokenizer):
    """A byte-level tokenizer for character-level gMLP models, with no vocabulary.

    A `keras_hub.tokenizers.ByteTokenizer` that reserves the ids of
    `GMLPTokenizer`'s special tokens, so that it works with every gMLP text
    preprocessor: `"[PAD]"` 0, `"[UNK]"` 1 (never produced), `"[CLS]"` 2,
    `"[SEP]"` 3 and `"[MASK]"` 4. Each UTF-8 byte `b` of the text becomes id
    `b + 5`, so the vocabulary has 261 ids. `detokenize` decodes the bytes
    back to text and drops the special tokens. Presets save only its config:
    there is no vocabulary asset.

    Args:
        lowercase: bool. Whether to lowercase the text first. Off by default,
            so that `detokenize` gives back the text that was tokenized.
        normalization_form: `None`, `"NFC"`, `"NFKC"`, `"NFD"` or `"NFKD"`:
            a Unicode normalisation applied before tokenizing.
        errors: `"replace"`, `"ignore"` or `"strict"`, what `detokenize`
            does with bytes that are not valid UTF-8.
        **kwargs: other arguments of `keras_hub.tokenizers.ByteTokenizer`,
            except `sequence_length`: the preprocessors pack and pad.

    Example:
    ```python
    import keras_gmlp

    tokenizer = keras_gmlp.models.GMLPByteTokenizer()
    token_ids = tokenizer(["héllo", "hi"])
    tokenizer.detokenize(token_ids)  # ["héllo", "hi"]
    preprocessor = keras_gmlp.models.GMLPCausalLMPreprocessor(
        tokenizer, sequence_length=8
    )
    x, y, sample_weight = preprocessor(["héllo"])
    ```
    """

    backbone_cls = GMLPTextBackbone

    def __init__(self, lowercase=False, **kwargs):
        sequence_length = kwargs.pop("sequence_length", None)
        if sequence_length is not None:
            raise ValueError(
                "GMLPByteTokenizer does not pad: the gMLP preprocessors pack "
                "and pad to their own `sequence_length`. Expected "
                f"sequence_length=None. Received: sequence_length={sequence_length}"
            )
        add_special_tokens(self)
        super().__init__(lowercase=lowercase, **kwargs)

    def vocabulary_size(self):
        return BYTE_OFFSET + 256

    def get_vocabulary(self):
        return [self.id_to_token(id) for id in range(self.vocabulary_size())]

    def id_to_token(self, id):
        if not 0 <= id < self.vocabulary_size():
            raise ValueError(
                f"`id` must be in [0, {self.vocabulary_size() - 1}]. Received: {id}"
            )
        if id < BYTE_OFFSET:
            return SPECIAL_TOKENS[id]
        return chr(id - BYTE_OFFSET)  # the byte's Latin-1 character

    def token_to_id(self, token):
        if token in SPECIAL_TOKENS:
            return SPECIAL_TOKENS.index(token)
        if len(token) != 1 or ord(token) >= 256:
            raise ValueError(
                "GMLPByteTokenizer's tokens are its special tokens "
                f"{list(SPECIAL_TOKENS)} and single characters for the bytes "
                f"0-255. Received: {token!r}"
            )
        return ord(token) + BYTE_OFFSET

    def tokenize(self, inputs):
        check_text(inputs, type(self).__name__)
        return _map_token_ids(super().tokenize(inputs), lambda ids: ids + BYTE_OFFSET)

    def detokenize(self, inputs):
        def to_bytes(ids):
            # max(ids - offset, 0) in operators that numpy, every backend's
            # tensors and `tf.RaggedTensor` share. Special tokens become 0,
            # which `ByteTokenizer.detokenize` drops as padding.
            shifted = ids - BYTE_OFFSET
            return (shifted + abs(shifted)) // 2

        return super().detokenize(_map_token_ids(inputs, to_bytes))

    def save_assets(self, dir_path):
        pass  # keras-hub's preset saver asks for assets; bytes need none.

    def load_preset_assets(self, preset):
        pass


def _map_token_ids(token_ids, fn):
    """`fn` applied to each array or tensor of token ids in `token_ids`,
    which may be one, or a list of them: tokenizers give ragged batches as
    lists on keras-hub's Python path."""
    if isinstance(token_ids, list | tuple):
        return [_map_token_ids(ids, fn) for ids in token_ids]
    return fn(token_ids)
