"""What the library's calls take in Python rather than from a file: an array with its sample rate
and channel names, a :class:`~emg.recording.Recording` made by hand, channel overrides and a path.

Each is checked as the readers check a file (the same checks: :mod:`emg.io.sample_range_check`,
:func:`~emg.io.channel_map.parse_channel_overrides`, :func:`~emg.io.channel_map.repeated_label`),
and every refusal names the argument at fault as its source (``data``, ``fs``, ``channels``,
``path``, ``stream``), with the column where a sample is at fault:
``data, column 'glute': sample 40000 is not a number (NaN)``.
"""

from __future__ import annotations

import math
import os
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import MAX_SAMPLE_RATE_HZ, Channel
from emg.errors import EmgInputError
from emg.io.channel_map import LIBRARY_CHANNELS, parse_channel_overrides, repeated_label
from emg.io.sample_range_check import refuse_beyond_sample_range, refuse_non_finite
from emg.real_number import real_number
from emg.recording import Recording, check_layout

#: The source of a recording made from an array (``Analysis.to_dict()["file"]``).
ARRAY_SOURCE = "array"
#: How the library names the reader's ``stream`` and ``channels``, for its messages.
LIBRARY_OPTIONS = ("stream=", LIBRARY_CHANNELS)
#: What the library analyses, for messages about something else given as ``data``.
ANALYSABLE = "a path, a Recording, or an array (n_samples, n_channels) in µV with fs and channels"
#: An example of ``channels`` for an array.
NAMES_EXAMPLE = "one muscle name per column of data, e.g. ['glute', 'hamstring']"


def recording_from_array(data: object, fs: object, channels: object) -> Recording:
    """A recording of an array, its sample rate and its channels' muscle names.

    Parameters
    ----------
    data
        ``(n_samples, n_channels)`` real numbers in microvolts; copied (the recording does not
        change when the caller's array does).
    fs
        Sample rate in Hz.
    channels
        One muscle name per column (``glute``, ``hamstring_left`` ...).

    Returns
    -------
    Recording
        float32, source :data:`ARRAY_SOURCE`.

    Raises
    ------
    EmgInputError
        Naming ``data`` (not an array of real numbers, not 2-D, no column, a sample that is
        NaN, infinite or beyond :data:`~emg.block.MAX_SAMPLE_UV`, with its column and index),
        ``fs`` (missing, not a rate) or ``channels`` (missing, not a list of names, one name
        per column, an unknown muscle, a muscle given for two columns).
    """
    values = _real_array(data)
    rate = _sample_rate(fs)
    names = _channel_names(channels, values.shape[1])
    described = _channels(names)
    for column, name in enumerate(names):
        refuse_non_finite(values[:, column], "data", name)
        refuse_beyond_sample_range(values[:, column], "data", name, "data must be in microvolts")
    return Recording(values.astype(np.float32), rate, described, source=ARRAY_SOURCE)


def checked_recording(recording: Recording) -> Recording:
    """``recording``, refused if it was made (or changed) by hand into one the analysis cannot
    take: its parts do not fit (:func:`~emg.recording.check_layout`), no channel, a sample rate
    that is not one, samples that are not real numbers, or a sample that is not lost yet NaN,
    infinite or beyond :data:`~emg.block.MAX_SAMPLE_UV` (a lost sample may be anything: the
    analysis fills it).

    Raises
    ------
    EmgInputError
        Naming the recording's source (``Recording`` when it has none), the channel and the
        sample.
    """
    check_layout(recording.data, recording.channels, recording.lost)
    # the recording as given, not its file, is at fault: the file may be intact
    source = f"Recording (read from {recording.source})" if recording.source else "Recording"
    rate = recording.sample_rate
    if not _is_number(rate) or not 0 < rate <= MAX_SAMPLE_RATE_HZ:
        raise EmgInputError(
            f"sample_rate must be a number of Hz above 0 and up to {MAX_SAMPLE_RATE_HZ:g}, got "
            f"{rate!r}",
            source=source,
        )
    if not recording.channels:
        raise EmgInputError("no channel to analyse", source=source)
    if recording.data.dtype.kind not in "iuf":
        raise EmgInputError(
            f"data holds {recording.data.dtype}, not microvolts (real numbers)", source=source
        )
    lost = recording.lost if recording.lost.size else None
    for column, channel in enumerate(recording.channels):
        skip = None if lost is None else lost[:, column]
        values = recording.data[:, column]
        refuse_non_finite(values, source, channel.label, ignore=skip)
        refuse_beyond_sample_range(
            values, source, channel.label, "data must be in microvolts", ignore=skip
        )
    return recording


def channel_overrides(channels: object) -> dict[str, str] | None:
    """Which channel of a file is which muscle, as :func:`emg.read` takes it: a mapping
    ``{"glute": "EMG1"}`` or strings ``["glute=EMG1"]``; None (or none given): from the
    channels' names.

    Raises
    ------
    EmgInputError
        Naming ``channels``: one string, a name that is not a string, a spec without ``=``,
        an unknown muscle, a muscle given twice.
    """
    if channels is None:
        return None
    if isinstance(channels, str):
        raise EmgInputError(
            f"{channels!r} is one string; give a list of MUSCLE=CHANNEL, e.g. ['glute=EMG1'], "
            "or a mapping, e.g. {'glute': 'EMG1'}",
            source="channels",
        )
    if isinstance(channels, Mapping):
        pairs = list(channels.items())
        for muscle, name in pairs:
            if not isinstance(muscle, str) or not isinstance(name, str):
                raise EmgInputError(
                    f"{muscle!r}: {name!r}: a muscle and a channel name are each a string, "
                    "e.g. {'glute': 'EMG1'}",
                    source="channels",
                )
        specs = [f"{muscle}={name}" for muscle, name in pairs]
    else:
        specs = _strings(channels, "a list of MUSCLE=CHANNEL, e.g. ['glute=EMG1']")
    return parse_channel_overrides(specs, source="channels", field=None) or None


