import keras
import keras_hub

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.gmlp_block import GMLPBlock
from keras_gmlp.layers.keras_weight_shapes import layer_norm_shapes
from keras_gmlp.layers.keras_weight_shapes import prefixed
from keras_gmlp.layers.patch_embedding import PatchEmbedding
from keras_gmlp.layers.patch_embedding import check_patch_multiples
from keras_gmlp.models.backbone_weights import check_backbone_fits_in_memory
from keras_gmlp.models.gmlp_layout_map import gmlp_layout_map
from keras_gmlp.models.gmlp_lora_mixin import GMLPLoRAMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.input_checks import check_images
from keras_gmlp.models.preset_files import timm_checkpoint
from keras_gmlp.models.timm_gmlp_loader import load_timm_weights
from keras_gmlp.models.timm_gmlp_loader import timm_backbone_kwargs


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPBackbone(GMLPPresetMixin, GMLPLoRAMixin, keras_hub.models.Backbone):
    """The gMLP vision backbone of "Pay Attention to MLPs".

    Embeds non-overlapping patches of the image as tokens, runs them through
    `num_layers` `GMLPBlock`s and normalises the result. The output is the
    token features, of shape `(batch, num_patches, hidden_dim)`, in row-major
    patch order; classifiers pool them by a mean over tokens.

    The paper's sizes, all with 30 layers and 16x16 patches on 224x224
    images:

    | model   | hidden_dim | intermediate_dim | drop_path_rate |
    |---------|------------|------------------|----------------|
    | gMLP-Ti | 128        | 768              | 0.0            |
    | gMLP-S  | 256        | 1536             | 0.05           |
    | gMLP-B  | 512        | 3072             | 0.2            |

    Args:
        num_layers: int. The number of gMLP blocks.
        hidden_dim: int. The width of the token features.
        intermediate_dim: int. The width inside each block, before the
            gating unit halves it.
        image_shape: tuple `(height, width, channels)`. Height and width must
            be multiples of `patch_size`; they fix the number of tokens and so
            the size of the spatial weights.
        patch_size: int. The side of the square patches.
        dropout: float. Dropout rate inside the blocks.
        drop_path_rate: float. Stochastic depth rate of every block (the
            paper's survival probability is `1 - drop_path_rate`). Off at
            inference.
        layer_norm_epsilon: float. Epsilon of the blocks' and the final
            LayerNorm.
        dtype: string or `keras.DTypePolicy`. The dtype policy of the model.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.Backbone`, such as `name`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    backbone = keras_gmlp.models.GMLPBackbone(
        num_layers=2,
        hidden_dim=32,
        intermediate_dim=192,
        image_shape=(32, 32, 3),
        patch_size=8,
    )
    backbone(np.ones((1, 32, 32, 3), "float32")).shape  # (1, 16, 32)
    ```
    """

    modality = "image"

    def __init__(
        self,
        num_layers,
        hidden_dim,
        intermediate_dim,
        image_shape=(224, 224, 3),
        patch_size=16,
        dropout=0.0,
        drop_path_rate=0.0,
        layer_norm_epsilon=1e-6,
        dtype=None,
        **kwargs,
    ):
        outer, block = self.weight_shapes(
            num_layers, hidden_dim, intermediate_dim, image_shape, patch_size
        )
        check_backbone_fits_in_memory("GMLPBackbone", outer, block, num_layers, dtype)

        # === Layers ===
        self.patch_embedding = PatchEmbedding(
            hidden_dim, patch_size, dtype=dtype, name="patch_embedding"
        )
        self.blocks = [
            GMLPBlock(
                intermediate_dim,
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
        images = keras.Input(shape=tuple(image_shape), name="images")
        x = self.patch_embedding(images)
        for block in self.blocks:
            x = block(x)
        features = self.layer_norm(x)
        super().__init__(inputs=images, outputs=features, dtype=dtype, **kwargs)

        # === Config ===
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.image_shape = tuple(image_shape)
        self.patch_size = patch_size
        self.dropout = dropout
        self.drop_path_rate = drop_path_rate
        self.layer_norm_epsilon = layer_norm_epsilon

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "image_shape": self.image_shape,
                "patch_size": self.patch_size,
                "dropout": self.dropout,
                "drop_path_rate": self.drop_path_rate,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config

    def call(self, inputs, training=None, mask=None, **kwargs):
        self.check_inputs(inputs)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def check_inputs(self, images):
        """Raises a `ValueError` for images other than a non-empty batch of
        `image_shape`. It reads shapes only, which are known when a step is
        compiled too: the tasks check arrays before their step."""
        check_images(images, self.image_shape, "GMLPBackbone")

    @staticmethod
    def weight_shapes(
        num_layers, hidden_dim, intermediate_dim, image_shape, patch_size, **_
    ):
        """Checks the size arguments, then gives the shapes of the weights
        outside the blocks and of one block, keyed by their path in a Keras
        weights file. Builds nothing."""
        for name, value in [
            ("num_layers", num_layers),
            ("hidden_dim", hidden_dim),
            ("intermediate_dim", intermediate_dim),
            ("patch_size", patch_size),
        ]:
            check_positive_int("GMLPBackbone", name, value)
        check_image_shape(image_shape)
        check_patch_multiples(image_shape[:2], patch_size)
        height, width, channels = image_shape
        num_patches = (height // patch_size) * (width // patch_size)
        embedding = PatchEmbedding.weight_shapes(channels, hidden_dim, patch_size)
        outer = {
            **prefixed("layers/patch_embedding", embedding),
            **layer_norm_shapes("layers/layer_normalization", hidden_dim),
        }
        block = GMLPBlock.weight_shapes(hidden_dim, intermediate_dim, num_patches)
        return outer, block

    @classmethod
    def from_timm_preset(cls, preset, config, load_weights=True, dtype=None, **kwargs):
        backbone = cls(**timm_backbone_kwargs(config), dtype=dtype)
        if load_weights:
            load_timm_weights(backbone, timm_checkpoint(preset))
        return backbone

    # Shared by both backbones; `gmlp_layout_map` documents the layouts.
    get_layout_map = staticmethod(gmlp_layout_map)


def check_image_shape(image_shape):
    """Refuses an `image_shape` that is not `(height, width, channels)` of
    positive ints."""
    if not isinstance(image_shape, list | tuple) or len(image_shape) != 3:
        raise ValueError(
            "GMLPBackbone expects `image_shape` to be (height, width, "
            f"channels). Received: image_shape={image_shape!r}"
        )
    for name, side in zip(("height", "width", "channels"), image_shape, strict=True):
        check_positive_int("GMLPBackbone", f"image_shape's {name}", side)
