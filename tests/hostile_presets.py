"""Builds a corpus of hostile and careless presets from the tiny shipped ones.

Each case copies a base preset (a tiny shipped preset, timm's tiny test
checkpoint, or an image classifier saved from the tiny image preset) and
breaks one thing: sizes that disagree with the weights, foreign classes,
Lambda layers and `module` tricks, paths and symlinks that leave the preset,
truncated, corrupt and wrong-shape weights, bad JSON. Nothing is stored as a
binary: tests/test_hostile_presets.py builds the corpus in a temporary
directory and loads every case with each loader that reads what it breaks.

    python tests/hostile_presets.py DIRECTORY  # builds it to look at
"""

import dataclasses
import json
import os
import pathlib
import shutil
import sys

import h5py
import numpy as np

from keras_gmlp.models import GMLPImageClassifier
from keras_gmlp.models.gmlp_presets import PRESET_FILES

TIMM_PRESET = pathlib.Path(__file__).parent / "data" / "timm_gmlp_tiny"
# What each base is loaded with: the loaders that read its weights, and the
# ones that read only its preprocessing.
MODEL_LOADERS = {
    "image": ("GMLPBackbone", "GMLPImageClassifier", "GMLPClassifier"),
    "image_classifier": ("GMLPImageClassifier", "GMLPClassifier"),
    "text": ("GMLPTextBackbone", "GMLPTextClassifier"),
    "masked_lm": ("GMLPMaskedLM", "GMLPTextClassifier"),
    "causal_lm": ("GMLPCausalLM",),
    "timm": ("GMLPBackbone", "GMLPImageClassifier"),
}
TOKENIZER_LOADERS = ("GMLPTokenizer", "GMLPTextClassifierPreprocessor")
CLASSIFIER_LOADERS = ("GMLPImageClassifier", "GMLPClassifier")
# The loaders that read a task's own weights: those of the task it saved.
TASK_LOADERS = ("GMLPMaskedLM", "GMLPImageClassifier")
TEXT_BASES = ("text", "masked_lm", "causal_lm")
HUGE = 10**9


@dataclasses.dataclass
class Case:
    category: str
    name: str
    base: str
    loaders: tuple
    path: str = ""


CASES = []


def case(category, bases, loaders=None):
    """Registers a mutation of each of `bases` as a case of `category`,
    loaded with those of `loaders` (by default, the base's model loaders)
    that the base can be loaded with."""

    def register(mutate):
        for base in bases:
            usable = MODEL_LOADERS[base]
            if base in TEXT_BASES:
                usable += TOKENIZER_LOADERS
            wanted = loaders or MODEL_LOADERS[base]
            chosen = tuple(loader for loader in wanted if loader in usable)
            CASES.append((Case(category, mutate.__name__, base, chosen), mutate))
        return mutate

    return register


# === Inconsistent sizes ===
SIZES = "inconsistent sizes"


def set_size(preset, **sizes):
    """Sets `sizes` (or other arguments) in the backbone's config, in
    config.json and in task.json."""
    edit_json(preset / "config.json", lambda config: config["config"].update(sizes))
    if (preset / "task.json").exists():
        edit_json(
            preset / "task.json",
            lambda config: config["config"]["backbone"]["config"].update(sizes),
        )


def sizes_case(name, bases, **sizes):
    def mutate(preset, outside):
        set_size(preset, **sizes)

    mutate.__name__ = name
    case(SIZES, bases)(mutate)


for _name, _sizes in {
    "a_billion_blocks": {"num_layers": HUGE},
    "no_blocks": {"num_layers": 0},
    "minus_one_block": {"num_layers": -1},
    "one_block_more_than_the_weights": {"num_layers": 3},
    "one_block_fewer_than_the_weights": {"num_layers": 1},
    "blocks_as_a_float": {"num_layers": 2.5},
    "blocks_as_a_string": {"num_layers": "2"},
    "blocks_as_a_bool": {"num_layers": True},
    "wider_hidden_dim": {"hidden_dim": 32},
    "zero_hidden_dim": {"hidden_dim": 0},
    "odd_intermediate_dim": {"intermediate_dim": 63},
    "huge_intermediate_dim": {"intermediate_dim": 2 * HUGE},
    "dropout_above_one": {"dropout": 1.5},
    "negative_epsilon": {"layer_norm_epsilon": -1.0},
}.items():
    sizes_case(_name, ("image", "text", "causal_lm"), **_sizes)

