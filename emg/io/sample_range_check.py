"""Refusing samples no surface-EMG front end can give: NaN or infinite ones, and those beyond
:data:`~emg.block.MAX_SAMPLE_UV` (every file reader before its float32 cast, and the library for
the arrays it is given)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import MAX_SAMPLE_UV, beyond_sample_range
from emg.errors import EmgInputError


def refuse_non_finite(
    values: npt.NDArray[Any],
    source: str,
    field: str,
    line: Callable[[int], int] | None = None,
    ignore: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Raise for the first sample of ``values`` that is NaN or infinite.

    Parameters
    ----------
    values
        One channel's samples.
    source, field
        The file (or argument) and the column the samples came from.
    line
        For text formats: the file's line number of a sample index; the message then names
        the line (a NaN there is an empty cell or ``NaN``), otherwise the sample index.
    ignore
        True where a sample may be anything (a lost sample, filled by the analysis).

    Raises
    ------
    EmgInputError
        Naming the source, the column and the sample (or line).

    Examples
    --------
    >>> refuse_non_finite(np.array([1.0, np.nan]), "data", "glute")
    Traceback (most recent call last):
    ...
    emg.errors.EmgInputError: data, column 'glute': sample 1 is not a number (NaN)
    """
    index = _first(~np.isfinite(values), ignore)
    if index is None:
        return
    if line is not None:
        what = "missing (empty or NaN)" if np.isnan(values[index]) else "infinite"
        raise EmgInputError(f"sample is {what}", source=source, field=field, line=line(index))
    what = "not a number (NaN)" if np.isnan(values[index]) else f"infinite ({values[index]})"
    raise EmgInputError(f"sample {index} is {what}", source=source, field=field)


def refuse_beyond_sample_range(
    values: npt.NDArray[Any],
    source: str,
    field: str,
    cause: str,
    line: Callable[[int], int] | None = None,
    ignore: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Raise for the first sample of ``values`` (in microvolts) beyond
    :data:`~emg.block.MAX_SAMPLE_UV`; the parameters as for :func:`refuse_non_finite`, and
    ``cause``: what such a value means in this format (``the value is damaged or not in
    microvolts``). The message names the value as well.

    Raises
    ------
    EmgInputError
        Naming the file, the column and the sample (or line).
    """
    index = _first(beyond_sample_range(values), ignore)
    if index is None:
        return
    limit = (
        f"beyond the range of any surface-EMG amplifier or analog board (±{MAX_SAMPLE_UV / 1e6:g}"
        f" V, ±{MAX_SAMPLE_UV:.0e} µV); {cause}"
    )
    value = f"{values[index]:.8g}"
    if line is not None:
        raise EmgInputError(
            f"sample {value} is {limit}", source=source, field=field, line=line(index)
        )
    raise EmgInputError(f"sample {index} ({value} µV) is {limit}", source=source, field=field)


def _first(refused: npt.NDArray[np.bool_], ignore: npt.NDArray[np.bool_] | None) -> int | None:
    """Index of the first True of ``refused`` not marked in ``ignore``, or None."""
    found = np.flatnonzero(refused if ignore is None else refused & ~ignore)
    return int(found[0]) if len(found) else None
