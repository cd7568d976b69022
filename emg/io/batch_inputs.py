"""The inputs of a batch analysis: files, folders and glob patterns expanded into recordings.

Rules (``emg analyze PATHS... --out TABLE``):

- a **file** is one input, whatever its name (:func:`emg.io.open_recording.open_recording`
  decides whether it can read it; if not, that file is reported as failed);
- a **folder that is a recording** is one input: a session folder (``session.json``), or a BIDS
  dataset (``dataset_description.json``) holding one EMG recording. A BIDS dataset holding
  several is expanded into its ``sub-*/[ses-*/]emg/*_emg.bdf|edf`` files, one input each;
- **any other folder** is searched recursively, in name order, for recordings: folders that
  are recordings (as above, not looked into further) and files ending in ``.csv``, ``.bdf``,
  ``.edf``, ``.xdf``, ``.xdfz`` or ``.c3d``. Hidden files and folders (``.name``) and the
  events written beside a CSV export (``*.events.csv``) are left out; ``.txt`` and ``.tsv``
  recordings are taken only when named (or matched by a pattern);
- a **glob pattern** (``*``, ``?``, ``[...]``; ``**`` crosses folders) that is not itself an
  existing path is replaced by its matches in name order, each treated as if it had been
  given: a matching file is one input, a matching folder is expanded as above.

Inputs are kept in the order given, each once (the first occurrence of the same file).
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from pathlib import Path

from emg.errors import EmgInputError
from emg.io.open_recording import refuse_empty_path
from emg.io.read_errors import read_error

#: File endings taken from a folder that is not itself a recording.
FOLDER_SUFFIXES = (".csv", ".bdf", ".edf", ".xdf", ".xdfz", ".c3d")

#: Files beside a recording that are not recordings themselves.
SIDE_FILE_ENDINGS = (".events.csv",)

_BIDS_DATA_ENDINGS = ("_emg.bdf", "_emg.edf")


def is_glob(text: str) -> bool:
    """True if ``text`` holds a glob wildcard (``*``, ``?`` or ``[``)."""
    return glob.has_magic(text)


def is_recording_folder(path: Path) -> bool:
    """True for a session folder (``session.json``) or a BIDS dataset root."""
    return (path / "session.json").is_file() or (path / "dataset_description.json").is_file()


def bids_recordings(root: Path) -> list[Path]:
    """The EMG data files of a BIDS dataset, in name order (as the BIDS reader finds them)."""
    return sorted(
        p
        for p in root.glob("sub-*/**/emg/*")
        if p.is_file() and p.name.lower().endswith(_BIDS_DATA_ENDINGS)
    )


def expand_inputs(paths: Sequence[str | Path], exclude: Iterable[Path] = ()) -> list[Path]:
    """Expand files, folders and glob patterns into the recordings to analyse.

    Parameters
    ----------
    paths
        As given on the command line (see the module's rules).
    exclude
        Files never to take as inputs (the output table and its failures file, which a
        search of their folder would otherwise find on the next run).

    Returns
    -------
    list of Path
        One per recording, in the order given (a folder's and a pattern's in name order),
        without repeats.

    Raises
    ------
    EmgInputError
        For an empty path, a path that does not exist, a pattern that matches nothing, a
        folder that cannot be read, or when no recording is found at all.
    """
    refuse_empty_paths(paths)
    skip = {p.resolve() for p in exclude}
    found: list[Path] = []
    for given in paths:
        try:
            found.extend(_expand(str(given)))
        except OSError as error:  # a folder the system will not let us look into
            raise EmgInputError(read_error(error), source=str(error.filename or given)) from None
    inputs: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        key = path.resolve()
        if key in seen or key in skip:
            continue
        seen.add(key)
        inputs.append(path)
    if not inputs:
        listed = ", ".join(str(p) for p in paths)
        where = "in this folder" if len(paths) == 1 and Path(paths[0]).is_dir() else "here"
        raise EmgInputError(
            f"no recording found {where} (looked for session folders, BIDS datasets and "
            f"{', '.join(FOLDER_SUFFIXES)} files, in sub-folders too)",
            source=listed,
        )
    return inputs


def refuse_empty_paths(paths: Sequence[str | Path], source: str | None = None) -> None:
    """Refuse an empty path among ``paths``: ``Path("")`` is the current folder, which an
    empty argument (an unset shell variable, ``''``) never meant.

    Parameters
    ----------
    paths
        As given (strings; a :class:`~pathlib.Path` cannot be empty).
    source
        Where they were given, for the message (e.g. ``command line``).

    Raises
    ------
    EmgInputError
        For an empty path.
    """
    for path in paths:
        refuse_empty_path(path, source, give="a file, a folder or a pattern")


def _expand(text: str) -> list[Path]:
    """The recordings one given path or pattern stands for."""
    path = Path(text)
    if path.exists():
        candidates = [path]
    elif is_glob(text):
        candidates = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
        if not candidates:
            raise EmgInputError("no file or folder matches this pattern", source=text)
    else:
        raise EmgInputError("no such file or folder", source=text)
    found: list[Path] = []
    for candidate in candidates:
        found.extend(_folder(candidate, set()) if candidate.is_dir() else [candidate])
    return found


def _folder(folder: Path, visited: set[Path]) -> list[Path]:
    """The recordings in ``folder`` (itself, if it is one); ``visited`` guards symlink loops."""
    if (folder / "session.json").is_file():
        return [folder]
    if (folder / "dataset_description.json").is_file():
        data_files = bids_recordings(folder)
        return data_files if len(data_files) > 1 else [folder]
    key = folder.resolve()
    if key in visited:
        return []
    visited.add(key)
    found: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            found.extend(_folder(child, visited))
        elif _is_recording_file(child):
            found.append(child)
    return found


def _is_recording_file(path: Path) -> bool:
    name = path.name.lower()
    return (
        path.is_file() and name.endswith(FOLDER_SUFFIXES) and not name.endswith(SIDE_FILE_ENDINGS)
    )