for _name, _sizes in {
    "huge_image_shape": {"image_shape": [4096, 4096, 3]},
    "image_shape_of_other_weights": {"image_shape": [64, 64, 3]},
    "image_shape_off_the_patch_grid": {"image_shape": [30, 30, 3]},
    "image_shape_of_two_sides": {"image_shape": [32, 32]},
    "one_channel_image_shape": {"image_shape": [32, 32, 1]},
    "zero_patch_size": {"patch_size": 0},
    "patch_size_of_other_weights": {"patch_size": 4},
}.items():
    sizes_case(_name, ("image", "image_classifier"), **_sizes)

for _name, _sizes in {
    "huge_max_sequence_length": {"max_sequence_length": 1_000_000},
    "longer_max_sequence_length": {"max_sequence_length": 64},
    "zero_max_sequence_length": {"max_sequence_length": 0},
    "huge_vocabulary_size": {"vocabulary_size": 10**12},
    "smaller_vocabulary_size": {"vocabulary_size": 100},
    "zero_heads": {"heads": 0},
    "heads_of_other_weights": {"heads": 2},
    "unknown_spatial_weights": {"spatial_weights": "circulant"},
    "toeplitz_spatial_weights_over_dense_ones": {"spatial_weights": "toeplitz"},
    "no_tiny_attention_over_its_weights": {"attention_dim": None},
    "causal_as_a_string": {"causal": "yes"},
}.items():
    sizes_case(_name, ("text", "masked_lm"), **_sizes)


@case(SIZES, ("masked_lm", "causal_lm"))
def task_json_with_a_billion_blocks(preset, outside):
    edit_json(
        preset / "task.json",
        lambda config: config["config"]["backbone"]["config"].update(num_layers=HUGE),
    )


@case(SIZES, ("image_classifier",))
def a_trillion_classes(preset, outside):
    edit_json(
        preset / "task.json", lambda config: config["config"].update(num_classes=10**12)
    )


@case(SIZES, ("image_classifier",))
def zero_classes(preset, outside):
    edit_json(
        preset / "task.json", lambda config: config["config"].update(num_classes=0)
    )


@case(SIZES, ("image", "image_classifier"), loaders=CLASSIFIER_LOADERS)
def huge_image_converter_size(preset, outside):
    for name in ("image_converter.json", "preprocessor.json", "task.json"):
        if (preset / name).exists():
            edit_json(preset / name, lambda config: set_image_size(config, [10**5] * 2))


@case(SIZES, ("text",), loaders=("GMLPTextClassifier",))
def preprocessor_longer_than_the_backbone(preset, outside):
    edit_json(
        preset / "preprocessor.json",
        lambda config: config["config"].update(sequence_length=100_000),
    )


@case(SIZES, ("text", "masked_lm"), loaders=("GMLPTextClassifier", "GMLPMaskedLM"))
def vocabulary_larger_than_the_embedding(preset, outside):
    vocabulary = preset / "assets" / "tokenizer" / "vocabulary.txt"
    extra = "".join(f"extra{index}\n" for index in range(2000))
    vocabulary.write_text(vocabulary.read_text() + extra)


@case(SIZES, ("timm",))
def timm_with_a_billion_blocks(preset, outside):
    edit_json(
        preset / "config.json",
        lambda config: config["model_args"].update(num_blocks=HUGE),
    )


@case(SIZES, ("timm",))
def timm_with_a_huge_image(preset, outside):
    edit_json(
        preset / "config.json",
        lambda config: config["model_args"].update(img_size=[4096, 4096]),
    )


@case(SIZES, ("timm",))
def timm_with_three_blocks(preset, outside):
    edit_json(
        preset / "config.json", lambda config: config["model_args"].update(num_blocks=3)
    )


# === Foreign classes ===
FOREIGN = "foreign classes"
OS_SYSTEM = {
    "module": "os",
    "class_name": "system",
    "config": {},
    "registered_name": None,
}


@case(FOREIGN, ("image", "text"))
def config_of_a_keras_dense_layer(preset, outside):
    write_json(
        preset / "config.json",
        {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"units": 10},
            "registered_name": None,
        },
    )


