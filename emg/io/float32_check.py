"""Refusing samples that float32 cannot hold, as every file reader must before its cast."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from emg.block import FLOAT32_MAX, beyond_float32
from emg.errors import EmgInputError


def refuse_beyond_float32(
    values: npt.NDArray[np.float64],
    source: str,
    field: str,
    cause: str,
    line: Callable[[int], int] | None = None,
) -> None:
    """Raise for the first sample of ``values`` that would turn into infinity as float32.

    Parameters
    ----------
    values
        One channel's samples in microvolts.
    source, field
        The file (or stream) and the column the samples came from.
    cause
        What such a value means in this format (``the value is damaged or not in
        microvolts``).
    line
        For text formats: the file's line number of a sample index; the message then names
        the line and the value, otherwise the sample index and the value.

    Raises
    ------
    EmgInputError
        Naming the file, the column and the sample (or line).
    """
    beyond = np.flatnonzero(beyond_float32(values))
    if not len(beyond):
        return
    index = int(beyond[0])
    limit = f"beyond the range of float32 samples (±{FLOAT32_MAX:.3g} µV); {cause}"
    if line is not None:
        raise EmgInputError(
            f"sample {values[index]:g} is {limit}", source=source, field=field, line=line(index)
        )
    raise EmgInputError(
        f"sample {index} ({values[index]:g} µV) is {limit}", source=source, field=field
    )
