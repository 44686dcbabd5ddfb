"""Loads timm's gMLP checkpoints (`config.json` + `model.safetensors`).

timm publishes its ImageNet gMLP weights on the Hugging Face hub in its own
layout. This module maps that layout onto `GMLPBackbone` and
`GMLPImageClassifier` with timm's exact numerics: LayerNorm epsilon 1e-6 on
the blocks and the final norm and 1e-5 in the gating unit (the defaults of
`GMLPBackbone`), exact GELU, u the first half of the channels, and the gate's
`Linear(n, n)` applied over tokens, which is `W v + b` with `W` its weight.
"""

import pickle

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

# timm's registered gMLP architectures, as `MlpMixer` arguments.
TIMM_ARCHITECTURES = {
    "gmlp_ti16_224": {"embed_dim": 128},
    "gmlp_s16_224": {"embed_dim": 256},
    "gmlp_b16_224": {"embed_dim": 512},
}
TIMM_DEFAULTS = {
    "img_size": 224,
    "patch_size": 16,
    "num_blocks": 30,
    "mlp_ratio": 6,
    "in_chans": 3,
    "num_classes": 1000,
}


def is_timm_config(config):
    return "architecture" in config


def timm_model_args(config):
    """timm's `MlpMixer` arguments: the architecture's, then `model_args`."""
    architecture = config["architecture"]
    if architecture not in TIMM_ARCHITECTURES:
        raise ValueError(
            f"timm architecture '{architecture}' is not a gMLP. Supported: "
            f"{sorted(TIMM_ARCHITECTURES)}"
        )
    return {
        **TIMM_DEFAULTS,
        "num_classes": config.get("num_classes", TIMM_DEFAULTS["num_classes"]),
        **TIMM_ARCHITECTURES[architecture],
        **config.get("model_args", {}),
    }


def timm_backbone_kwargs(config):
    """`GMLPBackbone` arguments for a timm config."""
    args = timm_model_args(config)
    image_size = args["img_size"]
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    return {
        "num_layers": args["num_blocks"],
        "hidden_dim": args["embed_dim"],
        "intermediate_dim": int(args["mlp_ratio"] * args["embed_dim"]),
        "image_shape": (*image_size, args["in_chans"]),
        "patch_size": args["patch_size"],
    }


def timm_num_classes(config):
    return timm_model_args(config)["num_classes"]


def timm_converter_kwargs(config):
    """`GMLPImageConverter` arguments from timm's `pretrained_cfg`."""
    pretrained = config.get("pretrained_cfg", {})
    mean = np.asarray(pretrained.get("mean", (0.5, 0.5, 0.5)), "float64")
    std = np.asarray(pretrained.get("std", (0.5, 0.5, 0.5)), "float64")
    input_size = pretrained.get("input_size")
    if input_size is None:
        input_size = (3, *timm_backbone_kwargs(config)["image_shape"][:2])
    # timm normalises x / 255 as (x - mean) / std.
    return {
        "image_size": tuple(input_size[1:]),
        "scale": (1 / (255 * std)).tolist(),
        "offset": (-mean / std).tolist(),
        "interpolation": pretrained.get("interpolation", "bicubic"),
        "crop_pct": pretrained.get("crop_pct", 1.0),
    }


def timm_weight_assignments(backbone, state_dict, head=None):
    """Pairs every weight with its timm tensor, checking names and shapes.

    Args:
        backbone: a `GMLPBackbone`.
        state_dict: dict of timm tensor names to numpy arrays.
        head: the classifier's `Dense` layer, or `None` to skip timm's head.

    Returns:
        A list of `(variable, value)` pairs, complete: nothing is assigned
        until every tensor has been checked.
    """
    layout = _timm_layout(backbone, head)
    expected = set(layout)
    if head is None:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("head.")}
    missing = sorted(expected - set(state_dict))
    unexpected = sorted(set(state_dict) - expected)
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise ValueError(
            f"The timm checkpoint does not match the model: tensor '{first}' is "
            f"{'missing' if missing else 'unexpected'} ({len(missing)} missing, "
            f"{len(unexpected)} unexpected)"
        )
    assignments = []
    for name, (variable, convert) in layout.items():
        value = convert(np.asarray(state_dict[name]))
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"The timm checkpoint does not match the model: tensor '{name}' "
                f"has shape {tuple(state_dict[name].shape)}, which converts to "
                f"{tuple(value.shape)}, but the model expects "
                f"{tuple(variable.shape)}"
            )
        assignments.append((variable, value))
    return assignments


