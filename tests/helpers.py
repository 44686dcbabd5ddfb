"""Checks shared by the layer and model tests, on every backend."""

import copy

import keras
import numpy as np
from keras import ops

from keras_gmlp.layers import cpu_kernels

# How long a test waits for a worker process it starts (the distribution
# tests): minutes when the suites of three backends share two cores.
WORKER_TIMEOUT_S = 900


def to_numpy(x):
    return ops.convert_to_numpy(ops.cast(x, "float32"))


def run_the_plain_path(monkeypatch):
    """Turns every CPU kernel off, so that the layers compute as they do off
    the CPU."""
    monkeypatch.setattr(cpu_kernels, "KERNELS", dict.fromkeys(cpu_kernels.KERNELS, ()))


def randomize_weights(layer, scale=0.5, offset=0.0, seed=1):
    """Gives every weight random values, so that no term hides at zero."""
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(offset + scale * rng.normal(size=variable.shape))
    return layer


def masked_sequence_model(layer, length, channels):
    """A functional model of `layer(x, padding_mask=mask)`, for saving tests."""
    x = keras.Input((length, channels))
    mask = keras.Input((length,), dtype="bool")
    return keras.Model([x, mask], layer(x, padding_mask=mask))


def assert_config_round_trip(layer):
    config = layer.get_config()
    # A copy: keras-hub's `Task.from_config` replaces nested configs in place.
    restored = layer.__class__.from_config(copy.deepcopy(config))
    assert restored.get_config() == config


def assert_saving_round_trip(model, inputs, tmp_path):
    """`.keras` save and load give the same outputs."""
    path = tmp_path / "model.keras"
    expected = to_numpy(model(inputs))
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(restored(inputs)), expected, atol=1e-6)


def gradients(model, inputs, **call_kwargs):
    """Gradients of a scalar loss w.r.t. `model.trainable_variables`.

    The loss is nonlinear in the outputs so that no weight gets a zero
    gradient from symmetry alone (a plain sum would, through a LayerNorm).
    """

    def loss_of(outputs):
        return ops.sum(ops.sin(3.0 * ops.cast(outputs, "float32")))

    model(inputs, **call_kwargs)  # builds the weights of an unbuilt layer
    backend = keras.backend.backend()
    variables = model.trainable_variables
    if backend == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_fn(trainable):
            outputs, _ = model.stateless_call(
                trainable, non_trainable, inputs, **call_kwargs
            )
            return loss_of(outputs)

        grads = jax.grad(loss_fn)([v.value for v in variables])
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_of(model(inputs, **call_kwargs))
        grads = tape.gradient(loss, [v.value for v in variables])
    else:
        for variable in variables:
            variable.value.grad = None
        loss_of(model(inputs, **call_kwargs)).backward()
        grads = [v.value.grad for v in variables]
    return {v.path: g for v, g in zip(variables, grads, strict=True)}


def assert_gradients_reach_every_weight(model, inputs, **call_kwargs):
    grads = gradients(model, inputs, **call_kwargs)
    assert grads, "the model has no trainable weights"
    unreached = [
        path
        for path, grad in grads.items()
        if grad is None or not np.any(to_numpy(grad))
    ]
    assert not unreached, f"no gradient reaches {unreached}"


def assert_finite_with_dtype(outputs, dtype):
    assert keras.backend.standardize_dtype(outputs.dtype) == dtype
    assert np.all(np.isfinite(to_numpy(outputs)))


def assert_fit_lowers_the_loss(task, args, kwargs, epochs=4):
    """`fit` on `(args, kwargs)` lowers the evaluated loss by 20% or more,
    and `predict` takes the same data."""
    before = task.evaluate(*args, **kwargs, verbose=0)[0]
    task.fit(*args, **kwargs, epochs=epochs, verbose=0)
    after = task.evaluate(*args, **kwargs, verbose=0)[0]
    assert after < 0.8 * before
    return task.predict(args[0], verbose=0)
