"""The JSON sidecar beside a recording file (``set.csv`` or ``set.bdf`` -> ``set.emg.json``).

``emg export`` writes one beside a CSV file (its sample rate, columns and events file) and
beside a BDF file (its sample rate); each carries the analysis settings the session was
recorded with (``EmgAnalysisSettings``), which are then the recording's when it is read
again, as a BIDS dataset's ``_emg.json`` carries them. Its name is one nobody writes an
analysis to: exports before this one put it at ``set.json``, which ``emg analyze set.csv
--json > set.json`` emptied, settings and all. A ``set.json`` is still read when there is no
``set.emg.json``, if it is a sidecar: one that is not (the analysis that command writes) is
left alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emg.errors import EmgInputError
from emg.io.json_files import SETTINGS_KEY, read_json, write_json
from emg.io.read_errors import read_error
from emg.recording import Recording

#: Relative difference allowed between a sidecar's ``SamplingFrequency`` and the rate of the
#: recording. A CSV file's rate comes from the first and last times of its ``time`` column;
#: one that passes :data:`emg.io.csv_format.TIME_TOLERANCE` and is rounded to any precision
#: finer than its sample interval puts it within 1 % of an interval over the whole recording
#: (0.1 % from 11 samples on), while a wrong nominal rate (2000 for 2048 Hz, 1000 for 1024 Hz)
#: is 2.4 % off.
SIDECAR_RATE_TOLERANCE = 1e-3


def read_sidecar(path: str | Path, sample_rate: float | None = None) -> dict[str, Any]:
    """The metadata a recording's JSON sidecar (:func:`write_sidecar`) gives it.

    The JSON file beside the recording is taken for its sidecar only if it is one: an empty
    file (``emg analyze set.csv --json > set.json`` creates one before the analysis runs), a
    JSON value that is not an object, or an object with none of :data:`SIDECAR_FIELDS` (the
    analysis summary that command writes) is some other file, and is left alone.

    Parameters
    ----------
    path
        The recording (its sidecar is :func:`sidecar_path`).
    sample_rate
        The recording's rate (a CSV file's, from its ``time`` column), in Hz, to check the
        sidecar's
        ``SamplingFrequency`` against (None: not checked).

    Returns
    -------
    dict
        ``analysis`` (the settings the recording was made with), ``settings_file`` and
        ``settings_key`` (where they are) when the sidecar carries them; empty when there is
        no sidecar or it carries none.

    Raises
    ------
    EmgInputError
        Naming the sidecar, for one that cannot be read or is not valid JSON (saying which
        recording it was taken for), or naming its field ``SamplingFrequency`` when that is
        not a rate or not the recording's (within :data:`SIDECAR_RATE_TOLERANCE`).
    """
    found = _sidecar_content(path)
    if found is None:
        return {}
    sidecar, content = found
    if sample_rate is not None:
        _check_sidecar_rate(content.get("SamplingFrequency"), sample_rate, sidecar, path)
    if SETTINGS_KEY not in content:
        return {}
    return {
        "analysis": content[SETTINGS_KEY],
        "settings_file": str(sidecar),
        "settings_key": SETTINGS_KEY,
    }


#: The fields :func:`write_sidecar` writes (a CSV file's sidecar its columns and events too): a
#: JSON object beside a recording with none
#: of them is not its sidecar.
SIDECAR_FIELDS = ("SamplingFrequency", "Columns", "Events", SETTINGS_KEY)


def _sidecar_content(path: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """The sidecar of the recording ``path`` and its content, a JSON object
    (:func:`sidecar_path`, else the earlier exports' :func:`legacy_sidecar_path`); None when
    there is no JSON file beside it or that file is not a sidecar (see :func:`read_sidecar`).

    Raises
    ------
    EmgInputError
        Naming the file, for one that cannot be read or is not valid JSON.
    """
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        sidecar = legacy_sidecar_path(path)
    if not sidecar.is_file():
        return None
    try:
        if not sidecar.read_bytes().strip():
            return None
        content = read_json(sidecar)
    except OSError as error:
        raise _not_read(sidecar, path, read_error(error)) from None
    except EmgInputError as error:
        raise _not_read(sidecar, path, error.detail, error.line) from None
    if not isinstance(content, dict) or not any(key in content for key in SIDECAR_FIELDS):
        return None
    return sidecar, content


def _not_read(
    sidecar: Path, recording: str | Path, reason: str, line: int | None = None
) -> EmgInputError:
    """A JSON file beside a recording, taken for its sidecar (same name), that cannot be
    read."""
    name = Path(recording).name
    return EmgInputError(
        f"taken for the sidecar of {name} (same name), but {reason}; correct it, or move it "
        f"away if it is not {name}'s sidecar",
        source=str(sidecar),
        line=line,
    )


def _check_sidecar_rate(
    stated: Any, sample_rate: float, sidecar: Path, recording: str | Path
) -> None:
    """Refuse a sidecar's ``SamplingFrequency`` that is not the recording's rate."""
    if stated is None:
        return
    if (
        isinstance(stated, bool)
        or not isinstance(stated, int | float)
        or not math.isfinite(stated)
        or stated <= 0
    ):
        raise EmgInputError(
            f"field 'SamplingFrequency': {stated!r} is not a number of samples per second",
            source=str(sidecar),
        )
    if abs(stated - sample_rate) > SIDECAR_RATE_TOLERANCE * sample_rate:
        raise EmgInputError(
            f"field 'SamplingFrequency': {stated:g} Hz, but {Path(recording).name} is "
            f"sampled at {sample_rate:g} Hz; correct the one that is wrong",
            source=str(sidecar),
        )


def sidecar_path(path: str | Path) -> Path:
    """``set.csv`` -> ``set.emg.json``; ``set.bdf`` -> ``set.emg.json``."""
    return Path(path).with_suffix(".emg.json")


def legacy_sidecar_path(path: str | Path) -> Path:
    """Where exports before :func:`sidecar_path` put the sidecar: ``set.csv`` -> ``set.json``."""
    return Path(path).with_suffix(".json")


def write_sidecar(
    path: str | Path, recording: Recording, fields: Mapping[str, Any] | None = None
) -> Path:
    """Describe a recording file in a JSON file beside it: its sample rate, ``fields`` and the
    analysis settings the recording carries.

    Parameters
    ----------
    path
        The recording file written.
    recording
        What it holds.
    fields
        More of the description (a CSV file's ``Columns`` and ``Events``).

    Returns
    -------
    Path
        The sidecar written.
    """
    description: dict[str, Any] = {"SamplingFrequency": recording.sample_rate, **(fields or {})}
    settings = recording.metadata.get("analysis")
    if isinstance(settings, Mapping) and settings:
        description[SETTINGS_KEY] = dict(settings)
    out = sidecar_path(path)
    write_json(out, description)
    return out
