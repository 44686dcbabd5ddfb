import pathlib

import keras
import keras_hub

from keras_gmlp.layers.argument_checks import check_positive_int
from keras_gmlp.layers.argument_checks import check_rate
from keras_gmlp.layers.memory_budget import check_fits_in_memory
from keras_gmlp.layers.memory_budget import weight_bytes
from keras_gmlp.models.input_checks import check_preprocessor_fits


class GMLPClassifierHead:
    """The head that the image and text classifiers share.

    Each classifier pools the backbone's token features in its own `_pool`;
    the pooled features go through dropout and a `Dense(num_classes)` layer.
    Mixed into a `keras_hub.models.Task` subclass, whose constructor this
    one replaces.
    """

    @classmethod
    def from_preset(cls, preset, **kwargs):
        is_directory = pathlib.Path(preset).is_dir()
        has_head = is_directory and (pathlib.Path(preset) / "task.json").exists()
        if is_directory and not has_head and "num_classes" not in kwargs:
            raise ValueError(
                f"Preset '{preset}' holds no classification head, so "
                f"{cls.__name__}.from_preset needs `num_classes`."
            )
        return super().from_preset(preset, **kwargs)

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        dropout=0.0,
        head_dtype=None,
        **kwargs,
    ):
        owner = type(self).__name__
        check_positive_int(owner, "num_classes", num_classes)
        check_rate(owner, "dropout", dropout)
        head_policy = head_dtype or backbone.dtype_policy
        head_shapes = [(backbone.hidden_dim, num_classes), (num_classes,)]
        check_fits_in_memory(
            weight_bytes(head_shapes, head_policy),
            f"The weights of a classification head of {num_classes} classes",
        )
        if preprocessor is not None:
            check_preprocessor_fits(preprocessor, backbone, owner)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=head_policy, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes, activation=activation, dtype=head_policy, name="predictions"
        )
        inputs = backbone.input
        pooled = self._pool(backbone(inputs), inputs)
        logits = self.output_dense(self.output_dropout(pooled))
        keras_hub.models.Task.__init__(self, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.activation = activation
        self.dropout = dropout
        self.head_dtype = head_dtype

    def _pool(self, features, inputs):
        """One feature vector per example from the backbone's token features."""
        raise NotImplementedError

    def get_config(self):
        # `Task.get_config` on purpose: keras-hub's classifiers add the
        # arguments of their own heads (pooling and the like).
        config = keras_hub.models.Task.get_config(self)
        head_dtype = self.head_dtype
        if head_dtype is not None:
            head_dtype = keras.dtype_policies.serialize(
                keras.dtype_policies.get(head_dtype)
            )
        config.update(
            {
                "num_classes": self.num_classes,
                "activation": self.activation,
                "dropout": self.dropout,
                "head_dtype": head_dtype,
            }
        )
        return config