@case(FOREIGN, ("image", "text"))
def config_of_another_registered_package(preset, outside):
    edit_json(
        preset / "config.json",
        lambda config: config.update(registered_name="evil>GMLPBackbone"),
    )


@case(FOREIGN, ("text",))
def config_of_a_gmlp_tokenizer(preset, outside):
    shutil.copy(preset / "tokenizer.json", preset / "config.json")


@case(FOREIGN, ("image", "text", "masked_lm"))
def dtype_policy_of_os_system(preset, outside):
    set_size(preset, dtype=OS_SYSTEM)


@case(FOREIGN, ("text",), loaders=TOKENIZER_LOADERS + MODEL_LOADERS["text"])
def tokenizer_of_numpy(preset, outside):
    edit_json(
        preset / "tokenizer.json",
        lambda config: config.update(
            module="numpy", class_name="ndarray", registered_name=None
        ),
    )


@case(FOREIGN, ("text",), loaders=TOKENIZER_LOADERS + MODEL_LOADERS["text"])
def preprocessor_tokenizer_of_subprocess(preset, outside):
    edit_json(
        preset / "preprocessor.json",
        lambda config: config["config"].update(
            tokenizer={
                "module": "subprocess",
                "class_name": "Popen",
                "config": {"args": ["true"]},
                "registered_name": None,
            }
        ),
    )


@case(FOREIGN, ("image",))
def image_converter_of_another_package(preset, outside):
    edit_json(
        preset / "image_converter.json",
        lambda config: config.update(registered_name="evil>Converter", module="evil"),
    )


@case(FOREIGN, ("masked_lm",))
def task_of_another_package(preset, outside):
    edit_json(
        preset / "task.json",
        lambda config: config.update(
            registered_name="evil>MaskedLM", module="evil.models"
        ),
    )


# === Lambda and `module` tricks ===
TRICKS = "Lambda and module tricks"
LAMBDA = {
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {
        "function": {"class_name": "__lambda__", "config": {"code": "print('pwned')"}},
        "name": "lambda",
    },
    "registered_name": None,
}


@case(TRICKS, ("image", "text"))
def config_of_a_lambda_layer(preset, outside):
    write_json(preset / "config.json", LAMBDA)


@case(TRICKS, ("masked_lm", "image_classifier"))
def task_with_a_lambda_backbone(preset, outside):
    edit_json(
        preset / "task.json", lambda config: config["config"].update(backbone=LAMBDA)
    )


@case(TRICKS, ("image_classifier",))
def activation_of_builtins_eval(preset, outside):
    edit_json(
        preset / "task.json",
        lambda config: config["config"].update(
            activation={
                "module": "builtins",
                "class_name": "function",
                "config": "eval",
            }
        ),
    )


@case(TRICKS, ("image_classifier",))
def activation_named_os_system(preset, outside):
    edit_json(
        preset / "task.json",
        lambda config: config["config"].update(activation="os.system"),
    )


@case(TRICKS, ("image", "text"))
def gmlp_backbone_of_module_os(preset, outside):
    edit_json(preset / "config.json", lambda config: config.update(module="os"))


@case(TRICKS, ("text",), loaders=TOKENIZER_LOADERS + MODEL_LOADERS["text"])
def tokenizer_of_module_builtins(preset, outside):
    edit_json(
        preset / "tokenizer.json",
        lambda config: config.update(module="builtins", class_name="exec"),
    )


@case(TRICKS, ("image",))
def dtype_of_a_serialized_function(preset, outside):
    edit_json(
        preset / "config.json",
        lambda config: config["config"].update(
            dtype={"module": "builtins", "class_name": "function", "config": "exec"}
        ),
    )


# === Paths and symlinks leaving the preset ===
PATHS = "paths and symlinks leaving the preset"


def set_config_file(preset, config_file):
    def edit(config):
        for item in serialized_objects(config):
            if item.get("class_name") == "GMLPTokenizer":
                item["config"]["config_file"] = config_file

    for name in ("tokenizer.json", "preprocessor.json", "task.json"):
        if (preset / name).exists():
            edit_json(preset / name, edit)


@case(PATHS, TEXT_BASES, loaders=TOKENIZER_LOADERS)
def tokenizer_config_file_absolute(preset, outside):
    set_config_file(preset, str(outside / "tokenizer.json"))


