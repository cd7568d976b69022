"""BDF+/EDF(+) recordings through pyedflib: writing BDF+, reading BDF, BDF+, EDF and EDF+.

Writing (:func:`write_bdf`) makes a 24-bit BDF+ file: one signal per channel in microvolts
(label = channel label, or a short alias such as ``sm_right`` when the label does not fit the
16 characters of an EDF label), the physical range of each channel symmetric around 0 just
above its largest absolute sample (two significant digits, at least 1 µV), and the recording's
events as annotations (``<kind> <description>``, at most 40 characters; onset and duration in
steps of 100 µs, the resolution pyedflib writes).

How a round trip stays exact:

- **Length.** An EDF file holds whole data records, and pyedflib pads the last one with zeros.
  The data-record duration is therefore chosen so that it divides the recording: the divisor
  of the sample count whose duration is closest to 1 s, between 0.1 s (or the whole recording
  if shorter) and 60 s. Only when there is none (a long recording of prime length) are the
  records 1 s long (or shorter if the events need more annotation space); then the last one is
  padded, and an annotation ``other recording end: <n> samples`` at the true end gives the
  true length, which :func:`read_edf` trims to (and drops from the events). Other readers
  (MNE, EDFbrowser) then show the padding and that annotation.
- **Loss mask.** Every run of lost samples of a channel is a ``loss`` annotation
  ``loss <channel> <n> samples`` (:func:`emg.events.loss_events`), unless the recording's
  events already describe the mask exactly. :func:`read_edf` rebuilds the mask from them
  (start from the onset, length from the sample count in the text).
- **Start time.** ``metadata["started_at"]`` (ISO 8601) is written as local wall-clock time
  to 100 µs, the annotations' resolution (EDF has no time zone, so an offset is not kept): a
  start time between two such steps shifted every annotation read back by the rest, up to
  99 µs off the sample grid. Without it the EDF+ placeholder date 1985-01-01 00:00:00 is
  written, which reads back as ``started_at`` None.

pyedflib quirks handled here: its conversion of physical to digital values truncates, costing
up to a whole quantisation step (so the samples are rounded here and written as digital
values); its annotation capacity is one annotation per annotation signal per data record, and
it silently drops the rest (so enough annotation signals are asked for); it truncates the
record duration to 10 µs (so the duration is nudged up by 1 µs); it
writes and reads the sub-second start time in the wrong unit (so that field is written and
read directly); it cuts annotations at 40 bytes, which can split a UTF-8 character (so the
text is cut at a character boundary first); it rejects negative onsets silently; and it prints
to standard output when a file is shorter than its header says (so that is checked first).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyedflib

from emg.block import Channel
from emg.errors import EmgInputError
from emg.events import ANNOTATION_CHARS, Event, loss_events, loss_mask
from emg.io.channel_map import (
    NON_EMG_NAMES,
    UNIT_TO_MICROVOLTS,
    SourceChannel,
    map_channels,
    naming_hint,
    signal_type,
    unit_scale,
)
from emg.io.read_errors import read_error
from emg.io.sample_range_check import refuse_beyond_sample_range
from emg.muscles import MUSCLE_ALIASES, MUSCLE_GROUPS, parse_muscle_name
from emg.recording import Recording

#: Longest EDF signal label.
LABEL_CHARS = 16
#: The EDF+ signal type every channel is written with (readers such as MNE and EDFbrowser type
#: a channel by the first word of its label).
EMG_TYPE = "EMG "
#: Digital range of a 24-bit BDF sample.
DIGITAL_MAX = 2**23 - 1
DIGITAL_MIN = -(2**23)
#: Smallest physical range written (so an all-zero channel still has a range).
MIN_RANGE_UV = 1.0
#: Largest physical range that fits the 8 characters of the header in microvolts.
MAX_RANGE_UV = 9_900_000.0
#: Time resolution of the annotations pyedflib writes.
ANNOTATION_RESOLUTION_S = 1e-4
#: Resolution of the data-record duration in the file.
DURATION_UNIT_S = 1e-5
#: Data-record durations tried when no duration divides the recording (padding).
PADDED_DURATIONS_S = (1.0, 0.5, 0.25, 0.2, 0.1, 0.05, 0.02, 0.01)
#: Shortest preferred data record when a divisor is sought (seconds).
MIN_RECORD_S = 0.1
#: Longest data record EDF allows (seconds).
MAX_RECORD_S = 60.0
#: Most annotation signals edflib writes.
MAX_ANNOTATION_SIGNALS = 64
#: Text of the annotation that marks the true end of a padded recording.
END_MARK = "recording end:"
#: Annotation over the zeros that fill the last data record: ``BAD_`` makes MNE leave it out
#: (``reject_by_annotation``); the number is the recording's true length in samples.
PADDING_MARK = "BAD_padding after {} samples"
#: Start time written when the recording has none (the EDF+ "unknown" date).
UNKNOWN_START = datetime(1985, 1, 1)
#: Text of the signal headers.
DIMENSION = "uV"
TRANSDUCER = "surface EMG"
PREFILTER = "none (raw, unfiltered)"

_END_PATTERN = re.compile(rf"^(?:other {re.escape(END_MARK)}|BAD_padding after) (\d+) samples$")
_LOSS_PATTERN = re.compile(r"^(\S+) (\d+) s")


@dataclass(frozen=True)
class RecordLayout:
    """How the samples are cut into data records.

    Attributes
    ----------
    samples
        Samples per data record (per channel).
    annotation_signals
        Number of annotation signals (each holds one annotation per data record).
    padded
        True if the last record is padded and an end mark gives the true length.
    """

    samples: int
    annotation_signals: int
    padded: bool

    def padding_s(self, n_samples: int, sample_rate: float) -> float:
        """Seconds of zeros after ``n_samples`` that fill the last data record."""
        records = -(-n_samples // self.samples)
        return (records * self.samples - n_samples) / sample_rate


# --- writing -----------------------------------------------------------------------------


def write_bdf(path: str | Path, recording: Recording) -> None:
    """Write a recording as a 24-bit BDF+ file.

    Parameters
    ----------
    path
        Output file (``.bdf``).
    recording
        What to write: samples in microvolts, channels, loss mask, events and
        ``metadata["started_at"]``.

    Raises
    ------
    EmgInputError
        For a recording BDF+ cannot hold, naming the recording (its ``source``), not the
        file written: no samples, a non-integer sample rate, NaN or infinite samples or
        samples beyond ±9.9 V (naming the channel and the first such sample), a channel
        label that cannot be shortened to 16 characters, an event before the start, more
        events than the annotation space, an unreadable ``started_at``. Naming ``path``:
        when the file cannot be written.
    """
    source = str(path)
    read = recording.source or None  # what the recording's own faults are named after
    fs = _integer_rate(recording, read)
    _check_samples(recording, read)
    labels = bdf_labels(recording.channels)
    events = recording_events(recording)
    layout = record_layout(recording.n_samples, fs, len(events))
    start = _start_time(recording.metadata, read)
    headers = [_signal_header(labels[c], recording.data[:, c], fs) for c in range(len(labels))]
    try:
        writer = pyedflib.EdfWriter(source, len(labels), pyedflib.FILETYPE_BDFPLUS)
    except OSError as error:
        raise EmgInputError(f"cannot write the file ({error})", source=source) from None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pyedflib\.")
            _fill(writer, recording, headers, layout, fs, start)
            _annotate(writer, events, read)
            if layout.padded:  # the zeros that fill the last record, marked bad
                end = recording.n_samples
                writer.writeAnnotation(
                    end / fs, layout.padding_s(end, fs), PADDING_MARK.format(end)
                )
    except BaseException:
        writer.close()
        Path(source).unlink(missing_ok=True)
        raise
    writer.close()


def bdf_labels(channels: Sequence[Channel]) -> list[str]:
    """The BDF signal label of each channel.

    A label that fits :data:`LABEL_CHARS` is kept; a longer one becomes the shortest alias
    that :func:`emg.muscles.parse_muscle_name` reads back as the same muscle and side
    (``semimembranosus_right`` -> ``sm_right``).

    Raises
    ------
    EmgInputError
        For a long label of an unknown muscle, or two channels with the same label.
    """
    labels = [_bdf_label(channel) for channel in channels]
    for label in labels:
        if labels.count(label) > 1:
            raise EmgInputError(f"two channels would both be labelled '{label}'", field=label)
    return labels


def recording_events(recording: Recording) -> list[Event]:
    """The events a BDF+ (or BIDS) export writes: the recording's events plus its losses.

    The ``loss`` events are the recording's own if they describe its loss mask exactly;
    otherwise they are replaced by one per run of lost samples per channel (the mask is
    what counts).

    Returns
    -------
    list of Event
        In time order.
    """
    labels = [c.label for c in recording.channels]
    fs = recording.sample_rate
    losses = [e for e in recording.events if e.kind == "loss"]
    described = loss_mask(losses, labels, fs, recording.n_samples)
    if losses and np.array_equal(described, recording.lost):
        events = list(recording.events)
    else:
        others = [e for e in recording.events if e.kind != "loss"]
        events = others + loss_events(recording.lost, labels, fs)
    return sorted(events, key=lambda e: e.time_s)


def record_layout(n_samples: int, sample_rate: int, n_annotations: int) -> RecordLayout:
    """Choose the data-record length (see the module docstring).

    Parameters
    ----------
    n_samples
        Length of the recording.
    sample_rate
        Samples per second (an integer).
    n_annotations
        Annotations to write (without the end mark).

    Raises
    ------
    EmgInputError
        When no layout has room for that many annotations.
    """
    for samples in _divisor_lengths(n_samples, sample_rate):
        signals = _annotation_signals(n_annotations, n_samples // samples)
        if signals:
            return RecordLayout(samples, signals, padded=False)
    for duration in PADDED_DURATIONS_S:
        samples = round(duration * sample_rate)
        if samples < 1 or not math.isclose(samples, duration * sample_rate):
            continue
        if not _representable(samples, sample_rate):
            continue
        signals = _annotation_signals(n_annotations + 1, -(-n_samples // samples))
        if signals:
            return RecordLayout(samples, signals, padded=True)
    raise EmgInputError(
        f"{n_annotations} events are more than a BDF+ file of {n_samples} samples can hold "
        f"({MAX_ANNOTATION_SIGNALS} annotations per data record)",
        field="events",
    )


def physical_range(values: npt.NDArray[np.floating[Any]]) -> float:
    """Physical maximum of a channel: its largest absolute value rounded up to two digits.

    At least :data:`MIN_RANGE_UV`; the physical minimum is its negative.
    """
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if peak <= MIN_RANGE_UV:
        return MIN_RANGE_UV
    exponent = math.floor(math.log10(peak))
    step = 10.0 ** (exponent - 1)
    digits = max(0, 1 - exponent)
    top = round(math.ceil(peak / step) * step, digits)
    while top < peak:
        top = round(top + step, digits)
    return top


def _divisor_lengths(n_samples: int, sample_rate: int) -> list[int]:
    """Record lengths that divide the recording, closest to 1 s first."""
    shortest = min(MIN_RECORD_S, n_samples / sample_rate)
    lengths = [
        d
        for d in _divisors(n_samples)
        if shortest <= d / sample_rate <= MAX_RECORD_S and _representable(d, sample_rate)
    ]
    return sorted(lengths, key=lambda d: (abs(math.log(d / sample_rate)), -d))


def _divisors(n: int) -> Iterator[int]:
    for k in range(1, math.isqrt(n) + 1):
        if n % k == 0:
            yield k
            if k != n // k:
                yield n // k


def _representable(samples: int, sample_rate: int) -> bool:
    """True if ``samples / sample_rate`` is a whole number of :data:`DURATION_UNIT_S`."""
    return (samples * round(1 / DURATION_UNIT_S)) % sample_rate == 0


def _annotation_signals(n_annotations: int, n_records: int) -> int:
    """Annotation signals needed (0 if more than :data:`MAX_ANNOTATION_SIGNALS`)."""
    needed = max(1, -(-n_annotations // max(1, n_records)))
    return needed if needed <= MAX_ANNOTATION_SIGNALS else 0


def _integer_rate(recording: Recording, source: str | None) -> int:
    fs = float(recording.sample_rate)
    if not fs.is_integer() or fs <= 0:
        raise EmgInputError(
            f"sample rate {fs:g} Hz is not a whole number of samples per second; BDF+ needs "
            "an integer number of samples per data record (resample first)",
            source=source,
            field="sample_rate",
        )
    return int(fs)


def _check_samples(recording: Recording, source: str | None) -> None:
    """Refuse samples BDF cannot store, naming ``source`` (the recording), the channel and the
    first such sample by index and time."""
    data = recording.data
    if recording.n_samples == 0 or not recording.channels:
        raise EmgInputError("the recording holds no samples to write", source=source)
    if data.ndim != 2 or data.shape[1] != len(recording.channels):
        raise EmgInputError(
            f"data shaped {data.shape} does not match {len(recording.channels)} channels",
            source=source,
        )
    if recording.lost.shape != data.shape:
        raise EmgInputError(
            f"loss mask shaped {recording.lost.shape} does not match data {data.shape}",
            source=source,
        )
    for c, channel in enumerate(recording.channels):
        column = data[:, c]
        bad = np.flatnonzero(~np.isfinite(column) | (np.abs(column) > MAX_RANGE_UV))
        if not len(bad):
            continue
        index = int(bad[0])
        value = float(column[index])
        why = (
            f"{value:g} µV, beyond the ±{MAX_RANGE_UV:g} µV (±{MAX_RANGE_UV / 1e6:g} V) "
            "that BDF can store (its signal header has 8 characters for the range in "
            "microvolts); the value is damaged or not in microvolts"
            if math.isfinite(value)
            else f"{value:g}: BDF cannot store NaN or infinite samples"
        )
        raise EmgInputError(
            f"sample {index} ({index / recording.sample_rate:.3f} s from the start) is {why}",
            source=source,
            field=channel.label,
        )


def _bdf_label(channel: Channel) -> str:
    label, room = channel.label, LABEL_CHARS - len(EMG_TYPE)
    if len(label) <= room and label.isascii():
        return EMG_TYPE + label
    if channel.muscle in MUSCLE_GROUPS:
        for candidate in _short_names(channel.muscle, channel.side):
            if len(candidate) <= room and _same_muscle(candidate, channel):
                return EMG_TYPE + candidate
        # no name short enough beside the type: the muscle alone, untyped
        for candidate in _short_names(channel.muscle, channel.side):
            if len(candidate) <= LABEL_CHARS and _same_muscle(candidate, channel):
                return candidate
    raise EmgInputError(
        f"channel label '{label}' is longer than the {LABEL_CHARS} characters of a BDF label "
        "and has no shorter muscle name",
        field=label,
    )


def _short_names(muscle: str, side: str | None) -> Iterator[str]:
    names = sorted((a for a, m in MUSCLE_ALIASES.items() if m == muscle), key=len)
    suffixes = [f"_{side}", f"_{side[0]}"] if side else [""]
    for name in [*names, muscle]:
        for suffix in suffixes:
            yield name + suffix


def _same_muscle(candidate: str, channel: Channel) -> bool:
    parsed = parse_muscle_name(candidate)
    return parsed.muscle == channel.muscle and parsed.side == channel.side


def _signal_header(label: str, values: npt.NDArray[np.float32], fs: int) -> dict[str, Any]:
    top = physical_range(values)
    return {
        "label": label,
        "dimension": DIMENSION,
        "sample_frequency": fs,
        "physical_max": top,
        "physical_min": -top,
        "digital_max": DIGITAL_MAX,
        "digital_min": DIGITAL_MIN,
        "transducer": TRANSDUCER,
        "prefilter": PREFILTER,
    }


def _start_time(metadata: Mapping[str, Any], source: str | None) -> datetime:
    value = metadata.get("started_at")
    if value is None:
        return UNKNOWN_START
    try:
        start = datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise EmgInputError(
            f"'{value}' is not an ISO 8601 date and time", source=source, field="started_at"
        ) from None
    if not 1985 <= start.year <= 2084:
        raise EmgInputError(
            f"{start:%Y-%m-%d} is outside the years 1985-2084 that EDF can hold",
            source=source,
            field="started_at",
        )
    return start


def _fill(
    writer: Any,
    recording: Recording,
    headers: list[dict[str, Any]],
    layout: RecordLayout,
    fs: int,
    start: datetime,
) -> None:
    """Set the headers and write the samples."""
    writer.setSignalHeaders(headers)
    units = round(layout.samples / fs / DURATION_UNIT_S)
    # edflib truncates the duration to 10 µs units: nudge it so float error cannot lose one
    writer.setDatarecordDuration(min(MAX_RECORD_S, (units + 0.1) * DURATION_UNIT_S))
    writer.set_number_of_annotation_signals(layout.annotation_signals)
    subject = str(recording.metadata.get("subject") or "").strip().replace(" ", "_")
    if subject.isascii() and subject:
        writer.setPatientCode(subject)
    writer.setStartdatetime(start.replace(microsecond=0))
    step = round(ANNOTATION_RESOLUTION_S * 1e6)  # finer, every annotation would move
    _set_subsecond(writer, start.microsecond - start.microsecond % step)
    columns = [
        digital_samples(recording.data[:, c], float(header["physical_max"]))
        for c, header in enumerate(headers)
    ]
    writer.writeSamples(columns, digital=True)


def digital_samples(values: npt.NDArray[np.float32], top: float) -> npt.NDArray[np.int32]:
    """Samples as BDF integers for the physical range ``-top .. top``, rounded to nearest.

    (pyedflib's own conversion truncates, which costs up to a whole quantisation step.)
    """
    gain = 2 * top / (DIGITAL_MAX - DIGITAL_MIN)
    digital = np.rint((values.astype(np.float64) + top) / gain) + DIGITAL_MIN
    return np.ascontiguousarray(np.clip(digital, DIGITAL_MIN, DIGITAL_MAX), dtype=np.int32)


def _set_subsecond(writer: Any, microseconds: int) -> None:
    """Write the sub-second start time in the file's unit (100 ns); pyedflib scales it wrong."""
    if not microseconds:
        return
    try:
        from pyedflib._extensions._pyedflib import set_starttime_subsecond
    except ImportError:  # pragma: no cover - layout of another pyedflib version
        return
    set_starttime_subsecond(writer.handle, microseconds * 10)


def _annotate(writer: Any, events: list[Event], source: str | None) -> None:
    for event in events:
        if event.time_s < 0:
            raise EmgInputError(
                f"event '{event.annotation}' at {event.time_s:g} s is before the recording "
                "starts; BDF+ annotations cannot hold it",
                source=source,
                field="events",
            )
        status = writer.writeAnnotation(event.time_s, event.duration_s, annotation_text(event))
        if status < 0:
            raise EmgInputError(
                f"pyedflib refused the annotation '{event.annotation}'",
                source=source,
                field="events",
            )


def annotation_text(event: Event) -> str:
    """The annotation written for ``event``: :attr:`Event.annotation`, at most 40 UTF-8 bytes.

    pyedflib cuts at 40 bytes, which could split a character; this cuts between characters.
    """
    text = event.annotation
    while len(text.encode("utf-8")) > ANNOTATION_CHARS:
        text = text[:-1]
    return text


# --- reading -----------------------------------------------------------------------------


def read_edf(
    path: str | Path,
    channels: Mapping[str, str] | None = None,
    *,
    hints: Mapping[str, SourceChannel] | None = None,
) -> Recording:
    """Read a BDF, BDF+, EDF or EDF+ file.

    Parameters
    ----------
    path
        The file (``.bdf`` or ``.edf``, any case).
    channels
        ``--channel`` overrides: target label -> signal label in the file.
    hints
        What another source (a BIDS ``channels.tsv``) says about signals, by label: muscle,
        side and type replace what the label says; the unit is always the file's.

    Returns
    -------
    Recording
        float32 microvolts; the loss mask from the ``loss`` annotations; events from the
        annotations (without the losses of channels not taken); ``metadata`` with
        ``started_at`` (ISO 8601, None for the EDF+ unknown date), ``source_format``
        (``bdf`` or ``edf``), ``channel_names`` (label -> signal label in the file),
        ``file_channels`` (every signal label) and ``subject`` when the header names one.

    Raises
    ------
    EmgInputError
        Naming the file (and channel): missing, empty, truncated or not EDF/BDF at all;
        channels to analyse with different sample rates; no EMG channel; channel names that
        are not muscles; units that are not voltages.
    """
    file = Path(path)
    source = str(path)
    try:
        _check_file(file, source)
        reader = _open(file, source)
    except OSError as error:
        raise EmgInputError(read_error(error), source=source) from None
    try:
        return _read(reader, file, source, channels, hints or {})
    finally:
        reader.close()


def relabel_events(
    events: Sequence[Event],
    channel_names: Mapping[str, str],
    file_channels: Collection[str] = (),
) -> list[Event]:
    """Point events at the channels as read, and drop the losses of channels left out.

    Parameters
    ----------
    events
        Events whose ``channel`` is a label of the file (or a muscle name equal to one).
    channel_names
        Channel label as read -> signal label in the file, for every channel taken.
    file_channels
        Every signal label in the file: ``loss`` events of those not taken are dropped (they
        describe samples the recording does not hold).
    """
    lookup: dict[str, str] = {}
    for label, name in channel_names.items():
        lookup[name] = label
        lookup.setdefault(_canonical(name) or name, label)
    lookup.update({label: label for label in channel_names})
    left_out = {n for n in file_channels if n not in lookup}
    left_out |= {c for c in map(_canonical, left_out) if c is not None and c not in lookup}
    return [
        replace(e, channel=lookup[e.channel]) if e.channel in lookup else e
        for e in events
        if not (e.kind in ("loss", "no-signal") and e.channel in left_out)
    ]


def _canonical(name: str) -> str | None:
    try:
        return parse_muscle_name(signal_type(name)[1]).label
    except KeyError:
        return None


def _check_file(file: Path, source: str) -> None:
    if file.suffix.lower() not in (".bdf", ".edf"):
        raise EmgInputError(
            f"expected a .bdf or .edf file, not '{file.suffix or file.name}'", source=source
        )
    if not file.exists():
        raise EmgInputError("no such file", source=source)
    if file.is_dir():
        raise EmgInputError("is a folder, not a BDF/EDF file", source=source)
    size = file.stat().st_size
    if size == 0:
        raise EmgInputError("the file is empty (0 bytes)", source=source)
    expected = _size_from_header(file)
    if expected is not None and size != expected:
        what = "truncated" if size < expected else "longer than its header says"
        raise EmgInputError(
            f"the file is {what}: {size} bytes where the header describes {expected} "
            "(an interrupted copy or recording?)",
            source=source,
        )


def _size_from_header(file: Path) -> int | None:
    """File size the header describes, or None if the header cannot tell (pyedflib judges)."""
    with file.open("rb") as handle:
        fixed = handle.read(256)
        if len(fixed) < 256 or fixed[:8] not in (b"\xffBIOSEMI", b"0       "):
            return None
        try:
            header_bytes = int(fixed[184:192])
            records = int(fixed[236:244])
            signals = int(fixed[252:256])
        except ValueError:
            return None
        if records < 0 or signals < 1 or header_bytes != 256 * (signals + 1):
            return None
        handle.seek(256 + signals * 216)
        field = handle.read(signals * 8)
    try:
        per_record = sum(int(field[i : i + 8]) for i in range(0, len(field), 8))
    except ValueError:
        return None
    width = 3 if fixed[0] == 0xFF else 2
    return header_bytes + records * per_record * width


def _open(file: Path, source: str) -> Any:
    try:
        return pyedflib.EdfReader(str(file))
    except FileNotFoundError:
        raise EmgInputError("no such file", source=source) from None
    except OSError as error:
        raise EmgInputError(_reword(error, str(file)), source=source) from None


def _reword(error: OSError, name: str) -> str:
    detail = str(error).removeprefix(f"{name}: ").strip()
    lowered = detail.lower()
    if "filesize" in lowered:
        return "the file is truncated or has extra bytes (its size does not match its header)"
    if "read error" in lowered:
        return "cannot be read as BDF/EDF (empty or cut short inside the header)"
    if "not edf(+) or bdf(+) compliant" in lowered:
        return f"not a BDF/EDF file, or a damaged one (pyedflib: {detail})"
    return f"cannot be read as BDF/EDF (pyedflib: {detail})"


def _read(
    reader: Any,
    file: Path,
    source: str,
    overrides: Mapping[str, str] | None,
    hints: Mapping[str, SourceChannel],
) -> Recording:
    found = [_source_channel(reader, i, hints) for i in range(reader.signals_in_file)]
    taken = map_channels(found, overrides, source, device=file.name)
    fs = _common_rate(reader, found, [i for i, _ in taken], source)
    annotations = _annotations(reader)
    available = int(reader.getNSamples()[taken[0][0]])
    n_samples, annotations = _true_length(annotations, available)
    data = np.empty((n_samples, len(taken)), dtype=np.float32)
    for column, (index, _) in enumerate(taken):
        scale = unit_scale(found[index].unit, source, found[index].name)
        values = reader.readSignal(index)[:n_samples] * scale
        refuse_beyond_sample_range(
            values, source, found[index].name, "the signal's physical range or unit is damaged"
        )
        data[:, column] = values
    labels = [channel.label for _, channel in taken]
    names = {channel.label: found[index].name for index, channel in taken}
    file_channels = [c.name for c in found]
    events = relabel_events(_events(annotations, fs), names, file_channels)
    return Recording(
        data=data,
        sample_rate=fs,
        channels=tuple(channel for _, channel in taken),
        lost=loss_mask(events, labels, fs, n_samples),
        source=source,
        events=events,
        metadata=_metadata(reader, names, file_channels),
    )


def _source_channel(reader: Any, index: int, hints: Mapping[str, SourceChannel]) -> SourceChannel:
    label = str(reader.getLabel(index)).strip()
    unit = str(reader.getPhysicalDimension(index)).strip()
    if label in hints:
        return replace(hints[label], name=label, unit=unit)
    # EDF+ labels may start with the signal type: "EMG glute", "EEG Fp1"
    kind, rest = signal_type(label)
    if kind is not None:
        return SourceChannel(name=label, muscle=rest, kind=kind, unit=unit)
    voltage = unit.lower() in UNIT_TO_MICROVOLTS
    kind = "EMG" if voltage and label.lower() not in NON_EMG_NAMES else "MISC"
    return SourceChannel(name=label, kind=kind, unit=unit)


def _common_rate(reader: Any, found: list[SourceChannel], taken: list[int], source: str) -> float:
    rates = {found[i].name: _rate(float(reader.getSampleFrequency(i))) for i in taken}
    if len(set(rates.values())) > 1:
        listed = ", ".join(f"{name} {rate:g} Hz" for name, rate in rates.items())
        raise EmgInputError(
            f"mixed sample rates: {listed}; the channels analysed must share one rate "
            f"(choose them with {naming_hint()})",
            source=source,
        )
    return next(iter(rates.values()))


def _rate(value: float) -> float:
    """A sample rate computed as samples / record duration, without float noise."""
    nearest = round(value)
    return float(nearest) if abs(value - nearest) <= 1e-6 * max(1.0, value) else value


def _annotations(reader: Any) -> list[tuple[float, float, str]]:
    onsets, durations, texts = reader.readAnnotations()
    return [
        (float(t), max(0.0, float(d)), str(x))
        for t, d, x in zip(onsets, durations, texts, strict=True)
    ]


def _true_length(
    annotations: list[tuple[float, float, str]], available: int
) -> tuple[int, list[tuple[float, float, str]]]:
    """The length the end mark gives (else all samples), and the annotations without it."""
    length, kept = available, []
    for onset, duration, text in annotations:
        match = _END_PATTERN.match(text.strip())
        if match:
            length = min(available, int(match.group(1)))
        else:
            kept.append((onset, duration, text))
    return length, kept


def _events(annotations: list[tuple[float, float, str]], fs: float) -> list[Event]:
    events = [_event(onset, duration, text, fs) for onset, duration, text in annotations]
    return sorted(events, key=lambda e: e.time_s)


def _event(onset: float, duration: float, text: str, fs: float) -> Event:
    event = Event.from_annotation(onset, duration, text)
    if event.kind not in ("loss", "no-signal"):  # both "LABEL N samples" of a channel
        return event
    match = _LOSS_PATTERN.match(event.description)
    if match is None:
        channel = event.description.partition(" ")[0] or None
        return replace(event, channel=channel)
    start = round(onset * fs)
    stop = start + int(match.group(2))
    return replace(event, channel=match.group(1), data={"start": start, "stop": stop})


def _metadata(reader: Any, names: dict[str, str], file_channels: list[str]) -> dict[str, Any]:
    bdf = int(reader.filetype) in (pyedflib.FILETYPE_BDF, pyedflib.FILETYPE_BDFPLUS)
    metadata: dict[str, Any] = {
        "started_at": _read_start(reader),
        "source_format": "bdf" if bdf else "edf",
        "channel_names": names,
        "file_channels": file_channels,
    }
    subject = str(reader.getPatientCode()).strip()
    if subject and subject != "X":
        metadata["subject"] = subject
    return metadata


def _read_start(reader: Any) -> str | None:
    try:
        start = datetime(
            int(reader.startdate_year),
            int(reader.startdate_month),
            int(reader.startdate_day),
            int(reader.starttime_hour),
            int(reader.starttime_minute),
            int(reader.starttime_second),
            int(reader.starttime_subsecond) // 10,
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return None if start == UNKNOWN_START else start.isoformat()
