class GMLPLoRAMixin:
    """LoRA for the gMLP backbones, through keras-hub's `enable_lora`.

    `backbone.enable_lora(rank)` adds rank-`rank` factors to each block's
    `proj_in` and `proj_out`, and to the tiny attention's projections where
    the blocks have one, and freezes everything else, biases included, as
    PEFT's LoRA does by default: only the factors train. The spatial
    weights `W` stay frozen too; they are `n x n`, not a projection.
    """

    def default_lora_layer_names(self):
        return ["proj_in", "proj_out", "query_key_value_dense", "output_dense"]

    def enable_lora(self, rank, target_layer_names=None):
        super().enable_lora(rank, target_layer_names)
        # keras-hub leaves the target layers' biases trainable.
        for variable in self.trainable_weights:
            if not variable.path.endswith(("lora_kernel_a", "lora_kernel_b")):
                variable.trainable = False
