import keras

from keras_gmlp.models.gmlp_shuffle_mixin import flatten_leaves
from keras_gmlp.models.gmlp_shuffle_mixin import holds_arrays
from keras_gmlp.models.gmlp_tokenizer import check_text
from keras_gmlp.models.input_checks import check_labels
from keras_gmlp.models.input_checks import check_not_empty
from keras_gmlp.models.input_checks import check_raw_images

SPARSE_LOSSES = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")


class GMLPInputCheckMixin:
    """Checks the arrays a keras-hub task's `fit`, `evaluate` and `predict`
    get, before they reach Keras' trainer.

    Inside the trainer's compiled step a bad value cannot raise a clear
    error: labels past the classes train with a finite loss on JAX, an
    empty batch raises `UnboundLocalError`. And on JAX an error inside a
    step leaves the model unusable: Keras' trainer sets the variables'
    values aside for the step and never gives them back, so every later
    call fails with `'NoneType' object is not callable`. Here the samples
    are checked first (at least one; images of the backbone's channels, or
    text; class labels in `[0, num_classes)`), so a bad call raises a
    `ValueError` and leaves the model as it was. Datasets, generators and
    `DataLoader`s are the caller's to check. Mixed in before
    `GMLPShuffleMixin`, which turns arrays into a dataset.
    """

    def fit(self, x=None, y=None, **kwargs):
        self.check_samples(x, y)
        validation_data = kwargs.get("validation_data")
        if isinstance(validation_data, tuple):
            self.check_samples(*validation_data[:2])
        return super().fit(x, y, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        self.check_samples(x, y)
        return super().evaluate(x, y, **kwargs)

    def predict(self, x, **kwargs):
        self.check_samples(x)
        return super().predict(x, **kwargs)

    def check_samples(self, x, y=None):
        """Raises a `ValueError` for arrays of samples (and labels) this task
        cannot take; anything but arrays passes unchecked."""
        if not holds_arrays(x):
            return
        owner = type(self).__name__
        for leaf in flatten_leaves(x):
            check_not_empty(leaf, owner)
        if self.preprocessor is None:
            self.backbone.check_inputs(x)
        elif self.backbone.modality == "image":
            check_raw_images(flatten_leaves(x)[0], self.backbone.image_shape[2], owner)
        else:
            for leaf in flatten_leaves(x):
                check_text(leaf, owner)
        if y is not None and self._takes_class_labels():
            check_labels(y, self.num_classes, owner)

    def _takes_class_labels(self):
        """Whether the compiled loss reads one class index a sample."""
        loss = self.loss
        name = loss if isinstance(loss, str) else type(loss).__name__
        is_sparse = (
            name in SPARSE_LOSSES
            or loss is keras.losses.sparse_categorical_crossentropy
        )
        return hasattr(self, "num_classes") and is_sparse
