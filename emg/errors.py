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


class SettingError(EmgInputError):
    """A setting the method does not accept (an analysis setting, a synthetic set's or an
    emulated sensor's), named as the library names it; the command line names the option
    that gave it.

    Parameters
    ----------
    setting
        The field at fault, as in the settings (``hold_s``; ``chain.hold_s`` once a part is
        known).
    reason
        What is wrong, without the field's name.
    """

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class EmgDeviceError(RuntimeError):
    """A sensor or the Bluetooth stack failed in a way the user can act on.

    The message says what happened and what to do (switch Bluetooth on, wake the sensor,
    grant permission ...).
    """
