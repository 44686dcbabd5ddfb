"""Preset files: resolving a preset, reading its config and saving one
atomically. Imports no model class, so that every class can use it.
"""

import contextlib
import fnmatch
import json
import os
import pathlib
import shutil

from keras_gmlp.models import timm_gmlp_loader
from keras_gmlp.models.directory_swap import remove_leftovers
from keras_gmlp.models.directory_swap import staging_directory
from keras_gmlp.models.directory_swap import swap_into_place
from keras_gmlp.models.gmlp_presets import PRESET_FILES
from keras_gmlp.models.gmlp_presets import PRESETS

# The registered names of the backbones a preset may hold, and their modality.
BACKBONE_MODALITIES = {
    "keras_gmlp>GMLPBackbone": "image",
    "keras_gmlp>GMLPTextBackbone": "text",
}
# Config files are a few KB; a larger one is refused before it is parsed.
MAX_CONFIG_BYTES = 64 * 2**20
_JSON_TYPES = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
# Preset directories being written by an outer `save_to_preset`: a task saves
# its backbone and preprocessor into the same staging directory.
_STAGING_DIRECTORIES = set()


def resolve_preset(preset, needs_weights=False):
    """A named preset's directory or handle; other presets checked as given.

    Raises a `ValueError` for an unknown name or directory, a directory
    without `config.json`, or a named preset without weights when weights
    are needed.
    """
    if not isinstance(preset, (str, pathlib.Path)):
        raise ValueError(
            "A preset is a name, a directory or a hf:// or kaggle:// handle. "
            f"Received: {preset!r}"
        )
    preset = str(preset)
    if preset in PRESETS:
        return _named_preset(preset, needs_weights)
    if "://" in preset:
        return preset
    directory = pathlib.Path(preset)
    if not directory.is_dir():
        raise ValueError(
            f"Unknown preset '{preset}': it is not a named preset nor a "
            f"directory. Named presets: {sorted(PRESETS)}"
        )
    check_files_stay_inside(directory)
    if not (directory / "config.json").exists():
        raise ValueError(
            f"'{preset}' is not a preset directory: it has no config.json. "
            "Presets are written by `save_to_preset`."
        )
    return preset


def check_files_stay_inside(directory):
    """Refuses a preset directory holding an entry that resolves (symlinks
    followed) outside it, or that is neither a regular file nor a directory:
    a preset reads no vocabulary from elsewhere on disk, and no FIFO blocks
    a read forever."""
    root = pathlib.Path(os.path.realpath(directory))
    for parent, names, filenames in os.walk(root):
        for name in names + filenames:
            path = pathlib.Path(parent) / name
            resolved = pathlib.Path(os.path.realpath(path))
            if not resolved.is_relative_to(root):
                raise ValueError(
                    f"Preset '{directory}' holds '{path.relative_to(root)}', "
                    f"which resolves to '{resolved}', outside the preset. A "
                    "preset may only read its own files."
                )
            if not (resolved.is_file() or resolved.is_dir()):
                raise ValueError(
                    f"Preset '{directory}' holds '{path.relative_to(root)}', "
                    "which is neither a regular file nor a directory."
                )


def _named_preset(name, needs_weights):
    preset = PRESETS[name]
    if "handle" in preset:
        return preset["handle"]
    if needs_weights and not preset["has_weights"]:
        with_weights = sorted(n for n, p in PRESETS.items() if p["has_weights"])
        raise ValueError(
            f"Preset '{name}' is an architecture that ships no weights. Pass "
            "`load_weights=False` for a randomly initialised model, or use a "
            f"preset with weights: {with_weights}"
        )
    return str(PRESET_FILES / name)


def preset_file(preset, filename):
    """The local path of a file of a preset directory or hf:// or kaggle://
    handle, downloaded once and cached by the hub's client; `None` where the
    preset has no such file."""
    scheme, _, handle = preset.rpartition("://")
    if scheme == "hf":
        import huggingface_hub

        repo_id, _, revision = handle.partition("@")
        try:
            return huggingface_hub.hf_hub_download(
                repo_id, filename, revision=revision or None
            )
        except huggingface_hub.errors.LocalEntryNotFoundError as error:
            # A subclass of the error below: the hub was not reached, so
            # nothing says the file is missing.
            raise OSError(
                f"Cannot fetch '{filename}' of preset '{preset}': the Hugging "
                "Face Hub is unreachable and the file is not in its local "
                "cache. Check the network, or load a preset directory."
            ) from error
        except huggingface_hub.errors.EntryNotFoundError:
            return None
    if scheme == "kaggle":
        import kagglehub

        try:
            return kagglehub.model_download(handle, filename)
        except Exception:  # kagglehub raises several kinds for a missing file
            return None
    if scheme:
        raise ValueError(
            f"Unsupported preset scheme '{scheme}://' in '{preset}'. Use a "
            "named preset, a directory, hf:// or kaggle://."
        )
    path = pathlib.Path(preset) / filename
    return str(path) if path.exists() else None


