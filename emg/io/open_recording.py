"""One entry point for every readable recording: session folder, BDF/EDF(+), BIDS-EMG, XDF, C3D,
OpenSignals text and CSV."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

from emg.errors import EmgInputError
from emg.io.channel_map import COMMAND_LINE_CHANNELS, channels_named
from emg.io.opensignals_format import is_opensignals
from emg.io.read_errors import read_error
from emg.recording import Recording

#: What :func:`open_recording` reads, for messages and help texts.
READABLE = (
    "a session folder (session.json), a BIDS dataset (dataset_description.json), "
    "BDF/EDF(+) (.bdf, .edf), XDF (.xdf), C3D (.c3d), OpenSignals text (.txt) or CSV (.csv)"
)


def recording_format(path: Path) -> str:
    """``native``, ``bids``, ``edf``, ``xdf``, ``c3d``, ``opensignals`` or ``csv``, from the
    path (and, for ``.txt``, its first line).

    Raises
    ------
    EmgInputError
        For a path that does not exist or that is none of these.
    """
    if not path.exists():
        raise EmgInputError("no such file or folder", source=str(path))
    if path.is_dir():
        if (path / "session.json").is_file():
            return "native"
        if (path / "dataset_description.json").is_file():
            return "bids"
        raise EmgInputError(
            "this folder is not a recorded session (no session.json) nor a BIDS dataset "
            f"(no dataset_description.json); expected {READABLE}",
            source=str(path),
        )
    suffix = path.suffix.lower()
    if path.name == "session.json":
        return "native"
    if suffix in (".bdf", ".edf"):
        in_bids = (
            path.stem.endswith("_emg")
            and path.with_name(path.stem.removesuffix("_emg") + "_channels.tsv").is_file()
        )
        return "bids" if in_bids else "edf"
    if suffix in (".xdf", ".xdfz"):
        return "xdf"
    if suffix == ".c3d":
        return "c3d"
    if suffix == ".txt" and is_opensignals(path):
        return "opensignals"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise EmgInputError(f"unknown kind of file '{suffix}'; expected {READABLE}", source=str(path))


def refuse_empty_path(
    path: str | Path, source: str | None = None, give: str = "a file or a folder"
) -> None:
    """Refuse an empty path (``''``, an unset shell variable): :class:`~pathlib.Path` would
    take it for the current folder, which it never meant.

    Parameters
    ----------
    path
        As given (a string; a :class:`~pathlib.Path` cannot be empty).
    source
        Where it was given, for the message (e.g. ``command line``).
    give
        What may be given instead, for the message.

    Raises
    ------
    EmgInputError
        For an empty path.
    """
    if isinstance(path, str) and not path:
        raise EmgInputError(f"an empty path ('') names no recording: give {give}", source=source)


#: How the command line names the readers' ``stream`` and ``channels`` (``open_recording``'s
#: ``options``; the library's are :data:`emg.io.library_input.LIBRARY_OPTIONS`).
COMMAND_LINE_OPTIONS = ("--stream", COMMAND_LINE_CHANNELS)


def open_recording(
    path: str | Path,
    channels: Mapping[str, str] | None = None,
    stream: str | None = None,
    *,
    options: tuple[str, str] = COMMAND_LINE_OPTIONS,
    notify: Callable[[str], object] | None = None,
) -> Recording:
    """Read any supported recording.

    Parameters
    ----------
    path
        File or folder (see :data:`READABLE`).
    channels
        ``--channel`` overrides: target muscle label -> channel name in the file. With them,
        only the named channels are read; without, channels are named by their muscle.
    stream
        ``--stream``: in an XDF file, the name (or source id) of the stream to read (see
        :func:`emg.io.xdf_format.read_xdf`); refused for other formats.
    options
        How the caller names ``stream`` and ``channels``, for messages (the readers' too,
        through :func:`~emg.io.channel_map.channels_named`): the command line's options (the
        default), or the library's arguments (``("stream=", "channels=")``).
    notify
        Called with each line the reader has to say of what it skipped in a damaged file
        (event lines of a session folder that are not events, see
        :func:`~emg.io.session_format.read_session`), once per read; the recording's
        ``metadata["recovered"]`` keeps them.

    Returns
    -------
    Recording
        Samples in microvolts, loss mask, events and metadata (as far as the format has them).

    Raises
    ------
    EmgInputError
        With the file, field or channel at fault; for an empty path (``''``, which
        :class:`~pathlib.Path` would take for the current folder); for a ``stream`` given
        with a recording that is not XDF.
    """
    refuse_empty_path(path)
    path = Path(path)
    try:
        kind = recording_format(path)
        if stream is not None and kind != "xdf":
            raise EmgInputError(
                f"{options[0]} chooses a stream of an XDF file; this recording is not one (it "
                f"has one set of channels: {options[1]} names them)",
                source=str(path),
            )
        with channels_named(options[1]):  # the readers' channel messages name it so
            recording = _read(kind, path, channels, stream, notify)
    except OSError as error:  # a reader that let one through: still one line, naming the file
        raise EmgInputError(read_error(error), source=str(error.filename or path)) from None
    if kind == "native":
        check_native_metadata(recording, path)
    return recording


def _read(
    kind: str,
    path: Path,
    channels: Mapping[str, str] | None,
    stream: str | None,
    notify: Callable[[str], object] | None,
) -> Recording:
    if kind == "native":
        from emg.io.session_format import read_session

        return read_session(path, channels, notify=notify)
    if kind == "bids":
        from emg.io.bids_format import read_bids

        return read_bids(path, channels)
    if kind == "edf":
        from emg.io.edf_format import read_edf
        from emg.io.recording_sidecar import read_sidecar

        recording = read_edf(path, channels)
        # the settings the session was recorded with, when its export wrote them beside it
        recording.metadata.update(read_sidecar(path, recording.sample_rate))
        return recording
    if kind == "xdf":
        from emg.io.xdf_format import read_xdf

        return read_xdf(path, channels, stream)
    if kind == "c3d":
        from emg.io.c3d_format import read_c3d

        return read_c3d(path, channels)
    if kind == "opensignals":
        from emg.io.opensignals_format import read_opensignals

        return read_opensignals(path, channels)
    from emg.io.csv_format import read_emg_csv

    return read_emg_csv(path, channels)


def check_native_metadata(recording: Recording, path: Path) -> None:
    """Check the fields of ``session.json`` that replay and export rely on.

    ``t0`` (the first sample's time on the recording host's clock) must be a finite number
    of seconds.

    Raises
    ------
    EmgInputError
        Naming ``session.json`` and the field.
    """
    t0 = recording.metadata.get("t0")
    number = isinstance(t0, int | float) and not isinstance(t0, bool)
    if t0 is not None and not (number and math.isfinite(t0)):
        folder = path.parent if path.name == "session.json" else path
        raise EmgInputError(
            f"field 't0': the time of the first sample must be a number of seconds, got {t0!r}",
            source=str(folder / "session.json"),
        )
