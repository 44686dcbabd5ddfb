import math

import keras
from keras import ops

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes


@keras.saving.register_keras_serializable(package="keras_gmlp")
class PatchEmbedding(keras.layers.Layer):
    """Cuts an image into square patches and embeds each as one token.

    A convolution with kernel = stride = `patch_size` embeds the patches;
    the resulting grid is flattened row by row, so token `r * columns + c`
    is the patch at row `r`, column `c` (the order timm uses).

    Args:
        hidden_dim: int. The size of each token embedding.
        patch_size: int. The side of the square patches. The image height
            and width must both be multiples of it.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, height, width, channels)`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    layer = keras_gmlp.layers.PatchEmbedding(hidden_dim=32, patch_size=8)
    layer(np.ones((2, 32, 32, 3), "float32")).shape  # (2, 16, 32)
    ```
    """

    def __init__(self, hidden_dim, patch_size, **kwargs):
        check_positive_int("PatchEmbedding", "hidden_dim", hidden_dim)
        check_positive_int("PatchEmbedding", "patch_size", patch_size)
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.patch_size = patch_size
        self.projection = keras.layers.Conv2D(
            hidden_dim,
            kernel_size=patch_size,
            strides=patch_size,
            data_format="channels_last",
            dtype=self.dtype_policy,
            name="projection",
        )

    def build(self, inputs_shape):
        image_size, channels = tuple(inputs_shape[1:3]), inputs_shape[-1]
        if None in image_size or len(inputs_shape) != 4:
            raise ValueError(
                "PatchEmbedding expects images of shape (batch, height, width, "
                "channels), height and width fixed multiples of the patch size "
                f"{self.patch_size}. Received shape {tuple(inputs_shape)}"
            )
        check_patch_multiples(image_size, self.patch_size)
        check_positive_int("PatchEmbedding", "channels", channels)
        shapes = self.weight_shapes(channels, self.hidden_dim, self.patch_size)
        check_fits_in_memory(
            weight_bytes(shapes.values(), self.dtype_policy),
            "The weights of a PatchEmbedding",
        )
        self.projection.build(inputs_shape)

    def call(self, inputs):
        channels = self.projection.kernel.shape[2]
        if inputs.shape[-1] != channels:
            raise ValueError(
                f"PatchEmbedding expects images with {channels} channels, of "
                f"shape (batch, height, width, {channels}). Received shape "
                f"{tuple(inputs.shape)}"
            )
        patches = self.projection(inputs)
        grid_height, grid_width = patches.shape[1], patches.shape[2]
        return ops.reshape(patches, (-1, grid_height * grid_width, self.hidden_dim))

    @staticmethod
    def weight_shapes(channels, hidden_dim, patch_size):
        """The shapes of the layer's weights on images of `channels`
        channels, keyed by their path in a Keras weights file."""
        return {
            "projection/vars/0": (patch_size, patch_size, channels, hidden_dim),
            "projection/vars/1": (hidden_dim,),
        }

    def compute_output_shape(self, inputs_shape):
        height, width = inputs_shape[1:3]
        num_patches = None  # for an image size known only at call time
        if height is not None and width is not None:
            num_patches = (height // self.patch_size) * (width // self.patch_size)
        return (inputs_shape[0], num_patches, self.hidden_dim)

    def compute_output_spec(self, inputs):
        # Keras' own `compute_output_spec` reads the shapes of tensors only,
        # and `GMLPBackbone.compute_output_spec` hands this first layer the
        # images as they come, numpy arrays included.
        output_shape = self.compute_output_shape(tuple(inputs.shape))
        return keras.KerasTensor(output_shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dim": self.hidden_dim, "patch_size": self.patch_size})
        return config


def check_patch_multiples(image_size, patch_size):
    """Refuses image sides that are not positive multiples of `patch_size`,
    naming the nearest that are."""
    if all(side > 0 and side % patch_size == 0 for side in image_size):
        return
    nearest = [
        sorted(
            {
                max(patch_size, math.floor(side / patch_size) * patch_size),
                max(patch_size, math.ceil(side / patch_size) * patch_size),
            }
        )
        for side in image_size
    ]
    raise ValueError(
        f"Image height and width must be multiples of the patch size "
        f"{patch_size}. Received: {tuple(image_size)}. The nearest valid "
        f"heights: {nearest[0]}; widths: {nearest[1]}"
    )
