"""A small XDF 1.0 writer for the tests (pyxdf only reads XDF).

Layout (https://github.com/sccn/xdf/wiki/Specifications, as parsed by pyxdf): the magic
``XDF:``, then chunks. Each chunk is ``[NumLengthBytes: 1, 4 or 8][Length][Tag: uint16]
[Content]``, where ``Length`` counts the tag and the content. Tags: 1 FileHeader (XML),
2 StreamHeader (uint32 stream id + XML), 3 Samples (stream id, variable-length sample count,
then per sample ``[TimeStampBytes: 0 or 8][TimeStamp: double]`` and the values, little-endian;
strings as variable-length byte count + UTF-8), 4 ClockOffset (stream id, collection time and
offset value as doubles), 5 Boundary (a fixed 16-byte UUID), 6 StreamFooter (stream id + XML).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt

BOUNDARY_UUID = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")

NUMERIC_FORMATS = {
    "float32": "<f4",
    "double64": "<f8",
    "int8": "<i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
}


@dataclass
class XdfStream:
    """One stream to write.

    Attributes
    ----------
    name, type
        Stream name and content type (``EMG``, ``Markers`` ...).
    srate
        Nominal sample rate (0 for irregular streams such as markers).
    channel_format
        ``float32``, ``double64``, ``int16`` ... or ``string``.
    samples
        ``(n, channels)`` numbers, or a list of samples each a list of strings.
    timestamps
        One time stamp per sample, on the stream's (device) clock.
    channels
        Channel metadata written under ``desc/channels/channel`` (``label``, ``unit``,
        ``type``, ``muscle`` ...); empty to write no channel description.
    source_id
        The stream's source id.
    clock_offsets
        ``(collection time, offset)`` pairs: device clock + offset = recorder clock.
    chunk_size
        Samples per Samples chunk.
    """

    name: str
    type: str
    srate: float
    channel_format: str
    samples: npt.NDArray[np.generic] | list[list[str]]
    timestamps: npt.NDArray[np.float64]
    channels: Sequence[Mapping[str, str]] = ()
    source_id: str = ""
    clock_offsets: Sequence[tuple[float, float]] = field(default_factory=list)
    chunk_size: int = 256

    @property
    def channel_count(self) -> int:
        """Number of channels."""
        if isinstance(self.samples, np.ndarray):
            return int(self.samples.shape[1])
        return len(self.samples[0]) if self.samples else 1


def varlen(value: int) -> bytes:
    """XDF variable-length integer."""
    if value < 256:
        return b"\x01" + struct.pack("<B", value)
    if value < 2**32:
        return b"\x04" + struct.pack("<I", value)
    return b"\x08" + struct.pack("<Q", value)


def chunk(tag: int, content: bytes, stream_id: int | None = None) -> bytes:
    """One chunk: length, tag, optional stream id, content."""
    body = struct.pack("<H", tag)
    if stream_id is not None:
        body += struct.pack("<I", stream_id)
    body += content
    return varlen(len(body)) + body


def header_xml(stream: XdfStream) -> bytes:
    """The StreamHeader XML of ``stream``."""
    channels = "".join(
        "<channel>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in ch.items()) + "</channel>"
        for ch in stream.channels
    )
    desc = f"<desc><channels>{channels}</channels></desc>" if channels else "<desc/>"
    return (
        '<?xml version="1.0"?><info>'
        f"<name>{escape(stream.name)}</name><type>{escape(stream.type)}</type>"
        f"<channel_count>{stream.channel_count}</channel_count>"
        f"<nominal_srate>{stream.srate}</nominal_srate>"
        f"<channel_format>{stream.channel_format}</channel_format>"
        f"<source_id>{escape(stream.source_id)}</source_id>"
        f"<created_at>0</created_at>{desc}</info>"
    ).encode()


def footer_xml(stream: XdfStream) -> bytes:
    """The StreamFooter XML of ``stream``."""
    stamps = stream.timestamps
    first, last = (float(stamps[0]), float(stamps[-1])) if len(stamps) else (0.0, 0.0)
    offsets = "".join(
        f"<offset><time>{t!r}</time><value>{v!r}</value></offset>" for t, v in stream.clock_offsets
    )
    return (
        '<?xml version="1.0"?><info>'
        f"<first_timestamp>{first!r}</first_timestamp><last_timestamp>{last!r}</last_timestamp>"
        f"<sample_count>{len(stamps)}</sample_count>"
        f"<clock_offsets>{offsets}</clock_offsets></info>"
    ).encode()


def samples_chunk(stream: XdfStream, stream_id: int, start: int, stop: int) -> bytes:
    """Samples ``start:stop`` of ``stream`` as one Samples chunk, every sample time-stamped."""
    parts = [varlen(stop - start)]
    for k in range(start, stop):
        parts.append(b"\x08" + struct.pack("<d", float(stream.timestamps[k])))
        if isinstance(stream.samples, np.ndarray):
            dtype = NUMERIC_FORMATS[stream.channel_format]
            parts.append(np.ascontiguousarray(stream.samples[k], dtype=dtype).tobytes())
        else:
            for text in stream.samples[k]:
                raw = text.encode()
                parts.append(varlen(len(raw)) + raw)
    return chunk(3, b"".join(parts), stream_id)


def xdf_bytes(streams: Sequence[XdfStream]) -> bytes:
    """A whole XDF file: header, stream headers, interleaved sample chunks, offsets, footers."""
    out = [b"XDF:", chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    ids = list(range(1, len(streams) + 1))
    for sid, stream in zip(ids, streams, strict=True):
        out.append(chunk(2, header_xml(stream), sid))
    starts = [0] * len(streams)
    while any(s < len(st.timestamps) for s, st in zip(starts, streams, strict=True)):
        for i, (sid, stream) in enumerate(zip(ids, streams, strict=True)):
            stop = min(starts[i] + stream.chunk_size, len(stream.timestamps))
            if stop > starts[i]:
                out.append(samples_chunk(stream, sid, starts[i], stop))
                starts[i] = stop
        out.append(chunk(5, BOUNDARY_UUID))
    for sid, stream in zip(ids, streams, strict=True):
        for t, v in stream.clock_offsets:
            out.append(chunk(4, struct.pack("<dd", t, v), sid))
    for sid, stream in zip(ids, streams, strict=True):
        out.append(chunk(6, footer_xml(stream), sid))
    return b"".join(out)


def write_xdf(path: str | Path, streams: Sequence[XdfStream]) -> Path:
    """Write ``streams`` to ``path`` as XDF; returns the path."""
    target = Path(path)
    target.write_bytes(xdf_bytes(streams))
    return target
