"""Plain CSV recordings: a ``time`` column in seconds, then one column per channel in microvolts.

Channel columns are named by muscle (``glute``, ``hamstring``, ... optionally with ``_left`` or
``_right``). Optional loss columns, ``lost`` (all channels) or ``<channel>_lost``, hold 1 where a
sample was lost in transit and filled. A JSON sidecar beside the file (``set.csv`` ->
``set.json``, as ``emg export`` writes it) describes the columns and may carry the analysis
settings the session was recorded with, which are then the recording's; a JSON file there
that is no sidecar (``emg analyze set.csv --json > set.json``) is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from emg.errors import EmgInputError
from emg.events import REP_COLUMNS, Event, rep_columns
from emg.io.channel_map import SourceChannel, map_channels
from emg.io.json_files import SETTINGS_KEY, read_json, write_json
from emg.io.read_errors import read_error
from emg.io.sample_range_check import refuse_beyond_sample_range, refuse_non_finite
from emg.recording import Recording

#: Relative tolerance on the sample interval before time counts as irregular.
TIME_TOLERANCE = 0.01
#: Relative difference allowed between a sidecar's ``SamplingFrequency`` and the rate of the
#: ``time`` column. The rate comes from the first and last times; a time column that passes
#: :data:`TIME_TOLERANCE` and is rounded to any precision finer than its sample interval puts
#: it within 1 % of an interval over the whole recording (0.1 % from 11 samples on), while a
#: wrong nominal rate (2000 for 2048 Hz, 1000 for 1024 Hz) is 2.4 % off.
SIDECAR_RATE_TOLERANCE = 1e-3


def _line(row: int) -> int:
    """1-based file line of 0-based data row ``row`` (line 1 is the header)."""
    return row + 2


def read_emg_csv(path: str | Path, channels: Mapping[str, str] | None = None) -> Recording:
    """Read a CSV recording, checking it thoroughly.

    Parameters
    ----------
    path
        The CSV file.
    channels
        Overrides, target muscle label -> column name (selects those columns only).

    Returns
    -------
    Recording
        float32 microvolts, sample rate from the ``time`` column, channels by muscle.

    Raises
    ------
    EmgInputError
        Naming the file, column and line for: an empty or unreadable file, a missing ``time``
        column, non-numeric values, NaN or infinite samples, non-monotonic or irregular time,
        unknown muscle names, a column named twice in the header, duplicate channels, a JSON
        sidecar whose ``SamplingFrequency`` is not the rate of the ``time`` column.
    """
    name = str(path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise EmgInputError("no such file", source=name) from None
    except IsADirectoryError:
        raise EmgInputError("is a directory, not a CSV file", source=name) from None
    except OSError as error:
        raise EmgInputError(read_error(error), source=name) from None
    except pd.errors.EmptyDataError:
        raise EmgInputError("the file is empty", source=name) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split())  # pandas' reason may end in a line break
        raise EmgInputError(f"not a readable CSV file ({reason})", source=name) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    _refuse_repeated_columns(path, list(frame.columns), name)
    if "time" not in frame.columns:
        raise EmgInputError(
            f"no 'time' column (columns found: {', '.join(frame.columns)}); the first column must "
            "be 'time' in seconds",
            source=name,
            field="time",
        )
    if len(frame) < 2:
        raise EmgInputError("fewer than two samples", source=name)
    loss_columns = [c for c in frame.columns if c == "lost" or c.endswith("_lost")]
    channel_columns = [c for c in frame.columns if c != "time" and c not in loss_columns]
    if not channel_columns:
        raise EmgInputError("no channel columns besides 'time'", source=name)
    found = [SourceChannel(name=c) for c in channel_columns]
    taken = map_channels(found, channels, name, device=Path(name).name)
    selected = [channel_columns[index] for index, _ in taken]
    named = tuple(channel for _, channel in taken)

    values = {c: _numeric(frame[c], name, c) for c in ["time", *selected, *loss_columns]}
    for column in selected:
        refuse_beyond_sample_range(
            values[column], name, column, "the value is damaged or not in microvolts", _line
        )
    time = values["time"]
    fs = _sample_rate(time, name)
    data = np.column_stack([values[c] for c in selected]).astype(np.float32)
    lost = np.zeros(data.shape, dtype=bool)
    for column in loss_columns:
        flags = values[column] != 0
        if column == "lost":
            lost |= flags[:, None]
            continue
        target = column[: -len("_lost")]
        if target not in channel_columns:
            raise EmgInputError(
                f"loss column for '{target}', which is not a channel", source=name, field=column
            )
        if target in selected:
            lost[:, selected.index(target)] |= flags
    return Recording(
        data=data,
        sample_rate=fs,
        channels=named,
        lost=lost,
        source=name,
        metadata=read_csv_sidecar(path, fs),
    )


#: How many times a repeated column name appears, for messages.
_TIMES = {2: "twice", 3: "three times"}


def _refuse_repeated_columns(path: str | Path, columns: list[str], source: str) -> None:
    """Refuse a header that names a column more than once. pandas renames the repeats
    (``glute``, ``glute.1``), so a suspect header is read again as it is written."""
    renamed = any(
        base in columns and digits.isdigit()
        for base, _, digits in (c.rpartition(".") for c in columns)
    )
    if not renamed and len(set(columns)) == len(columns):
        return
    if hasattr(path, "seek"):  # a text buffer, read once already
        path.seek(0)
    header = pd.read_csv(
        path, header=None, nrows=1, dtype=str, keep_default_na=False, skipinitialspace=True
    )
    names = [str(v).strip() for v in header.iloc[0]]
    for column in names:
        count = names.count(column)
        if count > 1:
            raise EmgInputError(
                f"appears {_TIMES.get(count, f'{count} times')} in the header (columns: "
                f"{', '.join(names)}); give each column its own name",
                source=source,
                field=column,
                line=1,
            )


def _numeric(series: pd.Series, source: str, column: str) -> npt.NDArray[np.float64]:
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise EmgInputError(
            f"'{series.iloc[row]}' is not a number", source=source, field=column, line=_line(row)
        )
    array: npt.NDArray[np.float64] = numbers.to_numpy(dtype=np.float64)
    refuse_non_finite(array, source, column, _line)
    return array


def _sample_rate(time: npt.NDArray[np.float64], source: str) -> float:
    steps = np.diff(time)
    backwards = np.flatnonzero(steps <= 0)
    if len(backwards):
        row = int(backwards[0]) + 1
        raise EmgInputError(
            f"time does not increase ({time[row - 1]:g} s, then {time[row]:g} s)",
            source=source,
            field="time",
            line=_line(row),
        )
    step = float(np.median(steps))
    irregular = np.flatnonzero(np.abs(steps - step) > TIME_TOLERANCE * step)
    if len(irregular):
        row = int(irregular[0]) + 1
        raise EmgInputError(
            f"irregular time: step of {steps[row - 1] * 1000:.4g} ms where the sample interval is "
            f"{step * 1000:.4g} ms (gap or jitter; samples must be evenly spaced)",
            source=source,
            field="time",
            line=_line(row),
        )
    fs = (len(time) - 1) / (time[-1] - time[0])
    nearest = round(fs)
    return float(nearest) if abs(fs - nearest) <= 1e-4 * fs else round(fs, 3)


def write_emg_csv(path: str | Path, recording: Recording) -> None:
    """Write a recording as CSV (``time``, channels in microvolts, ``<channel>_lost`` if any loss).

    Parameters
    ----------
    path
        Output file.
    recording
        What to write.
    """
    n = recording.n_samples
    columns = {"time": np.arange(n) / recording.sample_rate}
    # picoseconds: 1 / median(diff(time)) gives the sample rate back (to 1e-8 at 2048 Hz)
    formats = ["%.12f"]
    for c, channel in enumerate(recording.channels):
        columns[channel.label] = recording.data[:, c].astype(np.float64)
        formats.append("%.3f")
    for c, channel in enumerate(recording.channels):
        if recording.lost[:, c].any():
            columns[f"{channel.label}_lost"] = recording.lost[:, c].astype(np.float64)
            formats.append("%d")
    table = np.column_stack(list(columns.values()))
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(path, table, fmt=formats, delimiter=",", header=",".join(columns), comments="")
    except OSError as error:
        raise EmgInputError(
            f"cannot write the file ({error.strerror or error})", source=str(path)
        ) from None


def events_csv_path(path: str | Path) -> Path:
    """``set.csv`` -> ``set.events.csv``."""
    path = Path(path)
    return path.with_name(path.stem + ".events.csv")


def write_events_csv(path: str | Path, events: list[Event]) -> Path:
    """Write events beside a CSV recording, in time order: ``time_s, duration_s, kind,
    channel``, the reps' numbers in their own columns (``rep, side, order, lead_ms, ratio``,
    empty for other events) and a short ``description``.

    Returns
    -------
    Path
        The events file written.
    """
    out = events_csv_path(path)
    ordered = sorted(events, key=lambda e: e.time_s)
    typed = [rep_columns(e) for e in ordered]
    frame = pd.DataFrame(
        {
            "time_s": [e.time_s for e in ordered],
            "duration_s": [e.duration_s for e in ordered],
            "kind": [e.kind for e in ordered],
            "channel": [e.channel or "" for e in ordered],
            **{column: [row[column] for row in typed] for column in REP_COLUMNS},
            "description": [e.description for e in ordered],
        }
    )
    frame["rep"] = frame["rep"].astype("Int64")  # whole numbers, empty where none
    frame.to_csv(out, index=False, float_format="%.6f")
    return out


def csv_sidecar_path(path: str | Path) -> Path:
    """``set.csv`` -> ``set.json``."""
    return Path(path).with_suffix(".json")


def write_csv_sidecar(path: str | Path, recording: Recording) -> Path:
    """Describe a CSV recording in a JSON file beside it: sample rate and each column's unit.

    Returns
    -------
    Path
        The sidecar written.
    """
    columns: dict[str, dict[str, Any]] = {"time": {"Description": "Time", "Units": "s"}}
    for channel in recording.channels:
        columns[channel.label] = {
            "Description": f"surface EMG, {channel.muscle}"
            + (f", {channel.side}" if channel.side else ""),
            "Units": "uV",
        }
    for channel in recording.channels:
        columns[f"{channel.label}_lost"] = {
            "Description": f"1 where a sample of {channel.label} was lost in transit and "
            "filled with 0 (the column is present only when a sample was lost)",
        }
    out = csv_sidecar_path(path)
    description: dict[str, Any] = {
        "SamplingFrequency": recording.sample_rate,
        "Columns": columns,
        "Events": events_csv_path(path).name,
    }
    settings = recording.metadata.get("analysis")
    if isinstance(settings, Mapping) and settings:
        description[SETTINGS_KEY] = dict(settings)
    write_json(out, description)
    return out


def read_csv_sidecar(path: str | Path, sample_rate: float | None = None) -> dict[str, Any]:
    """The metadata a CSV recording's JSON sidecar (:func:`write_csv_sidecar`) gives it.

    The JSON file beside the recording is taken for its sidecar only if it is one: an empty
    file (``emg analyze set.csv --json > set.json`` creates it before the analysis runs), a
    JSON value that is not an object, or an object with none of :data:`SIDECAR_FIELDS` (the
    analysis summary that command writes) is some other file, and is left alone.

    Parameters
    ----------
    path
        The CSV recording (its sidecar is :func:`csv_sidecar_path`).
    sample_rate
        The rate of the recording's ``time`` column, in Hz, to check the sidecar's
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
        not a rate or not the ``time`` column's (within :data:`SIDECAR_RATE_TOLERANCE`).
    """
    content = _sidecar_content(path)
    if content is None:
        return {}
    if sample_rate is not None:
        _check_sidecar_rate(
            content.get("SamplingFrequency"), sample_rate, csv_sidecar_path(path), path
        )
    if SETTINGS_KEY not in content:
        return {}
    return {
        "analysis": content[SETTINGS_KEY],
        "settings_file": str(csv_sidecar_path(path)),
        "settings_key": SETTINGS_KEY,
    }


#: The fields :func:`write_csv_sidecar` writes: a JSON object beside a CSV recording with none
#: of them is not its sidecar.
SIDECAR_FIELDS = ("SamplingFrequency", "Columns", "Events", SETTINGS_KEY)


def _sidecar_content(path: str | Path) -> dict[str, Any] | None:
    """The sidecar of the CSV recording ``path`` as a JSON object; None when there is no JSON
    file beside it or that file is not a sidecar (see :func:`read_csv_sidecar`).

    Raises
    ------
    EmgInputError
        Naming the file, for one that cannot be read or is not valid JSON.
    """
    sidecar = csv_sidecar_path(path)
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
    return content


def _not_read(
    sidecar: Path, recording: str | Path, reason: str, line: int | None = None
) -> EmgInputError:
    """A JSON file beside a CSV recording, taken for its sidecar (same name), that cannot be
    read."""
    name = Path(recording).name
    return EmgInputError(
        f"taken for the sidecar of {name} (same name, .json), but {reason}; correct it, or "
        f"move it away if it is not {name}'s sidecar",
        source=str(sidecar),
        line=line,
    )


def _check_sidecar_rate(
    stated: Any, sample_rate: float, sidecar: Path, recording: str | Path
) -> None:
    """Refuse a sidecar's ``SamplingFrequency`` that is not the ``time`` column's rate."""
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
            f"field 'SamplingFrequency': {stated:g} Hz, but the time column of "
            f"{Path(recording).name} is sampled at {sample_rate:g} Hz; correct the one that "
            "is wrong",
            source=str(sidecar),
        )
