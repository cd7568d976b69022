"""Whether a value given in Python is a real number: Python's or NumPy's (a 0-d array too),
never a bool, which Python counts as one (``True`` is not 1 µV, nor 1 rep); and whether it is a
bool, Python's or NumPy's."""

from __future__ import annotations

import numbers

import numpy as np


def real_number(value: object) -> float | None:
    """``value`` as a float when it is a real number, else None.

    Examples
    --------
    >>> real_number(3), real_number(np.float32(2.5)), real_number(np.array(2000.0))
    (3.0, 2.5, 2000.0)
    >>> real_number(True), real_number(np.True_), real_number("3"), real_number([3])
    (None, None, None, None)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def is_real_number(value: object) -> bool:
    """True for what :func:`real_number` takes as a number (NaN and infinities included)."""
    return real_number(value) is not None


def is_bool(value: object) -> bool:
    """True for a bool, Python's or NumPy's (``np.True_``, as an array's element gives it).

    Examples
    --------
    >>> is_bool(True), is_bool(np.False_), is_bool(1), is_bool("yes"), is_bool(None)
    (True, True, False, False, False)
    """
    return isinstance(value, bool | np.bool_)
