"""gMLP backbones built on `keras_hub.models.Backbone`."""

from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone

__all__ = ["GMLPBackbone", "GMLPTextBackbone"]
