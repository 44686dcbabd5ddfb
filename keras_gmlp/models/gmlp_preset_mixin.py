import json
import pathlib

import keras
import keras_hub

from keras_gmlp.models import timm_gmlp_loader
from keras_gmlp.models.gmlp_presets import PRESETS
from keras_gmlp.models.input_checks import check_preprocessor_fits
from keras_gmlp.models.input_size import with_input_size
from keras_gmlp.models.preset_checks import check_config_files
from keras_gmlp.models.preset_checks import check_preset_weights
from keras_gmlp.models.preset_files import config_modality
from keras_gmlp.models.preset_files import preset_file
from keras_gmlp.models.preset_files import read_json_object
from keras_gmlp.models.preset_files import read_preset_config
from keras_gmlp.models.preset_files import resolve_preset
from keras_gmlp.models.preset_files import staged_preset_directory

# The files of a preset's parts, as fnmatch patterns.
MODEL_FILES = (
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "model.weights.json",
    "model_*.weights.h5",
    "task.json",
    "task.weights.h5",
)
PREPROCESSING_FILES = (
    "tokenizer.json",
    "preprocessor.json",
    "image_converter.json",
    "audio_converter.json",
    "video_converter.json",
    "assets/*",
)


class classproperty(property):  # noqa: N801 (named like `property`)
    """A read-only property of the class."""

    def __get__(self, _, owner):
        return self.fget(owner)


class GMLPPresetMixin:
    """Named presets, safe loading and atomic saving for keras-hub classes.

    Mixed in before the keras-hub base class. `from_preset` resolves the
    names in `keras_gmlp.presets`, checks that the preset holds a gMLP model
    of the class's modality (so no foreign object is deserialised) and that
    its files belong together, then defers to keras-hub. `save_to_preset`
    writes to a staging directory and swaps it into place, so that the
    path always holds a complete preset, old or new.
    """

    @classproperty
    def presets(cls):
        """The named presets this class loads."""
        modality = _modality_of(cls)
        return {
            name: preset
            for name, preset in PRESETS.items()
            if preset["modality"] == modality
        }

    @classmethod
    def from_preset(cls, preset, **kwargs):
        is_model = issubclass(cls, keras.Model)
        loads_weights = is_model and kwargs.get("load_weights", True)
        new_sizes = [
            {key: kwargs.pop(key)}
            for key in ("image_shape", "max_sequence_length")
            if is_model and kwargs.get(key) is not None
        ]
        resolved = resolve_preset(preset, needs_weights=loads_weights)
        config = read_preset_config(resolved)
        modality = config_modality(config, preset)
        if modality != _modality_of(cls):
            raise ValueError(
                f"{cls.__name__} loads {_modality_of(cls)} presets, but "
                f"'{preset}' holds a {modality} model. Its presets: "
                f"{sorted(cls.presets)}"
            )
        if issubclass(cls, keras_hub.models.Task) and kwargs.get("dtype") is None:
            kwargs["dtype"] = _task_dtype(config)
        if timm_gmlp_loader.is_timm_config(config):
            model = cls.from_timm_preset(resolved, config, **kwargs)
        else:
            check_config_files(resolved)
            if loads_weights:
                _check_weights_file(cls, resolved, config, kwargs)
            model = super().from_preset(resolved, **kwargs)
            if getattr(model, "preprocessor", None) is not None:
                check_preprocessor_fits(
                    model.preprocessor, model.backbone, cls.__name__
                )
        for new_size in new_sizes:
            model = with_input_size(model, **new_size)
        return model

    @classmethod
    def from_timm_preset(cls, preset, config, **kwargs):
        """`cls` from a timm gMLP checkpoint: its `config.json` as `config`,
        its weights in the directory or handle `preset`. The image classes
        implement it."""
        raise ValueError(f"{cls.__name__} cannot be loaded from a timm checkpoint.")

    def save_to_preset(self, preset_dir, **kwargs):
        with staged_preset_directory(preset_dir, self._kept_files()) as staging:
            super().save_to_preset(staging, **kwargs)
            name_the_tasks(staging)

    def _kept_files(self):
        """The files of an existing preset that saving this object over it
        keeps: a task replaces the whole preset; a backbone keeps the
        preprocessing (and drops a task built on another backbone); a
        tokenizer, converter or preprocessor keeps everything else, so that
        a preset can be saved part by part, as in keras-hub."""
        if isinstance(self, keras_hub.models.Task):
            return ()
        if isinstance(self, keras_hub.models.Backbone):
            return PREPROCESSING_FILES
        return MODEL_FILES + PREPROCESSING_FILES


def _check_weights_file(cls, preset, config, kwargs):
    """Refuses a preset whose weights file does not hold the weights of the
    backbone `cls.from_preset(preset, **kwargs)` would build."""
    backbone_cls = keras.saving.get_registered_object(config["registered_name"])
    backbone_config = dict(config["config"])
    if issubclass(cls, keras_hub.models.Backbone):
        # keras-hub passes a backbone's other arguments on to its config.
        overrides = {
            k: v for k, v in kwargs.items() if k not in ("load_weights", "dtype")
        }
        backbone_config.update(overrides)
    task_file = preset_file(preset, "task.json")
    is_task = issubclass(cls, keras_hub.models.Task)
    task_config = read_json_object(task_file) if is_task and task_file else None
    check_preset_weights(preset, config, backbone_cls, backbone_config, task_config)


def name_the_tasks(preset_dir):
    """Lists in a preset's `metadata.json` the keras-hub tasks its backbone
    serves (`"ImageClassifier"`, `"MaskedLM"`, ...).

    keras-hub names each task by its first base class, which for the gMLP
    tasks is this mixin: its own metadata said `["GMLPPresetMixin"]`.
    """
    metadata_path = pathlib.Path(preset_dir) / "metadata.json"
    if not metadata_path.exists():  # a tokenizer or preprocessor alone
        return
    config = read_preset_config(str(preset_dir))
    backbone_cls = keras.saving.get_registered_object(config["registered_name"])
    metadata = read_json_object(metadata_path)
    metadata["tasks"] = keras_hub_task_names(backbone_cls)
    metadata_path.write_text(json.dumps(metadata, indent=4))


def keras_hub_task_names(backbone_cls):
    """The keras-hub task classes (`"CausalLM"`, ...) that the tasks on
    `backbone_cls` extend: the first keras-hub class in each one's MRO."""
    names = set()
    pending = [keras_hub.models.Task]
    while pending:
        task = pending.pop()
        pending += task.__subclasses__()
        if getattr(task, "backbone_cls", None) is backbone_cls:
            hub_bases = (
                b for b in task.__mro__ if b.__module__.startswith("keras_hub.")
            )
            names.add(next(hub_bases).__name__)
    return sorted(names)


def _task_dtype(config):
    """The dtype a task loads in when none is asked for: `None`, which
    keras-hub resolves, except for a model saved under a mixed policy, whose
    name keras-hub's task loader fails on (`Invalid dtype:
    mixed_bfloat16`). Its rule for float policies, the current default
    policy, applies: a mixed policy keeps float32 weights."""
    saved = config.get("config", {}).get("dtype")
    policy = saved.get("config") if isinstance(saved, dict) else None
    name = policy.get("name") if isinstance(policy, dict) else None
    if isinstance(name, str) and name.startswith("mixed_"):
        return keras.config.dtype_policy()
    return None


def _modality_of(cls):
    return (getattr(cls, "backbone_cls", None) or cls).modality
