"""Process-wide settings that keras_gmlp leaves to the caller."""

from keras_gmlp.utils.cpu_memory import tune_cpu_memory

__all__ = ["tune_cpu_memory"]
