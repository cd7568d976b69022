"""The native session folder: what is in it, and reading it back.

A session folder holds (the full description is in ``recordings/README.md``):

- ``session.json``: metadata, written before the first sample (sensors, channels, sample rate,
  analysis settings, calibration, exercise, software version, start time) and rewritten, whole
  and atomically, when the session ends (``status`` ``complete``, ``n_samples``, ``ended_at``).
  A session whose ``status`` is still ``recording`` was cut short (a crash, ``kill -9``); it
  opens with what reached the disk. One that a failed write stopped (disk full) is
  ``complete`` with ``stopped_by`` ``write failed`` and ``cut_short`` saying why. While
  recording, the file ends in blanks (room for the final rewrite on a full disk).
- ``samples.f32``: the samples in microvolts, float32 little-endian, one row of
  ``n_channels`` values per sample, appended and flushed at least once a second. A session
  whose channels say another voltage unit (``channels[i].unit``, else ``samples.unit``:
  ``mV``, ``V``) is scaled to microvolts as it is read.
- ``events.jsonl``: one JSON object per line (see :class:`emg.events.Event`), appended as
  things happen: onsets, rep decisions and completions, flags, cramp-risk changes,
  disconnects, and ``loss`` events with the sample ranges that were lost and filled with 0.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import MAX_SAMPLE_UV, Channel, beyond_sample_range
from emg.errors import EmgInputError
from emg.events import Event, loss_mask
from emg.io.channel_map import SourceChannel, map_channels, unit_scale
from emg.recording import Recording

FORMAT_NAME = "emg-session"
FORMAT_VERSION = 1
METADATA_FILE = "session.json"
SAMPLES_FILE = "samples.f32"
EVENTS_FILE = "events.jsonl"
#: The session's own BIDS-EMG export, a dataset folder inside the session's folder, made when
#: a recording stops (and again with ``emg export SESSION --to bids SESSION/bids``).
BIDS_FOLDER = "bids"
SAMPLE_DTYPE = np.dtype("<f4")


def read_session(
    path: str | Path,
    channels: Mapping[str, str] | None = None,
    *,
    notify: Callable[[str], object] | None = None,
) -> Recording:
    """Read a session folder, complete or cut short.

    Parameters
    ----------
    path
        The folder, or its ``session.json``.
    channels
        Optional overrides, target label -> channel label in the session (selects channels).
    notify
        Called once with one line naming ``events.jsonl`` and the line numbers, when damaged
        event lines were skipped (for a command to say on standard error); the same line is
        in ``metadata["recovered"]``.

    Returns
    -------
    Recording
        Samples, loss mask (from the ``loss`` events), events, and the metadata of
        ``session.json`` (with ``complete`` False for a session cut short, and
        ``recovered`` saying what was left out: a partly written last sample row or
        event line, samples beyond any amplifier's range, event lines that are not events).
        A damaged line of ``events.jsonl`` never makes the samples unusable: it is skipped,
        the other events kept.

    Raises
    ------
    EmgInputError
        Naming the file and field: a folder that is not a session, unreadable or invalid
        ``session.json`` (unknown format, bad sample rate, no channels), a finished session
        whose samples file is shorter than recorded, samples described as other than float32
        little-endian (``samples.dtype``, ``samples.byte_order``), samples that are not finite
        (samples beyond any amplifier's range are masked as lost, and ``recovered`` says so), a
        channel whose unit is not a voltage (``channels[i].unit``, else ``samples.unit``;
        samples in ``mV`` or ``V`` are scaled to microvolts, lost ones left as they are).
    """
    folder = Path(path)
    if folder.name == METADATA_FILE:
        folder = folder.parent
    if not folder.is_dir():
        raise EmgInputError("no such session folder", source=str(folder))
    if not (folder / METADATA_FILE).is_file():
        raise EmgInputError(
            f"not a recorded session: there is no {METADATA_FILE} in this folder",
            source=str(folder),
        )
    meta = _read_metadata(folder / METADATA_FILE)
    fs = _sample_rate(meta, folder / METADATA_FILE)
    found = _channels(meta, folder / METADATA_FILE)
    _check_sample_layout(meta, folder / METADATA_FILE)
    scales = _unit_scales(meta, found, folder / METADATA_FILE)
    complete = meta.get("status") == "complete"
    recovered: list[str] = []
    data = _samples(folder / SAMPLES_FILE, len(found), meta, complete, recovered)
    events = _events(folder / EVENTS_FILE, complete, recovered, notify)
    taken = map_channels(found, channels, str(folder), device="")
    labels_in_file = [c.name for c in found]
    channels_out = tuple(_with_device(channel, meta["channels"][index]) for index, channel in taken)
    columns = [index for index, _ in taken]
    lost = loss_mask(events, labels_in_file, fs, data.shape[0])
    _check_finite(data, labels_in_file, folder / SAMPLES_FILE)
    data, lost = data[:, columns], lost[:, columns]
    data = _in_microvolts(data, lost, [scales[index] for index in columns])
    _mask_beyond_range(data, lost, [c.label for c in channels_out], recovered)
    metadata = {**meta, "complete": complete, "recovered": recovered, "source_format": "native"}
    return Recording(
        data=np.ascontiguousarray(data, dtype=np.float32),
        sample_rate=fs,
        channels=channels_out,
        lost=lost,
        source=str(folder),
        events=events,
        metadata=metadata,
    )


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EmgInputError(f"cannot read: {error}", source=str(path)) from None
    if not text.strip():
        raise EmgInputError("the file is empty", source=str(path))
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as error:
        raise EmgInputError(
            f"not valid JSON (truncated or damaged): {error.msg}",
            source=str(path),
            line=error.lineno,
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise EmgInputError(
            f'not an emg session description (expected "format": "{FORMAT_NAME}")',
            source=str(path),
            field="format",
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise EmgInputError(
            f"format version {version!r} is not one this version reads (up to {FORMAT_VERSION});"
            " update the toolkit",
            source=str(path),
            field="format_version",
        )
    return meta


def _sample_rate(meta: Mapping[str, Any], path: Path) -> float:
    fs = meta.get("sample_rate")
    if (
        isinstance(fs, bool)
        or not isinstance(fs, (int, float))
        or not math.isfinite(fs)
        or not 1 <= fs <= 100_000
    ):
        raise EmgInputError(
            f"sample rate {fs!r} is not a number of samples per second between 1 and 100000",
            source=str(path),
            field="sample_rate",
        )
    return float(fs)


#: How ``samples.f32`` is laid out (``session.json``'s ``samples``): the only layout read.
SAMPLE_LAYOUT = {"dtype": "float32", "byte_order": "little"}


def _check_sample_layout(meta: Mapping[str, Any], path: Path) -> None:
    """Refuse a ``samples`` description other than the float32 little-endian samples read
    (an absent one, or an absent field of it, is taken as that layout)."""
    samples = meta.get("samples", {})
    if not isinstance(samples, dict):
        raise EmgInputError(
            f"field 'samples': expected a mapping describing {SAMPLES_FILE}, got "
            f"{type(samples).__name__}",
            source=str(path),
        )
    for key, expected in SAMPLE_LAYOUT.items():
        value = samples.get(key, expected)
        if value != expected:
            raise EmgInputError(
                f"field 'samples.{key}': {value!r}, but {SAMPLES_FILE} is read as float32 "
                "little-endian only; this session was not written by emg, or its description "
                "was changed",
                source=str(path),
            )


def _channels(meta: Mapping[str, Any], path: Path) -> list[SourceChannel]:
    entries = meta.get("channels")
    if not isinstance(entries, list) or not entries:
        raise EmgInputError("no channels listed", source=str(path), field="channels")
    found = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            raise EmgInputError(
                f"channel {i + 1} has no label", source=str(path), field=f"channels[{i}]"
            )
        found.append(
            SourceChannel(
                name=entry["label"],
                muscle=entry.get("muscle"),
                side=entry.get("side"),
                unit=str(entry.get("unit", "uV")),
            )
        )
    return found


def _unit_scales(meta: Mapping[str, Any], found: list[SourceChannel], path: Path) -> list[float]:
    """The factor from each channel's unit to microvolts: its own ``unit``, else the
    session's ``samples.unit``, else microvolts (:func:`~emg.io.channel_map.unit_scale`).

    Raises
    ------
    EmgInputError
        Naming ``session.json``, the field, the channel and the unit, for a unit that is not
        a voltage.
    """
    default = meta.get("samples", {}).get("unit", "uV")
    scales = []
    for index, (entry, channel) in enumerate(zip(meta["channels"], found, strict=True)):
        own = "unit" in entry
        unit = entry["unit"] if own else default
        where = f"channels[{index}].unit" if own else "samples.unit"
        try:
            scales.append(unit_scale(unit if isinstance(unit, str) else repr(unit), "", where))
        except EmgInputError as error:
            raise EmgInputError(
                f"field '{where}' (channel '{channel.name}'): {error.detail}", source=str(path)
            ) from None
    return scales


def _in_microvolts(
    data: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_], scales: list[float]
) -> npt.NDArray[np.floating[Any]]:
    """``data`` scaled by column to microvolts, lost samples left as they are; ``data``
    itself when every column is in microvolts. Scaled, it is float64, so that a damaged value
    cannot overflow float32 before it is masked as beyond any amplifier's range."""
    if all(scale == 1.0 for scale in scales):
        return data
    scaled = data.astype(np.float64)
    for column, scale in enumerate(scales):
        kept = ~lost[:, column]
        scaled[kept, column] *= scale
    return scaled


def _samples(
    path: Path, n_channels: int, meta: Mapping[str, Any], complete: bool, recovered: list[str]
) -> npt.NDArray[np.float32]:
    if not path.is_file():
        raise EmgInputError(
            f"the samples file {SAMPLES_FILE} is missing from the session", source=str(path)
        )
    row = SAMPLE_DTYPE.itemsize * n_channels
    size = path.stat().st_size
    rows, extra = divmod(size, row)
    expected = meta.get("n_samples")
    if complete and isinstance(expected, int) and rows != expected:
        raise EmgInputError(
            f"truncated or damaged: holds {rows} samples per channel ({size} bytes) but the "
            f"session recorded {expected}",
            source=str(path),
        )
    if extra:
        if complete:
            raise EmgInputError(
                f"size {size} bytes is not a whole number of {n_channels}-channel float32 rows",
                source=str(path),
            )
        recovered.append(f"a partly written last sample row ({extra} bytes) was left out")
    if rows == 0:
        raise EmgInputError("holds no samples", source=str(path))
    data = np.fromfile(path, dtype=SAMPLE_DTYPE, count=rows * n_channels)
    return data.reshape(rows, n_channels).astype(np.float32, copy=False)


def _events(
    path: Path,
    complete: bool,
    recovered: list[str],
    notify: Callable[[str], object] | None = None,
) -> list[Event]:
    """The events of ``events.jsonl``: a line that is not an event is skipped, the others
    kept, and one line naming the file and the skipped lines goes to ``recovered`` (and to
    ``notify``); the last line of a session cut short, which a crash may have left partly
    written, is left out as such."""
    if not path.is_file():
        return []
    events: list[Event] = []
    skipped: list[int] = []
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            events.append(Event.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, RecursionError):  # undecodable bytes: ValueError
            if number == last and not complete:
                recovered.append("a partly written last event line was left out")
                break
            skipped.append(number + 1)
    if skipped:
        note = f"{path}: {_skipped_lines(skipped)}: skipped"
        recovered.append(note)
        if notify is not None:
            notify(note)
    return events


#: Line numbers a note on skipped event lines lists before it counts the rest.
SKIPPED_LINES_LISTED = 5


def _skipped_lines(numbers: list[int]) -> str:
    """``line 7 is not a JSON event``; ``lines 7, 9 and 12 are not JSON events``; beyond
    :data:`SKIPPED_LINES_LISTED` of them the rest counted (``... and 40 more``)."""
    if len(numbers) == 1:
        return f"line {numbers[0]} is not a JSON event"
    listed = [str(n) for n in numbers[:SKIPPED_LINES_LISTED]]
    rest = len(numbers) - len(listed)
    tail = f"{rest} more" if rest else listed.pop()
    return f"lines {', '.join(listed)} and {tail} are not JSON events"


def _check_finite(data: npt.NDArray[np.float32], labels: list[str], path: Path) -> None:
    """Refuse the first sample that is not a finite number: the samples file is damaged (the
    recorder writes none)."""
    bad = ~np.isfinite(data)
    if bad.any():
        row, column = (int(v) for v in np.argwhere(bad)[0])
        raise EmgInputError(
            f"sample {row} is not a finite number", source=str(path), field=labels[column]
        )


def _mask_beyond_range(
    data: npt.NDArray[np.floating[Any]],
    lost: npt.NDArray[np.bool_],
    labels: list[str],
    recovered: list[str],
) -> None:
    """Mask samples beyond :data:`~emg.block.MAX_SAMPLE_UV` as lost (zero-filled), saying so
    in ``recovered``: a session recorded before the live path masked them (a sensor's glitch)
    is read with them left out of the analysis rather than refused."""
    beyond = beyond_sample_range(data)
    if not beyond.any():
        return
    data[beyond], lost[beyond] = 0.0, True
    counts = ", ".join(f"{labels[c]} {int(n)}" for c, n in enumerate(beyond.sum(axis=0)) if n)
    recovered.append(
        f"samples beyond ±{MAX_SAMPLE_UV / 1e6:g} V (no amplifier gives them: a sensor's "
        f"glitch) were masked as lost ({counts})"
    )


def _with_device(channel: Channel, entry: Mapping[str, Any]) -> Channel:
    return dataclasses.replace(channel, device=str(entry.get("device", "")))
