import keras
import keras_hub
from keras import ops

from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_classifier_head import GMLPClassifierHead
from keras_gmlp.models.gmlp_data_loader_mixin import GMLPDataLoaderMixin
from keras_gmlp.models.gmlp_image_classifier_preprocessor import (
    GMLPImageClassifierPreprocessor,
)
from keras_gmlp.models.gmlp_input_check_mixin import GMLPInputCheckMixin
from keras_gmlp.models.gmlp_optimizer_mixin import GMLPOptimizerMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_shuffle_mixin import GMLPShuffleMixin
from keras_gmlp.models.preset_files import timm_checkpoint
from keras_gmlp.models.timm_gmlp_loader import load_timm_weights
from keras_gmlp.models.timm_gmlp_loader import timm_num_classes


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPImageClassifier(
    GMLPPresetMixin,
    GMLPOptimizerMixin,
    GMLPInputCheckMixin,
    GMLPShuffleMixin,
    GMLPDataLoaderMixin,
    GMLPClassifierHead,
    keras_hub.models.ImageClassifier,
):
    """An image classifier on a `GMLPBackbone`.

    The head is timm's and the paper's: the mean of the token features,
    optional dropout, then `Dense(num_classes)`. `fit`, `predict` and
    `evaluate` take raw uint8 or float images (numpy, `tf.data.Dataset` or
    a PyTorch `DataLoader`) and preprocess them with `preprocessor`.

    Args:
        backbone: a `keras_gmlp.models.GMLPBackbone`.
        num_classes: int. The number of classes.
        preprocessor: a `GMLPImageClassifierPreprocessor`, or `None` to feed
            the backbone's inputs directly.
        activation: `None` (logits, the default) or e.g. `"softmax"`.
        dropout: float. Dropout rate before the classification layer.
        head_dtype: dtype policy of the head; defaults to the backbone's.
        **kwargs: other keyword arguments passed to
            `keras_hub.models.ImageClassifier`, such as `name`.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    backbone = keras_gmlp.models.GMLPBackbone(
        num_layers=2,
        hidden_dim=16,
        intermediate_dim=64,
        image_shape=(32, 32, 3),
        patch_size=8,
    )
    classifier = keras_gmlp.models.GMLPImageClassifier(backbone, num_classes=4)
    images = np.random.uniform(size=(8, 32, 32, 3)).astype("float32")
    classifier.fit(images, np.arange(8) % 4, epochs=1, verbose=0)
    classifier.predict(images, verbose=0).shape  # (8, 4)
    ```
    """

    backbone_cls = GMLPBackbone
    preprocessor_cls = GMLPImageClassifierPreprocessor

    def _pool(self, features, images):
        return ops.mean(features, axis=1)

    @classmethod
    def from_timm_preset(cls, preset, config, load_weights=True, **kwargs):
        backbone = GMLPBackbone.from_timm_preset(
            preset, config, load_weights=False, dtype=kwargs.pop("dtype", None)
        )
        preprocessor = cls.preprocessor_cls.from_timm_preset(preset, config)
        timm_classes = timm_num_classes(config)
        num_classes = kwargs.pop("num_classes", timm_classes)
        model = cls(backbone, num_classes, preprocessor=preprocessor, **kwargs)
        if load_weights:
            # A different class count gets a new head, as in keras-hub.
            head = model.output_dense if num_classes == timm_classes else None
            load_timm_weights(backbone, timm_checkpoint(preset), head)
        return model
