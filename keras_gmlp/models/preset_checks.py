"""Checks of a preset before anything of it is deserialised or built.

A preset comes from the internet (`hf://`, `kaggle://`, a shared folder),
so it is untrusted input. `resolve_preset` checks that a preset directory
holds nothing that leads outside it. Then, before keras-hub reads it:

- every config file is a UTF-8 JSON object, and the objects it serialises
  come from Keras, keras-hub or keras_gmlp: no Lambda layer, no function, no
  module of any other package; the files it names (`config_file`, weight
  shards) are bare file names inside the preset;
- the weights file holds exactly the weights its config implies (the number
  of blocks, then every variable's shape), read from its header alone.
"""

import re

from keras_gmlp.models.backbone_weights import check_weights_file
from keras_gmlp.models.backbone_weights import stored_shapes
from keras_gmlp.models.preset_files import preset_file
from keras_gmlp.models.preset_files import read_json_object

# The config files keras-hub reads from a preset.
CONFIG_FILES = (
    "config.json",
    "task.json",
    "preprocessor.json",
    "tokenizer.json",
    "image_converter.json",
    "metadata.json",
    "model.weights.json",
)
# The packages whose classes a preset may name. Keras itself resolves only
# classes of keras, keras_hub, keras_cv and keras_nlp by module.
ALLOWED_PACKAGES = ("keras", "keras_hub", "keras_nlp", "keras_gmlp")
# Serialised code: Keras' safe mode refuses it too, with a longer story.
CODE_CLASS_NAMES = ("Lambda", "TFOpLambda", "function", "__lambda__")
# Tokenizer arguments that may be the path of a file to read.
ASSET_KEYS = ("vocabulary", "merges", "proto")
_BARE_FILE_NAME = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")


def check_config_files(preset):
    """Refuses a preset whose config files are not JSON objects, or name
    anything but Keras, keras-hub and keras_gmlp objects and files beside
    them; `preset` is a directory or a hub handle."""
    for filename in CONFIG_FILES:
        path = preset_file(preset, filename)
        if path is not None:
            check_serialized_objects(read_json_object(path), filename)


def check_serialized_objects(config, filename):
    """Refuses a config that serialises code or a class of a package other
    than Keras, keras-hub and keras_gmlp, or that names a file elsewhere
    than beside it."""
    pending = [config]
    while pending:  # not recursive: a config may nest deeper than the stack
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            if "class_name" in item:
                _check_class(item, filename)
            if "config_file" in item:
                check_bare_file_name(item["config_file"], filename, "config_file")
            for key in ASSET_KEYS:
                if isinstance(item.get(key), str):
                    raise ValueError(
                        f"{filename} gives `{key}` as the path {item[key]!r}. A "
                        f"preset's `{key}` is an asset file inside it, under "
                        "assets/, never a path to elsewhere."
                    )
            pending.extend(item.values())


def check_bare_file_name(name, filename, key):
    """Refuses a file name, read from `filename` under `key`, that is not a
    plain name in the preset's directory (a path, `..`, hidden)."""
    if not isinstance(name, str) or not _BARE_FILE_NAME.match(name):
        raise ValueError(
            f"{filename} names the file {name!r} as its `{key}`. Expected a "
            "plain file name inside the preset, such as 'tokenizer.json'."
        )


def check_preset_weights(preset, config, backbone_cls, backbone_config, task_config):
    """Refuses a preset whose weights file does not hold the weights of
    the backbone its `config.json` (`backbone_config`, with the caller's
    overrides) and its `task.json` (`task_config`, or `None`) describe."""
    weights_paths = weights_files(preset)
    if not weights_paths:
        return  # keras-hub names the missing file
    described = [("config.json", backbone_config)]
    task_backbone = _task_backbone(task_config)
    if task_backbone is not None:
        if task_backbone.get("registered_name") != config["registered_name"]:
            raise ValueError(
                "task.json holds a backbone of another class than config.json: "
                f"{task_backbone.get('registered_name')!r}, expected "
                f"{config['registered_name']!r}."
            )
        described.append(("task.json", task_backbone["config"]))
    weights_name = f"'{weights_paths[0]}'"
    if len(weights_paths) > 1:
        weights_name = f"the {len(weights_paths)} weight shards of '{preset}'"
    for config_name, described_config in described:
        check_weights_file(
            backbone_cls, described_config, config_name, weights_paths, weights_name
        )
    task_weights = preset_file(preset, "task.weights.h5")
    if task_weights is not None:
        stored_shapes([task_weights], f"'{task_weights}'")  # readable


def weights_files(preset):
    """The local paths of a preset's backbone weights, one file or its
    shards; empty where it has none."""
    path = preset_file(preset, "model.weights.h5")
    if path is not None:
        return [path]
    index = preset_file(preset, "model.weights.json")
    if index is None:
        return []
    weight_map = read_json_object(index).get("weight_map", {})
    shards = set()
    for names in weight_map.values():
        shards.update([names] if isinstance(names, str) else names)
    paths = []
    for shard in sorted(shards):
        check_bare_file_name(shard, "model.weights.json", "weight_map")
        paths.append(preset_file(preset, shard))
    return [path for path in paths if path is not None]


def _task_backbone(task_config):
    """The serialised backbone in `task.json`, `None` where there is none."""
    if task_config is None:
        return None
    backbone = task_config.get("config", {})
    backbone = backbone.get("backbone") if isinstance(backbone, dict) else None
    if backbone is None:
        return None
    if not (isinstance(backbone, dict) and isinstance(backbone.get("config"), dict)):
        raise ValueError(
            "task.json holds a `backbone` that is not a serialised backbone: "
            f"{str(backbone)[:200]}"
        )
    return backbone


def _check_class(config, filename):
    class_name = config["class_name"]
    module = config.get("module")
    registered_name = config.get("registered_name")
    if class_name in CODE_CLASS_NAMES:
        raise ValueError(
            f"{filename} serialises code ({class_name!r}), which a preset may "
            "not hold: presets are loaded as untrusted input."
        )
    packages = []
    if module is not None:
        packages.append(str(module).partition(".")[0])
    if registered_name is not None and ">" in str(registered_name):
        packages.append(str(registered_name).partition(">")[0])
    if any(package not in ALLOWED_PACKAGES for package in packages):
        raise ValueError(
            f"{filename} names {class_name!r} of module {module!r} (registered "
            f"as {registered_name!r}), a class from outside "
            f"{list(ALLOWED_PACKAGES)}. A preset may only hold Keras, keras-hub "
            "and keras_gmlp objects."
        )
