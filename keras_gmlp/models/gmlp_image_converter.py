import math
import numbers

import keras
import keras_hub
import numpy as np

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.timm_gmlp_loader import timm_converter_kwargs


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPImageConverter(GMLPPresetMixin, keras_hub.layers.ImageConverter):
    """Resizes, crops and normalises raw images for a `GMLPBackbone`.

    A `keras_hub.layers.ImageConverter`: it resizes to the backbone's image
    size and applies `x * scale + offset`, which the presets set to
    `(x / 255 - mean) / std` for their mean and std. With `crop_pct < 1` it
    evaluates as timm does: resize to `image_size / crop_pct`, then take the
    central `image_size` crop. Inputs may be uint8 or float, batched or not.

    Args:
        image_size: `(height, width)` of the output images.
        crop_pct: float in `(0, 1]`. The fraction of the resized image kept
            by the center crop (timm's ImageNet evaluation uses 0.875).
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
        image_size=(32, 32), crop_pct=0.875, scale=2 / 255, offset=-1.0
    )
    converter(np.full((2, 64, 48, 3), 255, "uint8")).shape  # (2, 32, 32, 3)
    ```
    """

    backbone_cls = GMLPBackbone

    def __init__(self, image_size=None, crop_pct=1.0, **kwargs):
        if not (isinstance(crop_pct, numbers.Real) and 0.0 < crop_pct <= 1.0):
            raise ValueError(f"`crop_pct` must be in (0, 1]. Received: {crop_pct!r}")
        if image_size is not None:
            check_image_size(image_size, crop_pct)
        crop_size = None
        if image_size is not None and crop_pct < 1.0:
            crop_size = image_size
            # timm's `scale_size`: the resize before the crop.
            image_size = tuple(math.floor(side / crop_pct) for side in image_size)
        super().__init__(image_size=image_size, **kwargs)
        self.crop_pct = crop_pct
        self.center_crop = None
        if crop_size is not None:
            self.center_crop = keras.layers.CenterCrop(*crop_size, name="center_crop")
        # Stateless, but `Model.quantize` refuses a model with unbuilt layers.
        for layer in (self.resizing, self.center_crop):
            if layer is not None:
                layer.build((None, None, None, 3))

    @classmethod
    def from_timm_preset(cls, preset, config, **kwargs):
        return cls(**timm_converter_kwargs(config))

    @property
    def image_size(self):
        if getattr(self, "center_crop", None) is not None:
            return (self.center_crop.height, self.center_crop.width)
        return super().image_size

    @image_size.setter
    def image_size(self, value):
        if self.center_crop is not None and value is not None:
            self.center_crop.height, self.center_crop.width = value
            value = tuple(math.floor(side / self.crop_pct) for side in value)
        keras_hub.layers.ImageConverter.image_size.fset(self, value)

    def call(self, inputs):
        outputs = super().call(inputs)
        if self.center_crop is None:
            return outputs
        cropped = self.center_crop(outputs)
        if isinstance(outputs, np.ndarray):
            # keras-hub's call gives numpy in a Grain pipeline, which pickles
            # its elements across worker processes; the crop gave a tensor.
            return keras.ops.convert_to_numpy(cropped)
        return cropped

    def get_config(self):
        config = super().get_config()
        config["crop_pct"] = self.crop_pct
        return config


def check_image_size(image_size, crop_pct):
    """Refuses an `image_size` other than `(height, width)` of positive
    ints, or whose resized RGB float32 images (before the crop) would not fit
    in memory."""
    if not isinstance(image_size, list | tuple) or len(image_size) != 2:
        raise ValueError(
            "GMLPImageConverter expects `image_size` to be (height, width). "
            f"Received: image_size={image_size!r}"
        )
    for name, side in zip(("height", "width"), image_size, strict=True):
        check_positive_int("GMLPImageConverter", f"image_size's {name}", side)
    resized = [math.floor(side / crop_pct) for side in image_size]
    check_fits_in_memory(
        math.prod(resized) * 3 * 4,
        f"One {tuple(resized)} image of a GMLPImageConverter",
    )
