"""An output that exists already is replaced only when asked (``--overwrite``)."""

from __future__ import annotations

from pathlib import Path

from emg.errors import EmgInputError


def check_new_output(out: Path, overwrite: bool) -> None:
    """Refuse to replace an existing file, unless ``overwrite`` (MNE's and mne-bids' rule).

    An exported or decoded file is a recording like the one it came from: written over an
    earlier recording by mistake, nothing could bring that back, and nothing tells the two
    apart. A report (and its PNGs) is kept alike: the earlier one may be of another session
    or of other settings.

    Parameters
    ----------
    out
        The file the command is about to write.
    overwrite
        Replace it if it exists (``--overwrite``).

    Raises
    ------
    EmgInputError
        Naming ``out`` when it exists and ``overwrite`` is False.

    Examples
    --------
    >>> check_new_output(Path("no-such-file.csv"), overwrite=False)
    """
    if out.exists() and not overwrite:
        raise EmgInputError(
            "exists already: pass --overwrite to replace it, or name another output",
            source=str(out),
        )
