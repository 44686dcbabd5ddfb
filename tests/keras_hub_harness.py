"""keras-hub's own model test harness, for the tests only.

`keras_hub.src.tests.test_case` is not public API: this module is the one
place that imports it, and the one to adapt when a keras-hub release moves
or changes it. It needs `grain` (the `dev` extra installs it).
"""

from keras_hub.src.tests.test_case import TestCase


class HarnessTestCase(TestCase):
    """keras-hub's `TestCase`, which every keras-hub model's tests extend."""

    # TensorFlow's deprecated session helper, which pytest would collect and
    # skip as a test of every class.
    test_session = None

    def run_preprocessor_test(self, cls, init_kwargs, input_data, **kwargs):
        # keras-hub's rebuilds the preprocessor from `self.init_kwargs`, which
        # its own tests set in `setUp`, rather than from `init_kwargs`.
        self.init_kwargs = init_kwargs
        return super().run_preprocessor_test(cls, init_kwargs, input_data, **kwargs)
