import contextlib


class GMLPOptimizerMixin:
    """Builds a keras-hub task's optimizer before a train step is traced.

    Outside a `tf.distribute` strategy, Keras' TensorFlow trainer leaves the
    optimizer to build itself inside the first traced train step, and
    `tf.function` then traces the whole step twice: once creating the
    optimizer's variables, once more without. Built beforehand, as the JAX
    and torch trainers already do, the step is traced once, and the first
    `fit` on TensorFlow is much faster (benchmarks/README.md, "The optimizer
    built before the first train step").
    """

    def fit(self, *args, **kwargs):
        self._build_optimizer()
        return super().fit(*args, **kwargs)

    def train_on_batch(self, *args, **kwargs):
        self._build_optimizer()
        return super().train_on_batch(*args, **kwargs)

    def _build_optimizer(self):
        # Uncompiled, the model has no `optimizer`: Keras' own `fit` then
        # says to call `compile()` first.
        if not (self.built and self.compiled):
            return
        if self.optimizer is None or self.optimizer.built:
            return
        # A model made under a `tf.distribute` strategy gets its optimizer's
        # variables from that strategy, as in Keras' own build; only
        # TensorFlow's trainer has `distribute_strategy`.
        strategy = getattr(self, "distribute_strategy", None)
        with strategy.scope() if strategy else contextlib.nullcontext():
            self.optimizer.build(self.trainable_variables)
