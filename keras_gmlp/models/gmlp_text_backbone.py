import keras
import keras_hub

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.gmlp_block import GMLPBlock
from keras_gmlp.layers.keras_weight_shapes import layer_norm_shapes
from keras_gmlp.models.backbone_weights import check_backbone_fits_in_memory
from keras_gmlp.models.gmlp_layout_map import gmlp_layout_map
from keras_gmlp.models.gmlp_lora_mixin import GMLPLoRAMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.input_checks import check_token_ids


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPTextBackbone(GMLPPresetMixin, GMLPLoRAMixin, keras_hub.models.Backbone):
    """The gMLP (and aMLP) text encoder of "Pay Attention to MLPs".

    Embeds token ids and runs them through `num_layers` `GMLPBlock`s and a
    final LayerNorm. There is no position embedding: the spatial weights of
    the gating units carry position. Inputs follow keras-hub's convention,
    a dict of `"token_ids"` and `"padding_mask"`; padded tokens change no
    feature of a real token. The output is the sequence features, of shape
    `(batch, length, hidden_dim)`, for any `length <= max_sequence_length`.

    Args:
        vocabulary_size: int. The size of the token vocabulary.
        num_layers: int. The number of gMLP blocks.
        hidden_dim: int. The width of the token features.
        intermediate_dim: int. The width inside each block, before the
            gating unit halves it.
        max_sequence_length: int. The longest sequence the model accepts,
            which sets the size of the spatial weights.
        causal: bool. If `True`, position `t` only sees positions `<= t`,
            for language modelling.
        spatial_weights: `"dense"` or `"toeplitz"` (shift-invariant, `2n - 1`
            parameters per unit).
        heads: int. The number of heads of the gating units.
        attention_dim: int or `None`. If set, aMLP: each gating unit gets a
            single-head tiny attention of this size (the paper uses 64 for
            base sizes and 128 for large).
        dropout: float. Dropout rate on the embeddings and inside the blocks.
        drop_path_rate: float. Stochastic depth rate of every block.
        layer_norm_epsilon: float. Epsilon of the blocks' and the final
            LayerNorm.
        dtype: string or `keras.DTypePolicy`. The dtype policy of the model.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.Backbone`, such as `name`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    backbone = keras_gmlp.models.GMLPTextBackbone(
        vocabulary_size=100,
        num_layers=2,
        hidden_dim=32,
        intermediate_dim=128,
        max_sequence_length=16,
        attention_dim=8,
    )
    inputs = {
        "token_ids": np.array([[5, 8, 13, 0, 0]], "int32"),
        "padding_mask": np.array([[1, 1, 1, 0, 0]], "int32"),
    }
    backbone(inputs).shape  # (1, 5, 32)
    ```
    """

    modality = "text"

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        causal=False,
        spatial_weights="dense",
        heads=1,
        attention_dim=None,
        dropout=0.0,
        drop_path_rate=0.0,
        layer_norm_epsilon=1e-6,
        dtype=None,
        **kwargs,
    ):
        outer, block = self.weight_shapes(
            vocabulary_size,
            num_layers,
            hidden_dim,
            intermediate_dim,
            max_sequence_length,
            spatial_weights,
            heads,
            attention_dim,
        )
        check_backbone_fits_in_memory(
            "GMLPTextBackbone", outer, block, num_layers, dtype
        )

        # === Layers ===
        self.token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            dtype=dtype,
            name="token_embedding",
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.blocks = [
            GMLPBlock(
                intermediate_dim,
                sequence_length=max_sequence_length,
                causal=causal,
                spatial_weights=spatial_weights,
                heads=heads,
                attention_dim=attention_dim,
                dropout=dropout,
                drop_path_rate=drop_path_rate,
                layer_norm_epsilon=layer_norm_epsilon,
                dtype=dtype,
                name=f"block_{index}",
            )
            for index in range(num_layers)
        ]
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="layer_norm"
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        x = self.embeddings_dropout(self.token_embedding(token_ids))
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask)
        features = self.layer_norm(x)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=features,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.causal = causal
        self.spatial_weights = spatial_weights
        self.heads = heads
        self.attention_dim = attention_dim
        self.dropout = dropout
        self.drop_path_rate = drop_path_rate
        self.layer_norm_epsilon = layer_norm_epsilon

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "max_sequence_length": self.max_sequence_length,
                "causal": self.causal,
                "spatial_weights": self.spatial_weights,
                "heads": self.heads,
                "attention_dim": self.attention_dim,
                "dropout": self.dropout,
                "drop_path_rate": self.drop_path_rate,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config

    def call(self, inputs, training=None, mask=None, **kwargs):
        self.check_inputs(inputs)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def check_inputs(self, inputs):
        """Raises a `ValueError` for concrete token ids outside the
        vocabulary, or sequences empty or longer than `max_sequence_length`;
        symbolic and traced ones (a step being compiled, where no check can
        raise) pass unchecked."""
        check_token_ids(
            inputs, self.vocabulary_size, self.max_sequence_length, "GMLPTextBackbone"
        )

    @staticmethod
    def weight_shapes(
        vocabulary_size,
        num_layers,
        hidden_dim,
        intermediate_dim,
        max_sequence_length,
        spatial_weights,
        heads,
        attention_dim,
        **_,
    ):
        """Checks the size arguments, then gives the shapes of the weights
        outside the blocks and of one block, keyed by their path in a Keras
        weights file. Builds nothing."""
        for name, value in [
            ("vocabulary_size", vocabulary_size),
            ("num_layers", num_layers),
            ("hidden_dim", hidden_dim),
            ("intermediate_dim", intermediate_dim),
            ("max_sequence_length", max_sequence_length),
        ]:
            check_positive_int("GMLPTextBackbone", name, value)
        outer = {
            "layers/reversible_embedding/vars/0": (vocabulary_size, hidden_dim),
            **layer_norm_shapes("layers/layer_normalization", hidden_dim),
        }
        block = GMLPBlock.weight_shapes(
            hidden_dim,
            intermediate_dim,
            max_sequence_length,
            spatial_weights,
            heads,
            attention_dim,
        )
        return outer, block

    # Shared by both backbones; `gmlp_layout_map` documents the layouts.
    get_layout_map = staticmethod(gmlp_layout_map)
