"""Checks of constructor arguments, run before anything is built.

A value that cannot make a layer or a model (zero blocks, a negative width,
a rate of 1.5, a string where a size goes) is refused with a `ValueError`
that names the class, the argument, what was expected and what was
received. Presets are untrusted input: their configs reach the constructors
through these checks.
"""

import math
import numbers

import numpy as np


def check_positive_int(owner, name, value):
    """Refuses `value` unless it is an int of at least 1 (bools are not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"{owner} expects `{name}` to be a positive int. Received: {name}={value!r}"
        )


def check_optional_positive_int(owner, name, value):
    """Refuses `value` unless it is `None` or a positive int."""
    if value is not None:
        check_positive_int(owner, name, value)


def check_rate(owner, name, value):
    """Refuses `value` unless it is a number in `[0, 1)`, a dropout rate."""
    if not _is_real(value) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"{owner} expects `{name}` to be a number in [0, 1). Received: "
            f"{name}={value!r}"
        )


def check_positive_float(owner, name, value):
    """Refuses `value` unless it is a finite number above 0 (an epsilon)."""
    if not _is_real(value) or not 0.0 < value < math.inf:
        raise ValueError(
            f"{owner} expects `{name}` to be a finite number above 0. "
            f"Received: {name}={value!r}"
        )


def check_bool(owner, name, value):
    """Refuses `value` unless it is `True` or `False`."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(
            f"{owner} expects `{name}` to be True or False. Received: {name}={value!r}"
        )


def check_choice(owner, name, value, choices):
    """Refuses `value` unless it is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{owner} expects `{name}` to be one of {choices}. Received: "
            f"{name}={value!r}"
        )


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
