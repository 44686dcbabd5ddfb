import keras
import keras_hub
from keras import ops

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.models.gmlp_causal_lm_preprocessor import GMLPCausalLMPreprocessor
from keras_gmlp.models.gmlp_data_loader_mixin import GMLPDataLoaderMixin
from keras_gmlp.models.gmlp_input_check_mixin import GMLPInputCheckMixin
from keras_gmlp.models.gmlp_optimizer_mixin import GMLPOptimizerMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_shuffle_mixin import GMLPShuffleMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.input_checks import check_preprocessor_fits


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPCausalLM(
    GMLPPresetMixin,
    GMLPOptimizerMixin,
    GMLPInputCheckMixin,
    GMLPShuffleMixin,
    GMLPDataLoaderMixin,
    keras_hub.models.CausalLM,
):
    """Causal language modelling and generation on a causal gMLP backbone.

    The logits are the backbone's features projected by the transposed token
    embedding. `fit` takes raw strings; `generate` takes a prompt string or a
    batch of them (or preprocessed token ids), `max_length`, stop tokens, and
    any keras-hub sampler (`"greedy"`, `"top_k"`, `"top_p"`, ... set with
    `compile(sampler=...)`), and is compiled on each backend.

    Decoding is incremental: each block keeps a cache of the gating unit's
    normalised `v` for every position (and of the tiny attention's keys and
    values), so a new token costs O(length) per block, not a pass over the
    whole prefix. It produces exactly the tokens of full recomputation.

    Args:
        backbone: a `GMLPTextBackbone` with `causal=True`.
        preprocessor: a `GMLPCausalLMPreprocessor`, or `None`.
        **kwargs: other arguments of `keras_hub.models.CausalLM`.

    Example:
    ```python
    import keras_gmlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_gmlp.models.GMLPTokenizer(vocabulary=vocabulary)
    backbone = keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        max_sequence_length=16,
        causal=True,
    )
    preprocessor = keras_gmlp.models.GMLPCausalLMPreprocessor(
        tokenizer, sequence_length=16
    )
    lm = keras_gmlp.models.GMLPCausalLM(backbone, preprocessor=preprocessor)
    lm.fit(["the quick brown fox."] * 4, epochs=1, verbose=0)
    lm.generate("the quick", max_length=8)
    ```
    """

    backbone_cls = GMLPTextBackbone
    preprocessor_cls = GMLPCausalLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        if not backbone.causal:
            raise ValueError(
                "GMLPCausalLM needs a causal backbone: build the "
                "GMLPTextBackbone with `causal=True`."
            )
        if preprocessor is not None:
            check_preprocessor_fits(preprocessor, backbone, type(self).__name__)
        self.backbone = backbone
        self.preprocessor = preprocessor
        inputs = backbone.input
        logits = backbone.token_embedding(backbone(inputs), reverse=True)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

    def generate(
        self,
        inputs,
        max_length=None,
        stop_token_ids="auto",
        strip_prompt=False,
        truncate_prompts=False,
    ):
        """Generates text after each prompt; see `keras_hub.models.CausalLM`.

        Args:
            inputs: a prompt string, a list or dataset of them, or packed
                `{"token_ids", "padding_mask"}` when there is no preprocessor.
            max_length: int. The length of prompt and generation together, in
                tokens; at most the backbone's `max_sequence_length`.
                Defaults to the preprocessor's `sequence_length`.
            stop_token_ids: `"auto"` (the end token), a list of ids, or `None`.
            strip_prompt: bool. Whether to return only the generated text.
            truncate_prompts: bool. A prompt longer than `max_length` is an
                error unless this is `True`, when it keeps its first tokens.
        """
        limit = self.backbone.max_sequence_length
        if max_length is not None:
            check_positive_int("GMLPCausalLM.generate", "max_length", max_length)
        if max_length is None and self.preprocessor is not None:
            max_length = self.preprocessor.sequence_length
        if isinstance(inputs, list | tuple) and not inputs:
            raise ValueError("GMLPCausalLM.generate expects a prompt. Received none.")
        if isinstance(inputs, dict):
            self.backbone.check_inputs(inputs)
        if max_length is not None and max_length > limit:
            raise ValueError(
                f"`max_length` is {max_length}, but this model reads at most "
                f"{limit} tokens (its backbone's `max_sequence_length`)."
            )
        if not truncate_prompts and self.preprocessor is not None:
            self._check_prompt_lengths(inputs, max_length or limit)
        return super().generate(
            inputs,
            max_length=max_length,
            stop_token_ids=stop_token_ids,
            strip_prompt=strip_prompt,
        )

    def _check_prompt_lengths(self, inputs, max_length):
        if not isinstance(inputs, str | list | tuple):
            return  # a dataset: keras-hub's packer truncates each batch
        prompts = [inputs] if isinstance(inputs, str) else list(inputs)
        for prompt in prompts:
            # The preprocessor adds a start token.
            length = len(self.preprocessor.tokenizer(prompt)) + 1
            if length > max_length:
                raise ValueError(
                    f"A prompt of {length} tokens does not fit in `max_length` "
                    f"{max_length}. Shorten it, raise `max_length`, or pass "
                    "`truncate_prompts=True` to keep its first tokens."
                )

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """The logits of `token_ids` at positions `cache_update_index, ...`.

        Args:
            token_ids: int tensor of shape `(batch, length)`.
            cache: dict of per-block caches stacked on axis 1: `"gate"`,
                `(batch, num_layers, cache_length, intermediate_dim // 2)`,
                and with a tiny attention `"attention"`,
                `(batch, num_layers, 2, cache_length, attention_dim)`.
            cache_update_index: int or int tensor, the position of
                `token_ids[:, 0]`.

        Returns:
            `(logits, hidden_states, cache)`.
        """
        x = self.backbone.token_embedding(token_ids)
        block_caches = []
        for index, block in enumerate(self.backbone.blocks):
            block_cache = {key: value[:, index] for key, value in cache.items()}
            x, block_cache = block.call_with_cache(x, block_cache, cache_update_index)
            block_caches.append(block_cache)
        cache = {
            key: ops.stack([c[key] for c in block_caches], axis=1) for key in cache
        }
        hidden_states = self.backbone.layer_norm(x)
        logits = self.backbone.token_embedding(hidden_states, reverse=True)
        return logits, hidden_states, cache

    def _build_cache(self, token_ids):
        """Runs the whole prompt once, filling a cache of its length."""
        batch_size, length = ops.shape(token_ids)[0], ops.shape(token_ids)[1]
        backbone = self.backbone
        cache = {
            "gate": ops.zeros(
                (
                    batch_size,
                    backbone.num_layers,
                    length,
                    backbone.intermediate_dim // 2,
                ),
                dtype=self.compute_dtype,
            )
        }
        if backbone.attention_dim:
            cache["attention"] = ops.zeros(
                (batch_size, backbone.num_layers, 2, length, backbone.attention_dim),
                dtype=self.compute_dtype,
            )
        _, hidden_states, cache = self.call_with_cache(token_ids, cache, 0)
        return hidden_states, cache

    def generate_step(self, inputs, stop_token_ids=None):
        """A compilable generation of one batch of packed prompts.

        Args:
            inputs: dict of `"token_ids"` and `"padding_mask"`, the prompts
                packed to the generation length.
            stop_token_ids: token ids that end a sequence, or `None`.
        """
        token_ids, padding_mask = inputs["token_ids"], inputs["padding_mask"]
        hidden_states, cache = self._build_cache(token_ids)
        # Sampling starts after the shortest prompt; longer prompts keep their
        # tokens through the sampler's mask.
        index = ops.min(ops.sum(ops.cast(padding_mask, "int32"), axis=-1))

        def next(prompt, cache, index):
            batch_size = ops.shape(prompt)[0]
            prompt = ops.slice(prompt, [0, index - 1], [batch_size, 1])
            logits, hidden_states, cache = self.call_with_cache(
                prompt, cache, index - 1
            )
            return (
                ops.squeeze(logits, axis=1),
                ops.squeeze(hidden_states, axis=1),
                cache,
            )

        token_ids = self.sampler(
            next=next,
            prompt=token_ids,
            cache=cache,
            index=index,
            mask=padding_mask,
            stop_token_ids=stop_token_ids,
            hidden_states=hidden_states,
            model=self,
        )
        return {
            "token_ids": token_ids,
            "padding_mask": self._tokens_before_stop(
                token_ids, padding_mask, stop_token_ids
            ),
        }

    @staticmethod
    def _tokens_before_stop(token_ids, prompt_mask, stop_token_ids):
        """True up to and including the first generated stop token."""
        if stop_token_ids is None:
            return ops.ones_like(token_ids, dtype="bool")
        is_stop = ops.zeros_like(token_ids, dtype="bool")
        for stop_token_id in stop_token_ids:
            is_stop = ops.logical_or(is_stop, ops.equal(token_ids, stop_token_id))
        is_stop = ops.cast(
            ops.logical_and(is_stop, ops.logical_not(prompt_mask)), "int32"
        )
        stops_before = ops.cumsum(is_stop, axis=-1) - is_stop
        return ops.equal(stops_before, 0)
