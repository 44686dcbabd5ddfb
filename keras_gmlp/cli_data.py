"""What `keras-gmlp` reads: folders of images and CSV files of texts, checked
up front and streamed to the model in batches."""

import collections
import csv
import pathlib

import numpy as np
import PIL.Image
import tensorflow as tf

# The formats `tf.io.decode_image` reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

# What `--data` holds: "image" or "text" examples (image paths, an image
# array or strings), each example's class name, and for images the largest
# side among them.
Data = collections.namedtuple(
    "Data", ["modality", "examples", "label_names", "largest_side"]
)


def read_data(path, text_column, label_column):
    """Reads `--data`: a folder of class folders of images, or a CSV file.

    Args:
        path: str. The folder or the CSV file.
        text_column: str. The CSV column that holds the texts.
        label_column: str. The CSV column that holds the labels.

    Returns:
        A `Data`: image paths or strings, and their class names.
    """
    data_path = pathlib.Path(path)
    if data_path.is_dir():
        return read_image_folder(data_path)
    if data_path.suffix.lower() == ".csv" and data_path.is_file():
        return read_csv(data_path, text_column, label_column)
    if not data_path.exists():
        raise ValueError(f"--data '{path}' does not exist.")
    raise ValueError(
        f"--data '{path}' is neither a folder of class folders of images nor a "
        ".csv file."
    )


def read_image_folder(folder):
    """The image paths of a folder with one sub-folder per class, as
    `keras.utils.image_dataset_from_directory` reads it, each checked."""
    class_folders = sorted(
        child
        for child in folder.iterdir()
        if child.is_dir() and not child.name.startswith(".")
    )
    if not class_folders:
        raise ValueError(
            f"--data '{folder}' has no class folders: put the images of each "
            "class in a sub-folder named after it."
        )
    paths, label_names = [], []
    for class_folder in class_folders:
        images = image_files(class_folder)
        if not images:
            raise ValueError(
                f"class folder '{class_folder}' has no images "
                f"({', '.join(IMAGE_EXTENSIONS)})."
            )
        paths += images
        label_names += [class_folder.name] * len(images)
    largest_side = max(max(checked_image_size(path)) for path in paths)
    return Data("image", paths, label_names, largest_side)


def image_files(folder):
    """The image files under `folder`, sorted."""
    return sorted(
        path
        for path in pathlib.Path(folder).rglob("*")
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()
    )


def checked_image_size(path):
    """The `(width, height)` of an image file, read and checked without
    decoding its pixels, so that a bad file is named before training."""
    try:
        with PIL.Image.open(path) as image:
            size = image.size
            image.verify()  # the structure, and for PNG each chunk's checksum
    # PIL raises OSError for unknown or truncated files, and SyntaxError or
    # ValueError for some broken headers.
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(
            f"cannot read image '{path}': it is corrupt or not an image."
        ) from error
    return size


def read_csv(path, text_column, label_column):
    """The texts and labels of two columns of a CSV file with a header;
    labels stripped of surrounding whitespace, empty texts refused."""
    try:
        # utf-8-sig: spreadsheets often start their CSV files with a BOM.
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = reader.fieldnames or []
            missing = [c for c in (text_column, label_column) if c not in columns]
            if missing:
                raise ValueError(
                    f"'{path}' has no column {', '.join(map(repr, missing))}; its "
                    f"columns are: {', '.join(map(repr, columns)) or 'none'}. "
                    "Name them with --text-column and --label-column."
                )
            rows = [
                checked_row(row, text_column, label_column, path, reader.line_num)
                for row in reader
            ]
    except csv.Error as error:
        raise ValueError(f"'{path}' is not a valid CSV file: {error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"cannot read '{path}': it is not UTF-8 text.") from error
    if not rows:
        raise ValueError(f"'{path}' has a header but no rows.")
    texts, label_names = zip(*rows, strict=True)
    return Data("text", list(texts), list(label_names), None)


def checked_row(row, text_column, label_column, path, line):
    text, label = row[text_column], row[label_column]
    if text is None or label is None:
        raise ValueError(f"'{path}' line {line} has fewer cells than columns.")
    if not text.strip():
        raise ValueError(f"'{path}' line {line} has an empty text.")
    if not label.strip():
        raise ValueError(f"'{path}' line {line} has an empty label.")
    return text, label.strip()


def read_lines(paths):
    """The non-blank lines of text files, each one input, and each one's
    `path:line` name."""
    names, lines = [], []
    for path in paths:
        if not pathlib.Path(path).is_file():
            raise ValueError(f"no such text file: '{path}'")
        try:
            text = pathlib.Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"cannot read '{path}': it is not UTF-8 text.") from error
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                names.append(f"{path}:{number}")
                lines.append(line)
    if not lines:
        raise ValueError("the text files have no lines to classify.")
    return names, lines


def image_paths(paths):
    """Image files given as files or folders (searched recursively), each
    checked."""
    found = []
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            found += image_files(path)
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"no such image file or folder: '{path}'")
    if not found:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {paths}.")
    for path in found:
        checked_image_size(path)
    return found


def image_file_batches(paths, labels, image_size, batch_size, shuffle=False):
    """A `tf.data.Dataset` of batches of the image files at `paths`, decoded
    and resized to `image_size` as they are drawn (with `labels`, unless
    `None`): memory holds a few batches, whatever the number of files.
    `shuffle` draws a new order each epoch."""
    paths = tf.constant([str(path) for path in paths])
    samples = paths if labels is None else (paths, tf.constant(labels))
    dataset = tf.data.Dataset.from_tensor_slices(samples)
    if shuffle:
        dataset = dataset.shuffle(len(paths), reshuffle_each_iteration=True)

    def decode(path, *label):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, expand_animations=False
        )
        image = tf.image.resize(image, image_size, antialias=True)
        return (image, *label) if label else image

    return (
        dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(1)
    )


def sorted_class_names(label_names):
    """The distinct labels, sorted; as numbers when they all are numbers, so
    that "10" comes after "9"."""
    names = set(label_names)
    if all(name.strip().lstrip("-").isdigit() for name in names):
        return sorted(names, key=int)
    return sorted(names)


def label_indices(label_names, class_names, data_path):
    """Each example's class name as its index in `class_names`."""
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(label_names) - set(index))
    if unknown:
        raise ValueError(
            f"--data '{data_path}' has labels the classifier does not know: "
            f"{unknown[:5]}; its classes are {class_names}."
        )
    return np.array([index[name] for name in label_names], dtype="int32")


def split_indices(labels, validation_split, seed, limit=None):
    """Train and validation indices, stratified: each class holds out its
    share. The same for the same seed. `limit` keeps a random `limit` of
    the examples first."""
    rng = np.random.default_rng(seed)
    kept = np.sort(rng.permutation(len(labels))[:limit])
    train, validation = [], []
    for label in np.unique(labels[kept]):
        members = rng.permutation(kept[labels[kept] == label])
        count = round(len(members) * validation_split)
        validation += list(members[:count])
        train += list(members[count:])
    if not train or not validation:
        raise ValueError(
            f"--validation-split {validation_split} of {len(kept)} examples "
            "leaves no training or no validation example."
        )
    return np.array(sorted(train)), np.array(sorted(validation))