def recording_path(path: object) -> str | Path:
    """``path``, refused unless it is a path (a string or :class:`os.PathLike`).

    Raises
    ------
    EmgInputError
        Naming ``path``.
    """
    if isinstance(path, str):
        return path
    if isinstance(path, os.PathLike):
        return Path(path)
    raise EmgInputError(
        f"expected a file or folder (a str or a pathlib.Path), got {_what(path)}", source="path"
    )


def stream_name(stream: object) -> str | None:
    """``stream``, refused unless it is a string (or None).

    Raises
    ------
    EmgInputError
        Naming ``stream``.
    """
    if stream is None or isinstance(stream, str):
        return stream
    raise EmgInputError(
        f"expected the name (or source id) of an XDF stream, a str, got {_what(stream)}",
        source="stream",
    )


def _real_array(data: object) -> npt.NDArray[Any]:
    """``data`` as a 2-D array of real numbers with at least one column (not yet copied)."""
    if data is None or isinstance(data, Mapping | bytes | bytearray):
        raise EmgInputError(f"{_what(data)} is not a recording; give {ANALYSABLE}", source="data")
    try:
        values = np.asarray(data)
    except (TypeError, ValueError) as error:
        raise EmgInputError(
            f"not an array of numbers ({error}); give {ANALYSABLE}", source="data"
        ) from None
    if values.dtype.kind not in "iuf":
        raise EmgInputError(
            f"an array of {values.dtype} is not microvolts: give real numbers (float or int)",
            source="data",
        )
    if values.ndim != 2:
        raise EmgInputError(
            f"an array must be (n_samples, n_channels), not {values.shape}", source="data"
        )
    if values.shape[1] == 0:
        raise EmgInputError(
            f"no channel (shape {values.shape}): give one column per muscle", source="data"
        )
    return values


def _sample_rate(fs: object) -> float:
    if fs is None:
        raise EmgInputError(
            "an array needs fs and a list of channel names: give fs, its sample rate in Hz",
            source="fs",
        )
    if not _is_number(fs) or not 0 < float(fs) <= MAX_SAMPLE_RATE_HZ:  # type: ignore[arg-type]
        raise EmgInputError(
            f"the sample rate must be a number of Hz above 0 and up to {MAX_SAMPLE_RATE_HZ:g}, "
            f"got {fs!r}",
            source="fs",
        )
    return float(fs)  # type: ignore[arg-type]


def _channel_names(channels: object, columns: int) -> list[str]:
    if channels is None:
        raise EmgInputError(
            f"an array needs fs and a list of channel names: give channels, {NAMES_EXAMPLE}",
            source="channels",
        )
    if isinstance(channels, str):
        raise EmgInputError(
            f"{channels!r} is one string; give a list of names, {NAMES_EXAMPLE}",
            source="channels",
        )
    if isinstance(channels, Mapping):
        raise EmgInputError(
            "a mapping names the channels of a file (glute='EMG1'); an array needs a list of "
            f"names, {NAMES_EXAMPLE}",
            source="channels",
        )
    names = _strings(channels, f"a list of names, {NAMES_EXAMPLE}")
    if len(names) != columns:
        raise EmgInputError(
            f"{len(names)} channel names for {columns} columns of data", source="channels"
        )
    return names


def _strings(items: object, expected: str) -> list[str]:
    """``items`` as a list of strings, refused naming ``channels``."""
    try:
        listed: list[Any] = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise EmgInputError(f"expected {expected}, got {_what(items)}", source="channels") from None
    for index, item in enumerate(listed):
        if not isinstance(item, str):
            raise EmgInputError(
                f"item {index} is {_what(item)}, not a str; expected {expected}",
                source="channels",
            )
    return listed


def _channels(names: list[str]) -> tuple[Channel, ...]:
    """The channels named, refused for an unknown muscle or one muscle for two columns."""
    described = []
    for column, name in enumerate(names):
        try:
            described.append(Channel.from_name(name))
        except KeyError as error:
            raise EmgInputError(f"column {column}: {error.args[0]}", source="channels") from None
    repeated = repeated_label([channel.label for channel in described])
    if repeated is not None:
        label, columns = repeated
        given = [f"{c} ({names[c]})" for c in columns]
        listed = f"{', '.join(given[:-1])} and {given[-1]}"
        raise EmgInputError(
            f"columns {listed} are {'both' if len(given) == 2 else 'all'} '{label}'; give each "
            "column its own muscle (or side: glute_left, glute_right)",
            source="channels",
        )
    return tuple(described)


def _is_number(value: object) -> bool:
    """A finite real number (:func:`~emg.real_number.real_number`)."""
    number = real_number(value)
    return number is not None and math.isfinite(number)


def _what(value: object) -> str:
    """``value`` for a message: its (shortened) repr and its type, e.g. ``3 (int)``."""
    return "None" if value is None else f"{reprlib.repr(value)} ({type(value).__name__})"