@case(PATHS, TEXT_BASES, loaders=TOKENIZER_LOADERS)
def tokenizer_config_file_up_and_out(preset, outside):
    set_config_file(preset, f"../{outside.name}/tokenizer.json")


@case(PATHS, TEXT_BASES, loaders=TOKENIZER_LOADERS + ("GMLPTextClassifier",))
def tokenizer_assets_symlinked_outside(preset, outside):
    assets = preset / "assets" / "tokenizer"
    shutil.rmtree(assets)
    assets.symlink_to(outside / "assets" / "tokenizer", target_is_directory=True)


@case(PATHS, TEXT_BASES, loaders=TOKENIZER_LOADERS)
def vocabulary_symlinked_outside(preset, outside):
    vocabulary = preset / "assets" / "tokenizer" / "vocabulary.txt"
    vocabulary.unlink()
    vocabulary.symlink_to(outside / "assets" / "tokenizer" / "vocabulary.txt")


@case(PATHS, ("text",), loaders=TOKENIZER_LOADERS)
def vocabulary_as_a_path_in_the_config(preset, outside):
    edit_json(
        preset / "tokenizer.json",
        lambda config: config["config"].update(
            vocabulary=str(outside / "assets" / "tokenizer" / "vocabulary.txt")
        ),
    )


@case(PATHS, ("image", "text"))
def weights_symlinked_outside(preset, outside):
    weights = preset / "model.weights.h5"
    shutil.copy(weights, outside / f"{preset.name}.weights.h5")
    weights.unlink()
    weights.symlink_to(outside / f"{preset.name}.weights.h5")


@case(PATHS, ("image", "text"))
def config_symlinked_outside(preset, outside):
    config = preset / "config.json"
    shutil.copy(config, outside / f"{preset.name}.config.json")
    config.unlink()
    config.symlink_to(outside / f"{preset.name}.config.json")


@case(PATHS, ("image",))
def weight_shard_up_and_out(preset, outside):
    shutil.move(preset / "model.weights.h5", outside / "model_00000.weights.h5")
    write_json(
        preset / "model.weights.json",
        {"weight_map": {"/layers/vars": f"../{outside.name}/model_00000.weights.h5"}},
    )


@case(PATHS, ("image", "text"))
def config_as_a_fifo(preset, outside):
    (preset / "config.json").unlink()
    os.mkfifo(preset / "config.json")


@case(PATHS, ("image",))
def symlink_loop(preset, outside):
    (preset / "loop").symlink_to(preset / "loop")


@case(PATHS, ("image", "text"))
def preset_symlinked_root(preset, outside):
    (preset / "root").symlink_to("/", target_is_directory=True)


# === Truncated, corrupt and wrong-shape weights ===
WEIGHTS = "truncated, corrupt and wrong-shape weights"


@case(WEIGHTS, ("image", "text", "causal_lm"))
def weights_truncated_to_half(preset, outside):
    truncate(preset / "model.weights.h5", 0.5)


@case(WEIGHTS, ("image", "text"))
def weights_of_zero_bytes(preset, outside):
    truncate(preset / "model.weights.h5", 0.0)


@case(WEIGHTS, ("image", "text"))
def weights_of_random_bytes(preset, outside):
    size = (preset / "model.weights.h5").stat().st_size
    (preset / "model.weights.h5").write_bytes(np.random.default_rng(0).bytes(size))


@case(WEIGHTS, ("image", "text"))
def weights_as_a_directory(preset, outside):
    (preset / "model.weights.h5").unlink()
    (preset / "model.weights.h5").mkdir()


@case(WEIGHTS, ("image", "text", "masked_lm"))
def one_weight_of_another_shape(preset, outside):
    with h5py.File(preset / "model.weights.h5", "r+") as weights:
        path = "layers/gmlp_block_1/proj_in/vars/0"
        shape = weights[path].shape
        del weights[path]
        weights.create_dataset(path, data=np.zeros((shape[0], shape[1] + 2), "float32"))


@case(WEIGHTS, ("image", "text"))
def one_weight_missing(preset, outside):
    with h5py.File(preset / "model.weights.h5", "r+") as weights:
        del weights["layers/gmlp_block/spatial_gating_unit/vars/1"]


