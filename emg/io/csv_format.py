"""Plain CSV recordings: a ``time`` column in seconds, then one column per channel in microvolts.

Channel columns are named by muscle (``glute``, ``hamstring``, ... optionally with ``_left`` or
``_right``). Optional loss columns, ``lost`` (all channels) or ``<channel>_lost``, hold 1 where a
sample was lost in transit and filled. A JSON sidecar beside the file (``set.csv`` ->
``set.emg.json``, as ``emg export`` writes it) describes the columns and may carry the analysis
settings the session was recorded with, which are then the recording's (see
:mod:`emg.io.recording_sidecar`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from emg.errors import EmgInputError
from emg.events import REP_COLUMNS, Event, rep_columns
from emg.io.channel_map import SourceChannel, map_channels
from emg.io.read_errors import read_error
from emg.io.recording_sidecar import read_sidecar, write_sidecar
from emg.io.sample_range_check import refuse_beyond_sample_range, refuse_non_finite
from emg.recording import Recording

#: Relative tolerance on the sample interval before time counts as irregular.
TIME_TOLERANCE = 0.01


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
        odd = np.flatnonzero(flags & (values[column] != 1))
        if len(odd):
            raise EmgInputError(
                f"{values[column][odd[0]]:g}: a loss column holds 1 where a sample was lost "
                "and 0 elsewhere",
                source=name,
                line=_line(int(odd[0])),
                field=column,
            )
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
        metadata=read_sidecar(path, fs),
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
    return write_sidecar(
        path, recording, {"Columns": columns, "Events": events_csv_path(path).name}
    )
