"""Writes the notebook twin `examples/<name>.ipynb` of every `examples/*.py`.

Run from the repository root after editing a tutorial, and commit both files
(`tests/test_tutorials.py` fails while they differ):

    python scripts/make_notebooks.py          # writes the notebooks
    python scripts/make_notebooks.py --check  # lists stale ones, exit 1

A tutorial is a keras.io-style script: a header docstring of `Key: value`
lines (Title, Author, Date created, Last modified, Description), then code,
with markdown in top-level triple-quoted strings between the code. The
notebook opens with the title, a Colab badge and a cell that installs
keras_gmlp; each markdown string becomes a markdown cell and the code between
them a code cell. The output is plain JSON in nbformat 4, written the way
Jupyter writes it, and the same for the same script.
"""

import argparse
import ast
import json
import pathlib
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def repository_url():
    """The repository that pyproject.toml's [project.urls] declares: the one
    place to change when it moves."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["urls"]["Repository"]


# The badges and the install cell point at it; Colab wants "owner/name".
REPOSITORY_URL = repository_url()
REPOSITORY = REPOSITORY_URL.removeprefix("https://github.com/")
INSTALL = f'!pip install -q "keras-gmlp[visualize] @ git+{REPOSITORY_URL}"'
HEADER_FIELDS = ("Author", "Date created", "Last modified", "Description")
METADATA = {
    "colab": {"provenance": []},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def notebook_text(script):
    """The notebook of a tutorial script, as the JSON text to write."""
    script = pathlib.Path(script)
    source = script.read_text(encoding="utf-8")
    header, *cells = split_cells(source, script)
    notebook = {
        "cells": [header_cell(header, script), code_cell(INSTALL), *cells],
        "metadata": METADATA,
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def split_cells(source, script):
    """The header docstring, then a markdown cell for each top-level string
    and a code cell for the code between them."""
    lines = source.splitlines()
    body = ast.parse(source).body
    if not body or not _is_string(body[0]):
        raise ValueError(f"{script} must open with a header docstring.")
    cells = [body[0].value.value]
    code_start = body[0].end_lineno
    for node in body[1:]:
        if _is_string(node):
            cells += _code_cells(lines[code_start : node.lineno - 1])
            cells.append(markdown_cell(node.value.value))
            code_start = node.end_lineno
    cells += _code_cells(lines[code_start:])
    return cells


def header_cell(header, script):
    """The title, the header fields and the Colab badge."""
    fields = dict(_header_field(line, script) for line in header.strip().splitlines())
    if "Title" not in fields:
        raise ValueError(f"{script}'s header docstring has no 'Title:' line.")
    colab = (
        "https://colab.research.google.com/github/"
        f"{REPOSITORY}/blob/main/examples/{script.stem}.ipynb"
    )
    github = f"{REPOSITORY_URL}/blob/main/examples/{script.name}"
    text = [f"# {fields['Title']}", ""]
    text += [f"**{key}:** {fields[key]}<br>" for key in HEADER_FIELDS if key in fields]
    text += [
        "",
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab}) [View the source on GitHub]({github})",
    ]
    return markdown_cell("\n".join(text))


def markdown_cell(text):
    return {"cell_type": "markdown", "metadata": {}, "source": _source(text)}


def code_cell(text):
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": _source(text),
    }


def _code_cells(lines):
    text = "\n".join(lines).strip("\n")
    return [code_cell(text)] if text.strip() else []


def _source(text):
    # Jupyter stores a cell as its lines, each but the last with its newline.
    return text.strip("\n").splitlines(keepends=True)


def _is_string(node):
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _header_field(line, script):
    key, separator, value = line.partition(":")
    if not separator:
        raise ValueError(
            f"{script}'s header docstring has lines of 'Key: value'. Received: {line!r}"
        )
    return key.strip(), value.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any is stale"
    )
    args = parser.parse_args(argv)
    stale = []
    for script in sorted(EXAMPLES.glob("*.py")):
        notebook = script.with_suffix(".ipynb")
        text = notebook_text(script)
        if notebook.exists() and notebook.read_text(encoding="utf-8") == text:
            continue
        stale.append(notebook)
        if not args.check:
            notebook.write_text(text, encoding="utf-8")
            print(f"wrote {notebook}")
    if args.check and stale:
        print("stale notebooks:", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
