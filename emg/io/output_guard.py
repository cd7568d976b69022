"""Outputs that would replace what was recorded are refused before anything is written.

A command's output is a new file: a report, an exported copy, a synthetic set, a decoded
capture. Named by mistake after its own input (``emg report set.csv --out set.csv``) or after
a file of a recorded session, writing it would destroy the recording it came from, and no
later step could bring it back. And files written again (a report made twice) are replaced
only by complete ones (:func:`staged`; :func:`staged_folder` for the files an export adds to
a dataset folder): written beside them first, then moved over them, so that a full disk or a
failure half-way leaves the earlier ones as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emg.errors import EmgInputError
from emg.io.open_recording import open_recording
from emg.io.session_format import BIDS_FOLDER, METADATA_FILE
from emg.io.session_writer import describe_write_error


def check_output_path(out: Path, reads: Path | None = None, *, dataset: bool = False) -> None:
    """Refuse an output that would replace ``reads`` or lie in a recorded session's folder.

    Parameters
    ----------
    out
        Where the command is about to write (a file or, for a dataset, a folder).
    reads
        The recording the command reads (a file, or a session's folder), if any.
    dataset
        ``out`` is a BIDS dataset folder: a session's own export (``SESSION/bids``, which a
        recording makes when it stops) may be made again from that session.

    Raises
    ------
    EmgInputError
        Naming ``out``: it is the recording read, a session's folder (one with a
        ``session.json``), or lies inside the folder read or inside a session's folder.

    Examples
    --------
    >>> check_output_path(Path("set-report.html"), reads=Path("set.csv"))
    >>> check_output_path(Path("set.csv"), reads=Path("set.csv"))
    Traceback (most recent call last):
    emg.errors.EmgInputError: set.csv: would replace the recording it is made from
    """
    target = out.resolve()
    if reads is not None:
        source = reads.resolve()
        if source.name == METADATA_FILE:
            source = source.parent
        if dataset and target == source / BIDS_FOLDER and (source / METADATA_FILE).is_file():
            return  # the session's own export, of the session: its files are not the session's
        if target == source:
            raise EmgInputError("would replace the recording it is made from", source=str(out))
        if source in target.parents:
            raise EmgInputError(
                "is inside the folder of the recording it is made from, which is left as "
                "recorded: name an output elsewhere",
                source=str(out),
            )
    if (target / METADATA_FILE).is_file():
        raise EmgInputError(
            "is a recorded session's folder: a dataset written there would mix with its "
            "files; name an output elsewhere",
            source=str(out),
        )
    if (target.parent / METADATA_FILE).is_file():
        raise EmgInputError(
            "is inside a recorded session's folder, whose files it would replace: "
            "name an output elsewhere",
            source=str(out),
        )


def check_output_suffix(out: Path, suffixes: tuple[str, ...], what: str, option: str) -> None:
    """Refuse an output whose name says another format than the one written (a report named
    ``r.pdf`` is HTML; ``emg synth s.truth.json`` would write CSV into the truth file).

    Parameters
    ----------
    out
        The output path given.
    suffixes
        The suffixes the format may have, lower case with the dot (``(".html", ".htm")``).
    what
        What is written (``a report``).
    option
        The option or argument that named it (``--out``).

    Raises
    ------
    EmgInputError
        Naming the option, the file and the format.
    """
    if out.suffix.lower() not in suffixes:
        raise EmgInputError(
            f"{option}: {what} is written as {' or '.join(suffixes)}, which '{out.name}' does "
            "not end in",
            source="command line",
        )


def check_not_a_recording(out: Path) -> None:
    """Refuse to replace a file that is a recording (a table written over a set's CSV).

    An output that already exists is normally the same command's earlier output, written again;
    one that reads as a recording is not.

    Raises
    ------
    EmgInputError
        Naming ``out`` when it exists and reads as a recording.
    """
    if not out.is_file():
        return
    try:
        open_recording(out)
    except (EmgInputError, OSError, ValueError):
        return  # not a recording: an earlier table, or anything else the user named
    raise EmgInputError(
        "is a recording, which the table would replace: name another output", source=str(out)
    )


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Where to write ``out`` (and the files named after it) so that they replace earlier ones
    only once all are complete: a path of the same name in a new folder beside ``out``, whose
    files are moved over the old ones when the block ends without error, and removed when it
    fails (a full disk half-way leaves the earlier files as they were).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with staged(folder / "set.csv") as path:
    ...     _ = path.write_text("time,glute")
    ...     _ = path.with_suffix(".json").write_text("{}")
    >>> sorted(p.name for p in folder.iterdir())
    ['set.csv', 'set.json']
    """
    with _staging(out, into=out.parent, inside=out.parent) as folder:
        yield folder / out.name


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Where to write files into the folder ``out`` (a dataset) so that they replace earlier
    ones only once all are complete: a new hidden folder in ``out``, to be filled as ``out`` would
    be, whose files are moved to the same places in ``out`` when the block ends without error
    (the deepest first, so that a list of the files, such as ``participants.tsv``, comes after
    what it lists), and removed when it fails. Files of ``out`` not written again are kept.

    Parameters
    ----------
    out
        The folder written to (made if it does not exist yet, and removed again when the
        block fails).

    Yields
    ------
    Path
        The staging folder.

    Raises
    ------
    EmgInputError
        When ``out`` is a file.
    OutputNotWritten
        When a write fails (naming the file in ``out`` it was for).

    Examples
    --------
    >>> import tempfile
    >>> dataset = Path(tempfile.mkdtemp()) / "ds"
    >>> with staged_folder(dataset) as folder:
    ...     (folder / "sub-01").mkdir()
    ...     _ = (folder / "sub-01" / "data.bdf").write_text("1")
    ...     _ = (folder / "participants.tsv").write_text("sub-01")
    >>> with staged_folder(dataset) as folder:
    ...     _ = (folder / "participants.tsv").write_text("sub-01 sub-02")
    >>> sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*.*"))
    ['participants.tsv', 'sub-01/data.bdf']
    """
    if out.exists() and not out.is_dir():
        raise EmgInputError("is a file; expected a folder to write into", source=str(out))
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputNotWritten(describe_write_error(error, out), source=str(out)) from None
    try:
        # inside the folder itself, so that the moves stay on its file system (a dataset on
        # a mounted drive, or reached through a link, is on another than its parent)
        with _staging(out, into=out, inside=out) as folder:
            yield folder
    except BaseException:
        if made:
            shutil.rmtree(out, ignore_errors=True)
        raise


class OutputNotWritten(EmgInputError):
    """An output that could not be written (a full disk, a folder that cannot be written):
    nothing of it replaced what was there.

    Attributes
    ----------
    reason
        Why, in words (:func:`~emg.io.session_writer.describe_write_error`).
    """

    def __init__(self, reason: str, source: str) -> None:
        super().__init__(f"{reason}; nothing was replaced", source=source)
        self.reason = reason


@contextmanager
def _staging(out: Path, into: Path, inside: Path) -> Iterator[Path]:
    """A new folder in ``inside`` whose files are moved to the same places under ``into``
    when the block ends without error; removed in any case. A write that fails is
    :class:`OutputNotWritten`, naming the file it was for."""
    folder: Path | None = None
    try:
        inside.mkdir(parents=True, exist_ok=True)  # as the writers make it
        folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=inside))
        yield folder
        written = (p for p in folder.rglob("*") if p.is_file())
        for path in sorted(written, key=lambda p: (-len(p.relative_to(folder).parts), p)):
            target = into / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    except OSError as error:  # name the file written, not its place in the staging folder
        name = error.filename if isinstance(error.filename, str) else str(out)
        if folder is not None and Path(name).is_relative_to(folder):
            name = str(into / Path(name).relative_to(folder))
        raise OutputNotWritten(describe_write_error(error, inside), source=name) from None
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
