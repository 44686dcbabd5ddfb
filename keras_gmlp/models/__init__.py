"""gMLP backbones and tasks built on keras-hub's public base classes."""

from keras_gmlp.models.gmlp_backbone import GMLPBackbone
from keras_gmlp.models.gmlp_byte_tokenizer import GMLPByteTokenizer
from keras_gmlp.models.gmlp_causal_lm import GMLPCausalLM
from keras_gmlp.models.gmlp_causal_lm_preprocessor import GMLPCausalLMPreprocessor
from keras_gmlp.models.gmlp_classifier import GMLPClassifier
from keras_gmlp.models.gmlp_image_classifier import GMLPImageClassifier
from keras_gmlp.models.gmlp_image_classifier_preprocessor import (
    GMLPImageClassifierPreprocessor,
)
from keras_gmlp.models.gmlp_image_converter import GMLPImageConverter
from keras_gmlp.models.gmlp_masked_lm import GMLPMaskedLM
from keras_gmlp.models.gmlp_masked_lm_preprocessor import GMLPMaskedLMPreprocessor
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.gmlp_text_classifier import GMLPTextClassifier
from keras_gmlp.models.gmlp_text_classifier_preprocessor import (
    GMLPTextClassifierPreprocessor,
)
from keras_gmlp.models.gmlp_tokenizer import GMLPTokenizer

__all__ = [
    "GMLPBackbone",
    "GMLPByteTokenizer",
    "GMLPCausalLM",
    "GMLPCausalLMPreprocessor",
    "GMLPClassifier",
    "GMLPImageClassifier",
    "GMLPImageClassifierPreprocessor",
    "GMLPImageConverter",
    "GMLPMaskedLM",
    "GMLPMaskedLMPreprocessor",
    "GMLPTextBackbone",
    "GMLPTextClassifier",
    "GMLPTextClassifierPreprocessor",
    "GMLPTokenizer",
]
