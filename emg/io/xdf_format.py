"""XDF recordings (what Lab Streaming Layer's LabRecorder writes), read with pyxdf.

An XDF file holds several streams, each with one time stamp per sample. The EMG stream is the
one of type ``EMG`` (or the one named with ``stream=``); string streams (``Markers``) become
events.

Time. pyxdf moves every stream's time stamps onto the recording computer's clock with the
stream's ClockOffset measurements (``synchronize_clocks``) and removes jitter by fitting a
line to the time stamps (``dejitter_timestamps``), separately in each *segment*: a new segment
starts wherever two consecutive time stamps are more than ``max(jitter_break_threshold_seconds,
jitter_break_threshold_samples / nominal_srate)`` apart. pyxdf's defaults (1 s, 500 samples)
would fit one line across any shorter gap and smear it over the whole recording, so this
reader cuts a segment at every step longer than :data:`GAP_PERIODS` sample periods. The
samples are then put on a regular grid at the nominal rate that starts at the first (dejittered)
time stamp ``t0``: the first sample of every segment goes to index ``round((t - t0) * fs)`` and
the others of the segment follow it one by one (so a device clock a few ppm off the nominal
rate does not punch holes into a gap-free run). Indices nobody fills (lost samples) hold 0 and
are True in ``lost`` for every channel, with ``loss`` events; where segments overlap (time
going backwards) the sample that came first in the file is kept.

XDF has no sample counter: a step of more than :data:`GAP_PERIODS` periods between two time
stamps is read as lost samples, so time-stamp jitter must stay below about a quarter of a
sample period from one sample to the next (LSL's outlets stamp the samples of a chunk
regularly; LabRecorder keeps those stamps).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyxdf

from emg.block import Channel
from emg.errors import EmgInputError
from emg.events import Event, event_kind, loss_events
from emg.io.channel_map import SourceChannel, map_channels, unit_scale
from emg.io.read_errors import read_error
from emg.io.sample_range_check import refuse_beyond_sample_range
from emg.recording import MAX_SAMPLE_RATE_HZ, Recording

#: A step between consecutive time stamps longer than this many sample periods is a gap.
GAP_PERIODS = 1.5

#: Time stamps that go back by more than this (seconds) are damaged or from a reset clock.
MAX_BACKWARD_S = 1.0

#: Most gap time (seconds, all gaps together) filled with zeros before the time stamps are
#: taken to be damaged.
MAX_FILL_S = 3600.0

#: Most lost samples (per channel, all gaps together) filled before the time stamps are taken
#: to be damaged: bounds what a damaged file can make the reader allocate.
MAX_FILL_SAMPLES = 20_000_000

#: Valid chunk tags: FileHeader, StreamHeader, Samples, ClockOffset, Boundary, StreamFooter.
CHUNK_TAGS = range(1, 7)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StreamDict = dict[str, Any]


def read_xdf(
    path: str | Path,
    channels: Mapping[str, str] | None = None,
    stream: str | None = None,
) -> Recording:
    """Read the EMG stream of an XDF file, with marker streams as events.

    Parameters
    ----------
    path
        The ``.xdf`` file.
    channels
        Overrides: target label -> channel label in the stream (``{"glute": "EMG1"}``); see
        :func:`emg.io.channel_map.map_channels`.
    stream
        Name (or source id) of the stream to read; needed when the file holds several EMG
        streams, and lets a numeric stream of another type be read as EMG.

    Returns
    -------
    Recording
        float32 microvolts on a regular grid at the stream's nominal rate, lost samples filled
        with 0 and flagged, ``loss`` and marker events in time order (seconds from the first
        sample), and metadata (``source_format``, stream name, ``source_id``, ``t0_lsl``,
        clock synchronisation, filled and dropped sample counts).

    Raises
    ------
    EmgInputError
        Naming the file: missing, empty, truncated or not XDF; no EMG stream, several without
        ``stream``, an irregular-rate or text stream; unknown channel names; a unit that is not
        a voltage; infinite samples, or NaN or infinite time stamps (naming channel and
        sample index); NaN samples are read as lost (XDF's convention for a missing sample);
        time stamps that go back by more than :data:`MAX_BACKWARD_S` or leave more than
        :data:`MAX_FILL_S` of gaps.
    """
    name = str(path)
    _check_structure(Path(path), name)
    infos = _resolve(path, name)
    chosen = _pick_stream(infos, stream, name)
    markers = [i["stream_id"] for i in infos if i["channel_format"] == "string"]
    streams = _load(path, [chosen["stream_id"], *markers], name)
    emg = next(s for s in streams if s["info"]["stream_id"] == chosen["stream_id"])
    stamps, values = _stamps_and_values(emg, path, name)
    device = chosen["source_id"] or chosen["name"]
    found = _source_channels(emg["info"], values.shape[1])
    taken = map_channels(found, channels, source=name, device=device)
    samples = _scaled(values, found, taken, name)
    fs = float(chosen["nominal_srate"])
    data, lost, dropped = _on_grid(samples, stamps, _segments(emg, len(stamps)), fs, name)
    missing = np.isnan(data)  # NaN: a sample the sender did not have (XDF's convention)
    if missing.any():
        data[missing] = 0.0
        lost |= missing
    labels = [channel.label for _, channel in taken]
    marks = [s for s in streams if s["info"]["stream_id"] != chosen["stream_id"]]
    events = loss_events(lost, labels, fs) + _marker_events(marks, float(stamps[0]))
    events.sort(key=lambda e: e.time_s)
    return Recording(
        data=data,
        sample_rate=fs,
        channels=tuple(channel for _, channel in taken),
        lost=lost,
        source=name,
        events=events,
        metadata=_metadata(emg, chosen, float(stamps[0]), lost, dropped, marks),
    )


def grid_indices(stamps: FloatArray, segments: Sequence[tuple[int, int]], fs: float) -> IntArray:
    """Grid index of every sample.

    Parameters
    ----------
    stamps
        Time stamps in seconds, one per sample.
    segments
        Inclusive ``(first, last)`` sample ranges without gaps, covering all samples.
    fs
        Nominal sample rate.

    Returns
    -------
    numpy.ndarray
        int64 indices: ``round((t - t0) * fs)`` for the first sample of each segment
        (``t0 = stamps[0]``), consecutive from there within the segment.
    """
    t0 = float(stamps[0])
    index = np.empty(len(stamps), dtype=np.int64)
    for first, last in segments:
        start = round((float(stamps[first]) - t0) * fs)
        index[first : last + 1] = start + np.arange(last + 1 - first)
    return index


def place_on_grid(
    samples: npt.NDArray[np.float32], index: IntArray
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], int]:
    """Put samples at their grid indices, filling holes with 0.

    Parameters
    ----------
    samples
        ``(n, channels)`` samples in file order.
    index
        Grid index of each sample (see :func:`grid_indices`); ``index[0]`` is 0.

    Returns
    -------
    data, lost, dropped
        The grid (float32), True where nothing was placed, and how many samples were left
        out because an earlier sample (in file order) already had their index.
    """
    taken, first = np.unique(index, return_index=True)
    keep = taken >= 0
    taken, first = taken[keep], first[keep]
    n = int(taken[-1]) + 1
    data = np.zeros((n, samples.shape[1]), dtype=np.float32)
    lost = np.ones((n, samples.shape[1]), dtype=bool)
    data[taken] = samples[first]
    lost[taken] = False
    return data, lost, len(index) - len(taken)


def _on_grid(
    samples: npt.NDArray[np.float32],
    stamps: FloatArray,
    segments: Sequence[tuple[int, int]],
    fs: float,
    name: str,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], int]:
    """Check the time stamps, then place the samples on the grid (see :func:`place_on_grid`)."""
    _check_jumps(stamps, segments, fs, name)
    return place_on_grid(samples, grid_indices(stamps, segments, fs))


def _check_jumps(
    stamps: FloatArray, segments: Sequence[tuple[int, int]], fs: float, name: str
) -> None:
    """Reject time stamps that go far back in time or leave absurdly long gaps."""
    first = np.array([a for a, _ in segments])
    length = np.array([b + 1 - a for a, b in segments])
    with np.errstate(all="ignore"):
        position = (stamps[first] - stamps[0]) * fs
        expected = np.concatenate(([0.0], position[:-1] + length[:-1]))
        jump = (position - expected) / fs
        fill = float(np.sum(np.maximum(jump, 0.0)))
    back = np.flatnonzero(jump < -MAX_BACKWARD_S)
    if len(back):
        raise EmgInputError(
            f"time goes back by {-jump[back[0]]:.4g} s at sample {int(first[back[0]])}; the "
            "time stamps are damaged or the stream's clock was reset",
            source=name,
        )
    if not (fill <= MAX_FILL_S and fill * fs <= MAX_FILL_SAMPLES):
        raise EmgInputError(
            f"the time stamps leave {fill:.4g} s of gaps ({fill * fs:.4g} samples at {fs:g} Hz; "
            f"at most {MAX_FILL_S:g} s and {MAX_FILL_SAMPLES:g} samples are filled); they are "
            "damaged",
            source=name,
        )


def _check_structure(path: Path, name: str) -> None:
    """Check that ``path`` is an XDF file whose chunks all end inside it."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise EmgInputError("is a directory, not an XDF file", source=name)
        with path.open("rb") as file:
            magic = file.read(4)
            if size == 0:
                raise EmgInputError("the file is empty", source=name)
            if magic != b"XDF:":
                raise EmgInputError(
                    f"not an XDF file (it starts with {magic!r}, not b'XDF:')", source=name
                )
            _walk_chunks(file, size, name)
    except OSError as error:
        raise EmgInputError(read_error(error), source=name) from None


def _walk_chunks(file: Any, size: int, name: str) -> None:
    """Follow the chunk lengths from byte 4 to the end of the file."""
    position = 4
    while position < size:
        file.seek(position)
        width = file.read(1)[0]
        if width not in (1, 4, 8):
            raise EmgInputError(f"damaged XDF chunk header at byte {position}", source=name)
        length = int.from_bytes(file.read(width), "little")
        start = position + 1 + width
        if start + length > size:
            raise EmgInputError(
                f"the file is truncated: the chunk at byte {position} ends "
                f"{start + length - size} bytes after the end of the file ({size} bytes); was "
                "the recording stopped before it was written completely?",
                source=name,
            )
        tag = int.from_bytes(file.read(2), "little")
        if length < 2 or tag not in CHUNK_TAGS:
            raise EmgInputError(
                f"damaged XDF chunk at byte {position} (tag {tag}, length {length})",
                source=name,
            )
        position = start + length


def _resolve(path: str | Path, name: str) -> list[dict[str, Any]]:
    """The stream headers (pyxdf.resolve_streams), with missing fields as empty strings."""
    try:
        infos: list[dict[str, Any]] = pyxdf.resolve_streams(str(path))
    except Exception as error:  # pyxdf raises bare Exception, struct.error, ParseError ...
        raise EmgInputError(f"not a readable XDF file ({error})", source=name) from None
    for info in infos:
        for key in ("name", "type", "source_id", "channel_format"):
            info[key] = (info.get(key) or "").strip()
    return infos


def _describe(infos: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"'{i['name']}' (type '{i['type']}')" for i in infos) or "none"


def _pick_stream(infos: Sequence[dict[str, Any]], stream: str | None, name: str) -> dict[str, Any]:
    """The EMG stream: the only one of type EMG, or the one named ``stream``."""
    if stream is not None:
        matches = [i for i in infos if stream.strip() in (i["name"], i["source_id"])]
        if not matches:
            raise EmgInputError(
                f"no stream named '{stream}' (streams: {_describe(infos)})", source=name
            )
    else:
        matches = [i for i in infos if i["type"].lower() == "emg"]
        if not matches:
            numeric = [
                i for i in infos if i["channel_format"] != "string" and i["nominal_srate"] > 0
            ]
            advice = f"; {_choose(numeric[0], name, ' as EMG')}" if numeric else ""
            raise EmgInputError(
                f"no EMG stream (no stream of type 'EMG'; streams: {_describe(infos)}){advice}",
                source=name,
            )
    if len(matches) > 1:
        names = ", ".join(f"'{i['name']}'" for i in matches)
        raise EmgInputError(
            f"several EMG streams: {names}; {_choose(matches[0], name)}",
            source=name,
        )
    return _checked_stream(matches[0], name)


def _choose(info: Mapping[str, Any], name: str, what: str = "") -> str:
    """How to read the stream ``info`` of the file ``name`` (``what``: as what): ``--stream``
    on the command line, ``stream=`` in Python (for messages)."""
    stream = info["name"] or info["source_id"]
    return (
        f"to read '{stream}'{what}, give --stream {shlex.quote(stream)} (in Python: "
        f"emg.read({name!r}, stream={stream!r}))"
    )


def _checked_stream(info: dict[str, Any], name: str) -> dict[str, Any]:
    label = f"stream '{info['name']}'"
    if info["channel_format"] == "string":
        raise EmgInputError(f"{label} holds text (markers), not samples", source=name)
    rate = info["nominal_srate"]
    if not rate > 0:
        raise EmgInputError(
            f"{label} has an irregular sampling rate (nominal_srate {rate:g}); EMG needs a "
            "regular rate",
            source=name,
        )
    if not rate <= MAX_SAMPLE_RATE_HZ:
        raise EmgInputError(
            f"{label}: nominal_srate {rate:g} Hz is not a plausible EMG sample rate (at most "
            f"{MAX_SAMPLE_RATE_HZ:g} Hz); the stream header is damaged",
            source=name,
        )
    return info


class _ExpectedSegments(logging.Filter):
    """Hide pyxdf's warning that segments differ from clock segments (we cut at every gap)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "clock-segments differ" not in record.getMessage()


@contextmanager
def _quiet_segments() -> Iterator[None]:
    logger = logging.getLogger("pyxdf.pyxdf")
    hide = _ExpectedSegments()
    logger.addFilter(hide)
    try:
        yield
    finally:
        logger.removeFilter(hide)


def _load(path: str | Path, ids: list[int], name: str) -> list[StreamDict]:
    """Load the chosen streams, clock-synchronised and dejittered segment by segment."""
    try:
        with _quiet_segments():
            streams, _ = pyxdf.load_xdf(
                str(path),
                select_streams=ids,
                synchronize_clocks=True,
                dejitter_timestamps=True,
                jitter_break_threshold_seconds=0.0,
                jitter_break_threshold_samples=GAP_PERIODS,
            )
    except Exception as error:  # pyxdf raises bare Exception, struct.error, ParseError ...
        raise EmgInputError(f"not a readable XDF file ({error})", source=name) from None
    return list(streams)


def _stamps_and_values(
    emg: StreamDict, path: str | Path, name: str
) -> tuple[FloatArray, FloatArray]:
    """Time stamps and ``(n, channels)`` samples of the EMG stream, checked to be finite."""
    stamps = np.asarray(emg["time_stamps"], dtype=np.float64)
    values = np.asarray(emg["time_series"], dtype=np.float64)
    label = f"stream '{emg['info']['name'][0]}'"
    if len(stamps) == 0 or values.ndim != 2 or len(values) != len(stamps):
        raise EmgInputError(f"{label} has no samples", source=name)
    if not np.isfinite(stamps).all():
        raise _bad_stamps(path, emg, label, name)
    return stamps, values


def _bad_stamps(path: str | Path, emg: StreamDict, label: str, name: str) -> EmgInputError:
    """The error for non-finite time stamps, naming the first bad one as the file has it.

    Dejittering fits a line per segment, so one NaN time stamp spreads over its whole segment
    (and clock offsets that are not finite over the whole stream): the stream is read again
    as stored to find the sample at fault.
    """
    stream_id = emg["info"]["stream_id"]
    try:
        with _quiet_segments():
            raw, _ = pyxdf.load_xdf(
                str(path),
                select_streams=[stream_id],
                synchronize_clocks=False,
                dejitter_timestamps=False,
            )
        stamps = np.asarray(raw[0]["time_stamps"], dtype=np.float64)
    except Exception:  # read once already: a second failure leaves the sample unknown
        stamps = np.zeros(0)
    bad = np.flatnonzero(~np.isfinite(stamps))
    if len(bad):
        return EmgInputError(
            f"{label}: the time stamp of sample {int(bad[0])} is not finite", source=name
        )
    return EmgInputError(
        f"{label}: the clock offsets are not finite numbers, so no time stamp can be placed",
        source=name,
    )


def _first(value: Any) -> Any:
    """pyxdf keeps every XML value in a list: its first element, or None."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = _first(entry.get(key))
    return (value.strip() or None) if isinstance(value, str) else None


def _channel_entries(info: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``desc/channels/channel`` entries of a stream header (empty if there are none)."""
    desc = _first(info.get("desc"))
    channels = _first(desc.get("channels")) if isinstance(desc, dict) else None
    entries = channels.get("channel") if isinstance(channels, dict) else None
    return [e if isinstance(e, dict) else {} for e in entries or []]


def _source_channels(info: Mapping[str, Any], count: int) -> list[SourceChannel]:
    """The stream's channels as its header describes them (``ch<i>`` where it does not)."""
    entries = _channel_entries(info)
    found = []
    for i in range(count):
        entry = entries[i] if i < len(entries) else {}
        found.append(
            SourceChannel(
                name=_text(entry, "label") or f"ch{i + 1}",
                muscle=_text(entry, "muscle"),
                side=_text(entry, "side"),
                kind=_text(entry, "type") or "EMG",
                unit=_text(entry, "unit") or "uV",
            )
        )
    return found


def _scaled(
    values: FloatArray,
    found: Sequence[SourceChannel],
    taken: Sequence[tuple[int, Channel]],
    name: str,
) -> npt.NDArray[np.float32]:
    """The taken columns in microvolts, float32; NaN stays NaN (a lost sample), infinite
    samples are an error."""
    columns = []
    for index, _ in taken:
        column = values[:, index]
        bad = np.flatnonzero(np.isinf(column))
        if len(bad):
            raise EmgInputError(
                f"sample {int(bad[0])} is infinite", source=name, field=found[index].name
            )
        scaled = column * unit_scale(found[index].unit, name, found[index].name)
        refuse_beyond_sample_range(
            scaled, name, found[index].name, "the value is damaged or its unit wrong"
        )
        columns.append(scaled)
    return np.column_stack(columns).astype(np.float32)


def _segments(emg: StreamDict, n: int) -> list[tuple[int, int]]:
    """pyxdf's gap-free segments of the stream (the whole stream if it gave none)."""
    segments = [(int(a), int(b)) for a, b in emg["info"].get("segments") or []]
    return segments or [(0, n - 1)]


def _marker_events(streams: Sequence[StreamDict], t0: float) -> list[Event]:
    """One event per non-empty marker, ``t0`` (EMG's first sample) being time 0."""
    events = []
    for stream in streams:
        source = _first(stream["info"].get("name")) or ""
        for stamp, sample in zip(stream["time_stamps"], stream["time_series"], strict=True):
            text = " ".join(str(v).strip() for v in sample if v is not None and str(v).strip())
            if text and np.isfinite(stamp):
                events.append(_marker_event(float(stamp) - t0, text, source))
    return events


def _marker_event(time_s: float, text: str, stream: str) -> Event:
    """``kind rest`` for a marker starting with a known event kind, else kind ``other``."""
    head, _, rest = text.partition(" ")
    data = {"stream": stream, "marker": text}
    kind = event_kind(head.lower())
    if kind is not None:
        return Event(time_s, kind, rest.strip(), data=data)
    return Event(time_s, "other", text, data=data)


def _metadata(
    emg: StreamDict,
    info: Mapping[str, Any],
    t0: float,
    lost: npt.NDArray[np.bool_],
    dropped: int,
    markers: Sequence[StreamDict],
) -> dict[str, Any]:
    offsets = len(emg.get("clock_times") or [])
    sync = (
        f"time stamps moved to the recording computer's LSL clock with the stream's {offsets} "
        "clock offsets (pyxdf synchronize_clocks)"
        if offsets
        else "the file has no clock offsets for this stream; time stamps are its own"
    )
    return {
        "source_format": "xdf",
        "stream_name": info["name"],
        "stream_type": info["type"],
        "source_id": info["source_id"],
        "t0_lsl": t0,
        "t0": t0,
        "clock_offsets_applied": offsets > 0,
        "clock_offset_count": offsets,
        "clock_sync": sync,
        "effective_srate": float(emg["info"].get("effective_srate") or 0.0),
        "segments": len(emg["info"].get("segments") or []),
        "filled_samples": int(lost.all(axis=1).sum()),
        "dropped_samples": dropped,
        "marker_streams": [_first(s["info"].get("name")) or "" for s in markers],
    }
