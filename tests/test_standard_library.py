import email
import inspect
import pathlib
import string
import sysconfig

from keras_gmlp.data import standard_library
from keras_gmlp.data.standard_library import standard_library_docstrings


def test_pattern_selects_the_files_read():
    # The top-level modules, not every file: parsing all of them takes 24 s.
    top_level = standard_library_docstrings("*.py")
    email_package = standard_library_docstrings("email/**/*.py")
    email_top_level = standard_library_docstrings("email/*.py")
    assert len(top_level) > 1000
    assert 0 < len(email_top_level) < len(email_package)
    assert set(email_top_level) <= set(email_package)
    assert inspect.cleandoc(string.__doc__) in top_level
    assert inspect.cleandoc(string.__doc__) not in email_package
    assert inspect.cleandoc(email.__doc__) in email_top_level
    assert inspect.cleandoc(email.__doc__) not in top_level


def test_the_default_reads_every_package(monkeypatch):
    # Each file's path in place of its docstrings: the pattern, not the parse.
    monkeypatch.setattr(standard_library, "_file_docstrings", lambda path: [path])
    paths = standard_library_docstrings()
    assert any(path.name == "string.py" for path in paths)
    assert any(path.parent.name == "email" for path in paths)


def test_leaves_out_tests():
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    assert any(stdlib.glob("test/test_*.py"))  # Python's own test suite
    assert standard_library_docstrings("test/*.py") == []


def test_the_same_on_every_call():
    first = standard_library_docstrings("json/*.py")
    assert first and first == standard_library_docstrings("json/*.py")