def _timm_layout(backbone, head):
    """timm tensor name -> (our variable, conversion of the timm value)."""

    def same(value):
        return value

    def linear(value):  # torch Linear weights are (out, in)
        return value.T

    def conv(value):  # OIHW -> HWIO
        return value.transpose(2, 3, 1, 0)

    def per_head(value):  # one head: a leading axis of size 1
        return value[None]

    layout = {
        "stem.proj.weight": (backbone.patch_embedding.projection.kernel, conv),
        "stem.proj.bias": (backbone.patch_embedding.projection.bias, same),
        "norm.weight": (backbone.layer_norm.gamma, same),
        "norm.bias": (backbone.layer_norm.beta, same),
    }
    for index, block in enumerate(backbone.blocks):
        prefix = f"blocks.{index}."
        gate = block.spatial_gating_unit
        layout.update(
            {
                prefix + "norm.weight": (block.layer_norm.gamma, same),
                prefix + "norm.bias": (block.layer_norm.beta, same),
                prefix + "mlp_channels.fc1.weight": (block.proj_in.kernel, linear),
                prefix + "mlp_channels.fc1.bias": (block.proj_in.bias, same),
                prefix + "mlp_channels.gate.norm.weight": (gate.layer_norm.gamma, same),
                prefix + "mlp_channels.gate.norm.bias": (gate.layer_norm.beta, same),
                prefix + "mlp_channels.gate.proj.weight": (
                    gate.spatial_kernel,
                    per_head,
                ),
                prefix + "mlp_channels.gate.proj.bias": (gate.spatial_bias, per_head),
                prefix + "mlp_channels.fc2.weight": (block.proj_out.kernel, linear),
                prefix + "mlp_channels.fc2.bias": (block.proj_out.bias, same),
            }
        )
    if head is not None:
        layout["head.weight"] = (head.kernel, linear)
        layout["head.bias"] = (head.bias, same)
    return layout


def read_timm_state_dict(checkpoint_path):
    """Reads `model.safetensors`, or a `pytorch_model.bin` as tensors only."""
    if str(checkpoint_path).endswith(".safetensors"):
        try:
            return load_file(str(checkpoint_path))
        except SafetensorError as error:
            raise ValueError(
                f"'{checkpoint_path}' is not a readable safetensors file: {error}"
            ) from None
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "This timm checkpoint is a pytorch_model.bin, which needs torch to "
            "read: `pip install torch`, or use a model.safetensors checkpoint."
        ) from error
    try:
        # `weights_only` reads tensors and never runs code from the file.
        state_dict = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message advises `weights_only=False`, which would run it.
        raise ValueError(
            f"'{checkpoint_path}' holds more than tensors (Python objects or "
            "code), so it was refused: checkpoints are read as data only. Use "
            "the checkpoint's model.safetensors."
        ) from None
    if not isinstance(state_dict, dict) or not all(
        isinstance(value, torch.Tensor) for value in state_dict.values()
    ):
        raise ValueError(f"'{checkpoint_path}' is not a state dict of tensors.")
    # numpy has no bfloat16: such weights are read as float32, exactly.
    return {
        name: tensor.float().numpy()
        if tensor.dtype == torch.bfloat16
        else tensor.numpy()
        for name, tensor in state_dict.items()
    }


def load_timm_weights(backbone, checkpoint_path, head=None):
    """Assigns a timm checkpoint's tensors to `backbone` (and to `head`, the
    classifier's `Dense` layer, unless `None`), after checking them all."""
    state_dict = read_timm_state_dict(checkpoint_path)
    for variable, value in timm_weight_assignments(backbone, state_dict, head):
        variable.assign(value)
