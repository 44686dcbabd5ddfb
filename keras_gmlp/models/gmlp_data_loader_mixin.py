import keras
import numpy as np


def is_torch_data_loader(x):
    """Whether `x` is a `torch.utils.data.DataLoader`, without importing torch."""
    return any(
        cls.__name__ == "DataLoader" and cls.__module__.startswith("torch.utils.data")
        for cls in type(x).__mro__
    )


class GMLPDataLoaderMixin:
    """Lets a keras-hub task's `fit`, `evaluate` and `predict` take a PyTorch
    `DataLoader` of raw samples, on every backend.

    keras-hub preprocesses numpy arrays and `tf.data` datasets itself but
    cannot map its preprocessor over a `DataLoader`. Here each batch of the
    loader is preprocessed as it is drawn, and the preprocessed batches go to
    `keras.Model`'s own loops: calling them directly skips the keras-hub
    dataset conversion that a `DataLoader` cannot go through.
    """

    def fit(self, x=None, y=None, **kwargs):
        if not is_torch_data_loader(x):
            return super().fit(x, y, **kwargs)
        kwargs.setdefault("steps_per_epoch", len(x))
        kwargs.setdefault("shuffle", False)  # the loader shuffles, if asked
        validation_data = kwargs.get("validation_data")
        if is_torch_data_loader(validation_data):
            kwargs.setdefault("validation_steps", len(validation_data))
            kwargs["validation_data"] = self._preprocessed_batches(
                validation_data, repeat=True
            )
        batches = self._preprocessed_batches(x, repeat=True)
        return keras.Model.fit(self, batches, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        if not is_torch_data_loader(x):
            return super().evaluate(x, y, **kwargs)
        kwargs.setdefault("steps", len(x))
        return keras.Model.evaluate(self, self._preprocessed_batches(x), **kwargs)

    def predict(self, x, **kwargs):
        if not is_torch_data_loader(x):
            return super().predict(x, **kwargs)
        kwargs.setdefault("steps", len(x))
        return keras.Model.predict(self, self._preprocessed_batches(x), **kwargs)

    def _preprocessed_batches(self, loader, repeat=False):
        """Yields the loader's batches, preprocessed, as numpy; forever if
        `repeat`, since Keras draws every epoch from one generator."""
        while True:
            for batch in loader:
                batch = _batch_to_numpy(batch)
                x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
                yield keras.tree.map_structure(
                    keras.ops.convert_to_numpy,
                    self.preprocess_samples(x, y, sample_weight),
                )
            if not repeat:
                return


def _batch_to_numpy(batch):
    """A collated batch as numpy: lists of strings become string arrays,
    other lists (collated tuples of fields) become tuples."""
    if isinstance(batch, dict):
        return {key: _batch_to_numpy(value) for key, value in batch.items()}
    if isinstance(batch, list | tuple) and not all(
        isinstance(item, str | bytes) for item in batch
    ):
        return tuple(_batch_to_numpy(item) for item in batch)
    return np.asarray(batch)
