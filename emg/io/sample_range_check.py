"""Refusing samples no surface-EMG front end can give, as every file reader must before its
float32 cast (:data:`~emg.block.MAX_SAMPLE_UV`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from emg.block import MAX_SAMPLE_UV, beyond_sample_range
from emg.errors import EmgInputError


def refuse_beyond_sample_range(
    values: npt.NDArray[np.float64],
    source: str,
    field: str,
    cause: str,
    line: Callable[[int], int] | None = None,
) -> None:
    """Raise for the first sample of ``values`` beyond :data:`~emg.block.MAX_SAMPLE_UV`.

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
    beyond = np.flatnonzero(beyond_sample_range(values))
    if not len(beyond):
        return
    index = int(beyond[0])
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