@case(WEIGHTS, ("image", "text"))
def one_block_more_in_the_weights(preset, outside):
    with h5py.File(preset / "model.weights.h5", "r+") as weights:
        weights.copy("layers/gmlp_block_1", "layers/gmlp_block_2")


@case(WEIGHTS, ("image", "text"))
def a_terabyte_weight_declared(preset, outside):
    with h5py.File(preset / "model.weights.h5", "r+") as weights:
        path = "layers/gmlp_block/spatial_gating_unit/vars/0"
        del weights[path]
        weights.create_dataset(
            path, shape=(1, 10**6, 10**6), dtype="float32", chunks=(1, 64, 64)
        )


@case(WEIGHTS, ("image", "text"))
def weights_of_strings(preset, outside):
    with h5py.File(preset / "model.weights.h5", "r+") as weights:
        path = "layers/layer_normalization/vars/0"
        shape = weights[path].shape
        del weights[path]
        weights.create_dataset(
            path, data=np.full(shape, "x", dtype=h5py.string_dtype())
        )


@case(WEIGHTS, ("masked_lm", "image_classifier"), loaders=TASK_LOADERS)
def task_weights_truncated(preset, outside):
    truncate(preset / "task.weights.h5", 0.5)


@case(WEIGHTS, ("masked_lm", "image_classifier"), loaders=TASK_LOADERS)
def task_weights_of_another_shape(preset, outside):
    with h5py.File(preset / "task.weights.h5", "r+") as weights:
        path = sorted(dataset_paths(weights, "layers/"))[0]
        shape = weights[path].shape
        del weights[path]
        weights.create_dataset(
            path, data=np.zeros((*shape[:-1], shape[-1] + 3), "float32")
        )


@case(WEIGHTS, ("masked_lm", "image_classifier"), loaders=TASK_LOADERS)
def task_weights_declaring_a_terabyte(preset, outside):
    with h5py.File(preset / "task.weights.h5", "r+") as weights:
        path = sorted(dataset_paths(weights, "layers/"))[0]
        del weights[path]
        weights.create_dataset(
            path, shape=(10**6, 10**6), dtype="float32", chunks=(64, 64)
        )


@case(WEIGHTS, ("text",), loaders=TOKENIZER_LOADERS + ("GMLPTextClassifier",))
def vocabulary_not_utf8(preset, outside):
    (preset / "assets" / "tokenizer" / "vocabulary.txt").write_bytes(
        b"[PAD]\n\xff\xfe\n[UNK]\n"
    )


@case(WEIGHTS, ("text",), loaders=TOKENIZER_LOADERS + ("GMLPTextClassifier",))
def vocabulary_empty(preset, outside):
    (preset / "assets" / "tokenizer" / "vocabulary.txt").write_text("")


@case(WEIGHTS, ("timm",))
def timm_weights_truncated(preset, outside):
    truncate(preset / "model.safetensors", 0.5)


