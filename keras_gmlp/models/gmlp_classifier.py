from keras_gmlp.models.gmlp_image_classifier import GMLPImageClassifier
from keras_gmlp.models.gmlp_preset_mixin import classproperty
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.models.gmlp_text_classifier import GMLPTextClassifier
from keras_gmlp.models.preset_files import preset_modality
from keras_gmlp.models.preset_files import resolve_preset

CLASSIFIERS = {"image": GMLPImageClassifier, "text": GMLPTextClassifier}


class GMLPClassifier:
    """Loads the gMLP classifier, image or text, that a preset holds.

    `GMLPClassifier.from_preset` returns a `GMLPImageClassifier` or a
    `GMLPTextClassifier`, whichever the preset is, ready for `fit`,
    `predict` and `evaluate` on raw images or strings.

    Example:
    ```python
    import numpy as np
    import keras_gmlp

    classifier = keras_gmlp.GMLPClassifier.from_preset(
        "gmlp_tiny_image_test", num_classes=3
    )
    images = np.random.randint(0, 256, size=(6, 48, 48, 3), dtype="uint8")
    classifier.fit(images, [0, 1, 2, 0, 1, 2], epochs=1, verbose=0)
    ```
    """

    @classproperty
    def presets(cls):
        """Every named preset, image and text."""
        return dict(PRESETS)

    @classmethod
    def from_preset(cls, preset, num_classes=None, load_weights=True, **kwargs):
        """Builds the classifier of a preset.

        Args:
            preset: a name from `keras_gmlp.presets`, a preset directory, or
                a `hf://` or `kaggle://` handle.
            num_classes: int. The number of classes. When it differs from
                the preset's head (or the preset has none), the classifier
                gets a new, randomly initialised head.
            load_weights: bool. Whether to load the preset's weights; `False`
                gives a randomly initialised model.
            **kwargs: passed to the classifier's `from_preset`, e.g. `dtype`.
        """
        modality = preset_modality(resolve_preset(preset, load_weights))
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        return CLASSIFIERS[modality].from_preset(
            preset, load_weights=load_weights, **kwargs
        )
