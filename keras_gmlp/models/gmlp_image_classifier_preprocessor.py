import keras
import keras_hub

from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_image_converter import GMLPImageConverter
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPImageClassifierPreprocessor(
    GMLPPresetMixin, keras_hub.models.ImageClassifierPreprocessor
):
    """Turns raw images (and labels) into `GMLPImageClassifier` inputs.

    A `keras_hub.models.ImageClassifierPreprocessor` around a
    `GMLPImageConverter`. `GMLPImageClassifier` applies it automatically in
    `fit`, `predict` and `evaluate`.

    Args:
        image_converter: a `GMLPImageConverter`.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.ImageClassifierPreprocessor`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    converter = keras_gmlp.models.GMLPImageConverter(
        image_size=(32, 32), scale=2 / 255, offset=-1.0
    )
    preprocessor = keras_gmlp.models.GMLPImageClassifierPreprocessor(converter)
    images, labels = preprocessor(np.zeros((2, 40, 40, 3), "uint8"), [0, 1])
    ```
    """

    backbone_cls = GMLPBackbone
    image_converter_cls = GMLPImageConverter

    @classmethod
    def from_timm_preset(cls, preset, config, **kwargs):
        return cls(GMLPImageConverter.from_timm_preset(preset, config))