@case(WEIGHTS, ("timm",))
def timm_weights_of_random_bytes(preset, outside):
    (preset / "model.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))


# === Bad JSON ===
JSON = "bad JSON"


def bad_json_case(name, content, files, bases, loaders=None):
    def mutate(preset, outside):
        for filename in files:
            if (preset / filename).exists():
                (preset / filename).write_bytes(content)

    mutate.__name__ = name
    case(JSON, bases, loaders)(mutate)


_ALL_BASES = ("image", "text", "masked_lm", "causal_lm")
for _name, _content in {
    "not_json": b'{"module": "keras_gmlp", ',
    "not_utf8": '{"class_name": "GMLPBackbone\xe9"}'.encode("latin-1"),
    "a_json_list": b"[1, 2, 3]",
    "a_json_string": b'"config"',
    "json_null": b"null",
    "empty": b"",
    "nested_100000_deep": b"[" * 100_000 + b"]" * 100_000,
}.items():
    bad_json_case(f"config_{_name}", _content, ("config.json",), _ALL_BASES)
    bad_json_case(
        f"tokenizer_{_name}",
        _content,
        ("tokenizer.json", "preprocessor.json"),
        ("text",),
        TOKENIZER_LOADERS,
    )
    bad_json_case(f"task_{_name}", _content, ("task.json",), ("masked_lm",))

bad_json_case("image_converter_not_json", b"{", ("image_converter.json",), ("image",))
bad_json_case("metadata_a_json_list", b"[]", ("metadata.json",), ("image", "text"))


@case(JSON, ("image", "text"))
def config_without_its_arguments(preset, outside):
    edit_json(preset / "config.json", lambda config: config.pop("config"))


@case(JSON, ("image", "text"))
def config_arguments_as_a_list(preset, outside):
    edit_json(preset / "config.json", lambda config: config.update(config=[1, 2]))


@case(JSON, ("image", "text"))
def config_with_an_unknown_argument(preset, outside):
    edit_json(preset / "config.json", lambda config: config["config"].update(depth=3))


@case(JSON, ("image",))
def config_of_65_mib(preset, outside):
    with open(preset / "config.json", "r+b") as config:
        config.truncate(65 * 2**20)  # sparse: no 65 MiB written


@case(JSON, ("masked_lm",))
def task_backbone_as_a_number(preset, outside):
    edit_json(preset / "task.json", lambda config: config["config"].update(backbone=7))


@case(JSON, ("timm",))
def timm_config_a_json_list(preset, outside):
    (preset / "config.json").write_text("[]")


@case(JSON, ("timm",))
def timm_architecture_not_gmlp(preset, outside):
    edit_json(
        preset / "config.json", lambda config: config.update(architecture="resnet50")
    )


# === Helpers ===
def edit_json(path, edit):
    config = json.loads(path.read_text())
    edit(config)
    write_json(path, config)


def write_json(path, config):
    path.write_text(json.dumps(config, indent=2))


def serialized_objects(config):
    """Every dict in `config` that serialises a Keras object."""
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from serialized_objects(value)
    elif isinstance(config, list):
        for item in config:
            yield from serialized_objects(item)


def set_image_size(config, image_size):
    for item in serialized_objects(config):
        if item.get("class_name") == "GMLPImageConverter":
            item["config"]["image_size"] = image_size


def truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def dataset_paths(weights, prefix):
    paths = []
    weights.visititems(
        lambda path, item: (
            paths.append(path)
            if isinstance(item, h5py.Dataset) and path.startswith(prefix)
            else None
        )
    )
    return paths


def base_presets(root, save_image_classifier):
    """The base presets, copied under `root`: the tiny shipped presets,
    timm's tiny checkpoint and an image classifier that
    `save_image_classifier(directory)` saves."""
    bases = {
        "image": PRESET_FILES / "gmlp_tiny_image_test",
        "text": PRESET_FILES / "amlp_tiny_text_test",
        "masked_lm": PRESET_FILES / "amlp_tiny_masked_lm_test",
        "causal_lm": PRESET_FILES / "gmlp_tiny_causal_lm_test",
        "timm": TIMM_PRESET,
    }
    copies = {}
    for name, source in bases.items():
        copies[name] = root / "bases" / name
        shutil.copytree(
            source, copies[name], ignore=shutil.ignore_patterns("*.npz", "*.md")
        )
    copies["image_classifier"] = root / "bases" / "image_classifier"
    save_image_classifier(str(copies["image_classifier"]))
    return copies


def outside_files(root, bases):
    """Files outside every case, for the cases to point at: a valid
    tokenizer and its vocabulary."""
    outside = root / "outside"
    shutil.copytree(bases["text"] / "assets", outside / "assets")
    shutil.copy(bases["text"] / "tokenizer.json", outside / "tokenizer.json")
    return outside


def build(root, save_image_classifier):
    """Builds every case under `root / "cases"` and returns them."""
    root = pathlib.Path(root)
    bases = base_presets(root, save_image_classifier)
    outside = outside_files(root, bases)
    cases = []
    for spec, mutate in CASES:
        built = dataclasses.replace(
            spec, path=str(root / "cases" / f"{spec.base}-{spec.name}")
        )
        shutil.copytree(bases[spec.base], built.path)
        mutate(pathlib.Path(built.path), outside)
        cases.append(built)
    return cases


def main(directory):
    def save_image_classifier(path):
        classifier = GMLPImageClassifier.from_preset(
            "gmlp_tiny_image_test", num_classes=3
        )
        classifier.save_to_preset(path)

    for built in build(directory, save_image_classifier):
        print(built.category, "|", built.path, "|", ", ".join(built.loaders))


if __name__ == "__main__":
    main(sys.argv[1])
