import keras

from keras_gmlp.layers.argument_checks import check_positive_int


class GMLPTextPreprocessorMixin:
    """What the gMLP text preprocessors add to keras-hub's.

    Mixed in before a keras-hub text preprocessor class: it drops the
    `"segment_ids"` that keras-hub packs (gMLP has no segment embedding), and
    a preprocessor built for a preset that was saved for another task packs
    to the backbone's `max_sequence_length` rather than keras-hub's default.
    A `sequence_length` that is not a positive int is refused.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        check_positive_int(type(self).__name__, "sequence_length", self.sequence_length)

    def call(self, x, y=None, sample_weight=None, **kwargs):
        packed = super().call(x, y, sample_weight, **kwargs)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(packed)
        x = {key: value for key, value in x.items() if key != "segment_ids"}
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    @classmethod
    def _add_missing_kwargs(cls, loader, kwargs):
        # keras-hub's hook for a preprocessor the preset did not save.
        kwargs = super()._add_missing_kwargs(loader, kwargs)
        kwargs.setdefault(
            "sequence_length", loader.config["config"]["max_sequence_length"]
        )
        return kwargs
