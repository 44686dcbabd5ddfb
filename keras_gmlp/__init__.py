"""gMLP ("Pay Attention to MLPs", Liu et al., 2021) for Keras 3 and keras-hub."""

from keras_gmlp import layers
from keras_gmlp import models
from keras_gmlp.cpu_memory import keep_freed_memory
from keras_gmlp.models import GMLPClassifier
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.version import __version__

presets = PRESETS

# Before JAX starts its threads, at its first computation (`cpu_memory.py`).
keep_freed_memory()

__all__ = ["GMLPClassifier", "__version__", "layers", "models", "presets"]
