import keras
import keras_hub

from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPImageConverter(GMLPPresetMixin, keras_hub.layers.ImageConverter):
    """Resizes and normalises raw images for a `GMLPBackbone`.

    A `keras_hub.layers.ImageConverter`: it resizes to the backbone's image
    size and applies `x * scale + offset`, which the presets set to
    `(x / 255 - mean) / std` for their mean and std. Inputs may be uint8 or
    float, batched or not.

    Args:
        image_size: `(height, width)` to resize to.
        scale: float or one float per channel.
        offset: float or one float per channel.
        interpolation: the resize interpolation, e.g. `"bicubic"` as in timm.
        **kwargs: other arguments of `keras_hub.layers.ImageConverter`, such
            as `crop_to_aspect_ratio`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    converter = keras_gmlp.models.GMLPImageConverter(
        image_size=(32, 32), scale=2 / 255, offset=-1.0
    )
    converter(np.full((2, 64, 48, 3), 255, "uint8")).shape  # (2, 32, 32, 3)
    ```
    """

    backbone_cls = GMLPBackbone
