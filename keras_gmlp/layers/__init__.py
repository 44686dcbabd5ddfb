"""Backend-agnostic gMLP layers, written with `keras.ops` (with faster forms of
some computations on a CPU: see `cpu_kernels.py`)."""

from keras_gmlp.layers.drop_path import DropPath
from keras_gmlp.layers.gmlp_block import GMLPBlock
from keras_gmlp.layers.patch_embedding import PatchEmbedding
from keras_gmlp.layers.spatial_gating_unit import SpatialGatingUnit
from keras_gmlp.layers.tiny_attention import TinyAttention

__all__ = [
    "DropPath",
    "GMLPBlock",
    "PatchEmbedding",
    "SpatialGatingUnit",
    "TinyAttention",
]
