"""The one line a reader gives when the operating system refuses a file."""

from __future__ import annotations


def read_error(error: OSError) -> str:
    """What every reader says when the operating system refuses to read a file.

    Parameters
    ----------
    error
        The error of the open or read (``PermissionError`` for a file without read
        permission, another ``OSError`` for a failing disk or network share).

    Returns
    -------
    str
        One line without the path (the caller names the file).
    """
    if isinstance(error, PermissionError):
        return "cannot read it: permission denied (check its permissions and owner)"
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read the file ({error.strerror or error})"
