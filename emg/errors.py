"""Errors raised for bad input, each naming the file, field, row or packet at fault."""

from __future__ import annotations


class EmgInputError(ValueError):
    """Bad input data or configuration.

    Parameters
    ----------
    message
        What is wrong and, where possible, how to fix it.
    source
        The file (or stream, or option) the problem was found in.
    field
        The column, key or option at fault, if any.
    line
        The 1-based line number in ``source`` at fault, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.field = field
        self.line = line
        self.detail = message
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"column '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class EmgDeviceError(RuntimeError):
    """A sensor or the Bluetooth stack failed in a way the user can act on.

    The message says what happened and what to do (switch Bluetooth on, wake the sensor,
    grant permission ...).
    """
