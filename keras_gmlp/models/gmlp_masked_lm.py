import keras
import keras_hub

from keras_gmlp.models.gmlp_data_loader_mixin import GMLPDataLoaderMixin
from keras_gmlp.models.gmlp_input_check_mixin import GMLPInputCheckMixin
from keras_gmlp.models.gmlp_masked_lm_preprocessor import GMLPMaskedLMPreprocessor
from keras_gmlp.models.gmlp_optimizer_mixin import GMLPOptimizerMixin
from keras_gmlp.models.gmlp_preset_mixin import GMLPPresetMixin
from keras_gmlp.models.gmlp_shuffle_mixin import GMLPShuffleMixin
from keras_gmlp.models.gmlp_text_backbone import GMLPTextBackbone
from keras_gmlp.models.input_checks import check_preprocessor_fits


@keras.saving.register_keras_serializable(package="keras_gmlp")
class GMLPMaskedLM(
    GMLPPresetMixin,
    GMLPOptimizerMixin,
    GMLPInputCheckMixin,
    GMLPShuffleMixin,
    GMLPDataLoaderMixin,
    keras_hub.models.MaskedLM,
):
    """Masked language modelling (BERT-style pretraining) on a gMLP encoder.

    The paper's text pretraining task. A `keras_hub.models.MaskedLMHead`,
    tied to the backbone's token embedding, predicts the tokens at
    `mask_positions`. `fit` takes raw strings and masks them with
    `GMLPMaskedLMPreprocessor`; `predict` gives the logits at the masked
    positions, `(batch, mask_selection_length, vocabulary_size)`. The default
    compilation reports accuracy and perplexity over the masked tokens.

    Args:
        backbone: a bidirectional `GMLPTextBackbone`.
        preprocessor: a `GMLPMaskedLMPreprocessor`, or `None`.
        **kwargs: other arguments of `keras_hub.models.MaskedLM`.

    Example:
    ```python
    import keras_gmlp

    lm = keras_gmlp.models.GMLPMaskedLM.from_preset("amlp_tiny_text_test")
    lm.fit(["a value and a file", "return an error"] * 4, epochs=1, verbose=0)
    ```
    """

    backbone_cls = GMLPTextBackbone
    preprocessor_cls = GMLPMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        if preprocessor is not None:
            check_preprocessor_fits(preprocessor, backbone, type(self).__name__)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = keras_hub.layers.MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            dtype=backbone.dtype_policy,
            name="masked_lm_head",
        )
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        features = backbone(backbone.input)
        outputs = self.masked_lm_head(features, inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile(
        self, optimizer="auto", loss="auto", *, weighted_metrics="auto", **kwargs
    ):
        if weighted_metrics == "auto":
            weighted_metrics = [
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras_hub.metrics.Perplexity(from_logits=True, name="perplexity"),
            ]
        super().compile(
            optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs
        )
