import numpy as np
import pytest

from keras_gmlp.models import GMLPTokenizer
from tests.helpers import to_numpy


def test_vocabulary_learned_from_text_files(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog\n" * 50)
    tokenizer = GMLPTokenizer.from_text_files([corpus], vocabulary_size=100)
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert all(token.strip() and token != "##" for token in vocabulary)
    assert "quick" in vocabulary
    token_ids = to_numpy(tokenizer(["the quick fox"]))
    assert token_ids.shape == (1, 3) and not np.any(token_ids == 1)  # no [UNK]


def test_special_token_ids():
    tokenizer = GMLPTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]
    )
    assert (tokenizer.pad_token_id, tokenizer.cls_token_id) == (0, 2)
    assert (tokenizer.sep_token_id, tokenizer.mask_token_id) == (3, 4)


@pytest.mark.parametrize("text", [[1, 2, 3], np.ones((2, 3)), 4.5])
def test_non_string_input_raises(text):
    tokenizer = GMLPTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    with pytest.raises(ValueError, match="expects text"):
        tokenizer(text)