def read_preset_config(preset):
    """The `config.json` of a preset, as a dict."""
    path = preset_file(preset, "config.json")
    if path is None:
        raise ValueError(f"Preset '{preset}' has no config.json.")
    return read_json_object(path)


def read_json_object(path):
    """The JSON object (a dict) in the file `path`; a `ValueError` naming the
    file for one that is too large, not UTF-8, not JSON or not an object."""
    path = pathlib.Path(path)
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(
            f"{path} holds {path.stat().st_size} bytes, more than a config file "
            f"may ({MAX_CONFIG_BYTES})."
        )
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path} is not a UTF-8 JSON file: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(
            f"{path} holds a JSON {_JSON_TYPES[type(config)]}, expected an "
            "object (a dict of settings)."
        )
    return config


def preset_modality(preset):
    """`"image"` or `"text"`: the kind of gMLP model a preset holds."""
    return config_modality(read_preset_config(preset), preset)


def config_modality(config, preset):
    """`"image"` or `"text"` for a preset's config; a `ValueError` for a
    config that holds no gMLP model (which is then never deserialised)."""
    if timm_gmlp_loader.is_timm_config(config):
        timm_gmlp_loader.timm_model_args(config)  # rejects other architectures
        return "image"
    registered_name = config.get("registered_name")
    if registered_name not in BACKBONE_MODALITIES:
        raise ValueError(
            f"Preset '{preset}' does not hold a gMLP backbone: its config.json "
            f"names {registered_name!r}, expected one of "
            f"{sorted(BACKBONE_MODALITIES)}"
        )
    if not isinstance(config.get("config"), dict):
        raise ValueError(
            f"Preset '{preset}' has a config.json without the backbone's "
            'arguments: expected an object under "config".'
        )
    return BACKBONE_MODALITIES[registered_name]


@contextlib.contextmanager
def staged_preset_directory(preset_dir, kept_files=()):
    """Yields an empty staging directory that replaces `preset_dir` whole
    once the block saved into it.

    At every instant `preset_dir` holds the complete old preset or the
    complete new one (`directory_swap`). Of the old preset, only the files
    that match `kept_files` (fnmatch patterns of names in the preset, or of
    `assets/` subdirectories) and that the save did not write are carried
    over: saving a tokenizer into a preset keeps its backbone, while saving a
    task leaves no old file behind. On failure the staging directory is
    removed and `preset_dir` is left as it was. New directories get the
    permissions of the user's umask; a `preset_dir` that is a symlink stays
    one, its target replaced. Leftovers of saves that were killed are
    removed first.
    """
    target = pathlib.Path(os.path.realpath(preset_dir))
    if str(target) in _STAGING_DIRECTORIES:
        yield str(target)
        return
    check_preset_destination(preset_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    staging = staging_directory(target)
    _STAGING_DIRECTORIES.add(str(staging))
    try:
        yield str(staging)
        if target.is_dir():
            _carry_over(target, staging, kept_files)
        swap_into_place(staging, target)
    finally:
        _STAGING_DIRECTORIES.discard(str(staging))
        # The failed new preset, or the old one after the swap. What remains
        # of it the next save removes; the save itself has failed or not.
        with contextlib.suppress(OSError):
            shutil.rmtree(staging, ignore_errors=True)


def _carry_over(old, new, kept_files):
    """Copies into `new` the files of `old` that match `kept_files` and
    that `new` does not have."""
    entries = [entry for entry in old.iterdir() if entry.name != "assets"]
    if (old / "assets").is_dir():
        entries += list((old / "assets").iterdir())
    for entry in entries:
        name = str(entry.relative_to(old))
        destination = new / name
        kept = any(fnmatch.fnmatch(name, pattern) for pattern in kept_files)
        if not kept or os.path.lexists(destination):
            continue
        destination.parent.mkdir(exist_ok=True)
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, destination, symlinks=True)
        else:
            shutil.copy2(entry, destination, follow_symlinks=False)


def check_preset_destination(preset_dir):
    """Raises a `ValueError` unless a preset may be saved to `preset_dir`:
    a new or empty directory, or an existing preset."""
    target = pathlib.Path(preset_dir)
    if target.exists() and not target.is_dir():
        raise ValueError(f"Cannot save a preset to '{preset_dir}': it is a file.")
    is_preset = (target / "config.json").exists()
    if target.is_dir() and any(target.iterdir()) and not is_preset:
        raise ValueError(
            f"Cannot save a preset to '{preset_dir}': it is a non-empty "
            "directory that is not a preset (it has no config.json). Pick an "
            "empty or new directory."
        )


def timm_checkpoint(preset):
    """The local path of a timm preset's weights file."""
    for filename in ("model.safetensors", "pytorch_model.bin"):
        path = preset_file(preset, filename)
        if path is not None:
            return path
    raise ValueError(
        f"timm preset '{preset}' has neither model.safetensors nor pytorch_model.bin."
    )
