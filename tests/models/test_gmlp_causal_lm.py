import keras
import numpy as np
import pytest

from keras_gmlp.models import GMLPCausalLM
from keras_gmlp.models import GMLPCausalLMPreprocessor
from keras_gmlp.models import GMLPTextBackbone
from keras_gmlp.models import GMLPTokenizer
from tests.helpers import randomize_weights
from tests.helpers import to_numpy

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCABULARY += "the quick brown fox jumps over lazy dog .".split()
MAX_LENGTH = 16
VARIANTS = {
    "dense": {},
    "toeplitz": {"spatial_weights": "toeplitz"},
    "multi_head": {"heads": 2},
    "tiny_attention": {"attention_dim": 8},
}


def causal_lm(with_preprocessor=True, **kwargs):
    backbone = GMLPTextBackbone(
        vocabulary_size=len(VOCABULARY),
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        max_sequence_length=MAX_LENGTH,
        causal=True,
        **kwargs,
    )
    preprocessor = None
    if with_preprocessor:
        tokenizer = GMLPTokenizer(vocabulary=VOCABULARY)
        preprocessor = GMLPCausalLMPreprocessor(tokenizer, sequence_length=12)
    lm = GMLPCausalLM(backbone, preprocessor=preprocessor)
    randomize_weights(lm, seed=3)  # strong weights, so that greedy choices differ
    lm.compile(sampler="greedy")
    return lm


def packed_prompts(length=12):
    """Two right-padded prompts of 3 and 5 tokens (starting with [CLS])."""
    token_ids = np.zeros((2, length), "int32")
    token_ids[0, :3] = [2, 5, 6]
    token_ids[1, :5] = [2, 5, 11, 12, 9]
    return {"token_ids": token_ids, "padding_mask": token_ids != 0}


def greedy_by_full_recomputation(lm, prompts):
    """Greedy decoding that reruns the whole sequence for every token."""
    token_ids = prompts["token_ids"].copy()
    mask = prompts["padding_mask"]
    for t in range(mask.sum(1).min(), token_ids.shape[1]):
        inputs = {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids)}
        logits = to_numpy(lm(inputs))
        token_ids[:, t] = np.where(
            mask[:, t], token_ids[:, t], logits[:, t - 1].argmax(-1)
        )
    return token_ids


@pytest.mark.parametrize("kwargs", VARIANTS.values(), ids=VARIANTS.keys())
def test_cached_generation_equals_full_recomputation(kwargs):
    lm = causal_lm(with_preprocessor=False, **kwargs)
    prompts = packed_prompts()
    generated = lm.generate(prompts, stop_token_ids=None)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(generated["token_ids"]),
        greedy_by_full_recomputation(lm, prompts),
    )


def test_generation_never_reads_padding():
    lm = causal_lm(with_preprocessor=False, attention_dim=8)
    prompts = packed_prompts()
    alone = {key: value[:1] for key, value in prompts.items()}
    batched = lm.generate(prompts, stop_token_ids=None)["token_ids"]
    single = lm.generate(alone, stop_token_ids=None)["token_ids"]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(batched)[0], keras.ops.convert_to_numpy(single)[0]
    )


def test_logits_at_t_ignore_later_tokens():
    lm = causal_lm(with_preprocessor=False, attention_dim=8)
    inputs = {"token_ids": (packed_prompts()["token_ids"] + 5) % len(VOCABULARY)}
    inputs["padding_mask"] = np.ones_like(inputs["token_ids"])
    changed = {**inputs, "token_ids": inputs["token_ids"].copy()}
    changed["token_ids"][:, 6:] = 7
    np.testing.assert_allclose(
        to_numpy(lm(inputs))[:, :6], to_numpy(lm(changed))[:, :6], atol=1e-5
    )


@pytest.mark.parametrize("sampler", ["greedy", "top_k", "top_p"])
def test_generate_from_strings_with_keras_hub_samplers(sampler):
    lm = causal_lm(attention_dim=8)
    lm.compile(sampler=sampler)
    single = lm.generate("the quick", max_length=10)
    assert isinstance(single, str) and single.startswith("the quick")
    batch = lm.generate(["the quick", "the lazy dog"], max_length=10)
    assert len(batch) == 2 and batch[1].startswith("the lazy dog")


def test_stop_tokens_end_generation():
    lm = causal_lm(with_preprocessor=False)
    prompts = packed_prompts()
    free = keras.ops.convert_to_numpy(
        lm.generate(prompts, stop_token_ids=None)["token_ids"]
    )
    stop_id = int(free[0, 3])  # the first generated token of the first prompt
    stopped = lm.generate(prompts, stop_token_ids=[stop_id])
    mask = keras.ops.convert_to_numpy(stopped["padding_mask"])
    assert mask[0, :4].all() and not mask[0, 4:].any()


def test_empty_prompt_is_handled():
    lm = causal_lm()
    assert isinstance(lm.generate("", max_length=8), str)


def test_prompt_longer_than_max_length_raises_unless_truncated():
    lm = causal_lm()
    prompt = "the quick brown fox jumps over the lazy dog ."
    with pytest.raises(ValueError, match="does not fit in `max_length` 6"):
        lm.generate(prompt, max_length=6)
    assert isinstance(lm.generate(prompt, max_length=6, truncate_prompts=True), str)


def test_max_length_beyond_the_model_raises():
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH} tokens"):
        causal_lm().generate("the quick", max_length=MAX_LENGTH + 1)


def test_fit_lowers_the_loss_on_raw_strings():
    lm = causal_lm(attention_dim=8)
    lm.compile(optimizer=keras.optimizers.Adam(1e-2), sampler="greedy")
    texts = ["the quick brown fox jumps over the lazy dog ."] * 16
    history = lm.fit(texts, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_bidirectional_backbone_is_refused():
    backbone = GMLPTextBackbone(
        vocabulary_size=20, num_layers=1, hidden_dim=8, intermediate_dim=16
    )
    with pytest.raises(ValueError, match="causal=True"):
        GMLPCausalLM(backbone)


def test_save_to_preset_round_trip(tmp_path):
    lm = causal_lm(attention_dim=8)
    expected = lm.generate("the quick", max_length=10)
    lm.save_to_preset(str(tmp_path))
    restored = GMLPCausalLM.from_preset(str(tmp_path))
    restored.compile(sampler="greedy")
    assert restored.generate("the quick", max_length=10) == expected
