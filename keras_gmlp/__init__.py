"""gMLP ("Pay Attention to MLPs", Liu et al., 2021) for Keras 3 and keras-hub."""

from keras_gmlp import layers
from keras_gmlp import models
from keras_gmlp import utils
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.version import __version__

presets = PRESETS

__all__ = ["GMLPClassifier", "__version__", "layers", "models", "presets", "utils"]
