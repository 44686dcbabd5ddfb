"""Backend-agnostic gMLP layers, written with `keras.ops` (and, on torch with
a CPU whose MKL lacks AVX-512, oneDNN convolutions for the large matmuls:
see `matmul.py`)."""

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
