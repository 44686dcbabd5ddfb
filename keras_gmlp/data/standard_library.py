"""English text that every machine with Python has offline: the docstrings
of the standard library, for learning vocabularies and small language model
benchmarks with no download."""

import ast
import functools
import pathlib
import sysconfig


def standard_library_docstrings(pattern="**/*.py"):
    """The docstrings of the Python standard library's own modules.

    Those of modules, classes and functions, file by file in sorted path
    order, so that the list is the same on every run of one Python version.
    Tests and `site-packages` are left out, and so are files that do not
    parse.

    Args:
        pattern: str. Which source files to read, a glob relative to the
            standard library's folder: `"**/*.py"` for all of them,
            `"email/**/*.py"` for one package, `"*.py"` for the top-level
            modules.

    Returns:
        A list of strings, a few MB of mostly English text.

    Example:
    ```python
    from keras_gmlp.data.standard_library import standard_library_docstrings

    docstrings = standard_library_docstrings()
    len(docstrings) > 1000  # True
    email_docstrings = standard_library_docstrings("email/**/*.py")
    ```
    """
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    docstrings = []
    for path in sorted(root.glob(pattern)):
        relative = str(path.relative_to(root))
        if "test" not in relative and "site-packages" not in relative:
            docstrings.extend(_file_docstrings(path))
    return docstrings


@functools.cache
def _file_docstrings(path):
    """One source file's docstrings, none if it does not parse.

    Cached: parsing is most of the cost, and tutorials and tests read the
    same files again.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return ()
    nodes = ast.walk(tree)
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef)
    docstrings = (ast.get_docstring(n) for n in nodes if isinstance(n, documented))
    return tuple(docstring for docstring in docstrings if docstring)
