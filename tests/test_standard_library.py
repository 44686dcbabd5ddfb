import email
import inspect
import json

from keras_gmlp.data.standard_library import standard_library_docstrings


def test_pattern_selects_the_files_read():
    everything = standard_library_docstrings()
    email_docstrings = standard_library_docstrings("email/**/*.py")
    assert len(everything) > 1000
    assert 0 < len(email_docstrings) < len(everything)
    assert set(email_docstrings) <= set(everything)
    assert inspect.cleandoc(email.__doc__) in email_docstrings
    assert inspect.cleandoc(json.__doc__) not in email_docstrings


def test_the_same_on_every_call():
    first = standard_library_docstrings("json/*.py")
    assert first and first == standard_library_docstrings("json/*.py")
