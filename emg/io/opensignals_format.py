"""PLUX OpenSignals (r)evolution text files (BITalino, biosignalsplux): raw ADC values with a
JSON header.

The format, as PLUX documents it ("OpenSignals (r)evolution: file formats")::

    # OpenSignals Text File Format
    # {"<device MAC>": {"device": "bitalino_rev", "sampling rate": 1000,
    #   "column": ["nSeq", "I1", "I2", "O1", "O2", "A1", "A2"], "label": ["A1", "A2"],
    #   "sensor": ["EMG", "EMG"], "resolution": [4, 1, 1, 1, 1, 10, 10], ...}}
    # EndOfHeader
    0	0	0	0	0	511	498
    ...

one tab-separated row per sample; ``nSeq`` is the device's sequence counter, then the digital
inputs and outputs, then one column per analog channel in raw ADC counts. An ``EMG`` sensor's
counts become volts by PLUX's published transfer function
``EMG(V) = (ADC / 2**n - 1/2) * VCC / G``: BITalino (r)evolution VCC 3.3 V, G 1009 (its EMG
sensor datasheet, as in ``firmware_configs/bitalino.toml``), biosignalsplux VCC 3 V, G 1000
(its EMG sensor datasheet). Channels of other sensors are not EMG and are left out unless named
with ``--channel``; a file of several devices is refused (one device per file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emg.errors import EmgInputError
from emg.io.channel_map import SourceChannel, map_channels
from emg.io.read_errors import read_error
from emg.recording import Recording

#: The first line of every OpenSignals text file.
MAGIC = "# OpenSignals Text File Format"
#: The line that ends the header.
END_OF_HEADER = "# EndOfHeader"
#: Supply voltage (V) and EMG sensor gain per device family, from PLUX's sensor datasheets.
EMG_TRANSFER: dict[str, tuple[float, float]] = {
    "bitalino": (3.3, 1009.0),
    "biosignalsplux": (3.0, 1000.0),
}


def is_opensignals(path: Path) -> bool:
    """Whether ``path`` starts like an OpenSignals text file."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as file:
            return file.readline().strip().startswith(MAGIC)
    except OSError:
        return False


def read_opensignals(path: str | Path, channels: Mapping[str, str] | None = None) -> Recording:
    """Read the EMG channels of an OpenSignals text file, in microvolts.

    Parameters
    ----------
    path
        The ``.txt`` file.
    channels
        ``--channel`` overrides: target muscle label -> the channel's label in the header
        (``A1``) or its column name.

    Returns
    -------
    Recording
        float32 microvolts at the header's sampling rate; the device, its MAC and the start
        date and time in the metadata.

    Raises
    ------
    EmgInputError
        Naming the file and the header field or line at fault: no JSON header or no end of
        header, several devices, a missing ``sampling rate``, ``column``, ``label``,
        ``sensor`` or ``resolution``, an EMG channel of a device whose transfer function is not
        known, a row that is not numbers or has the wrong number of values.
    """
    source = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise EmgInputError(read_error(error), source=source) from None
    except UnicodeDecodeError:
        raise EmgInputError("not a text file", source=source) from None
    if not lines or not lines[0].strip().startswith(MAGIC):
        raise EmgInputError(f"does not start with '{MAGIC}'", source=source, line=1)
    try:
        end = next(i for i, line in enumerate(lines) if line.strip().startswith(END_OF_HEADER))
    except StopIteration:
        raise EmgInputError(f"no '{END_OF_HEADER}' line", source=source) from None
    mac, header = _device(lines[1:end], source)
    columns = _texts(header, "column", source)
    labels = _texts(header, "label", source)
    sensors = _texts(header, "sensor", source)
    resolution = _numbers(header, "resolution", source)
    if len(resolution) != len(columns):
        raise EmgInputError(
            f"{len(resolution)} resolutions for {len(columns)} columns",
            source=source,
            field="resolution",
        )
    if len(sensors) != len(labels):
        raise EmgInputError(
            f"{len(sensors)} sensors for {len(labels)} labels", source=source, field="sensor"
        )
    fs = _rate(header, source)
    table = _rows(lines, end + 1, len(columns), source)
    # analog channels are the last len(labels) columns, in label order
    first = len(columns) - len(labels)
    found = [
        SourceChannel(name=label, kind="EMG" if sensor.upper() == "EMG" else sensor.upper())
        for label, sensor in zip(labels, sensors, strict=True)
    ]
    taken = map_channels(found, channels, source, device=mac)
    device = str(header.get("device", ""))
    data = np.empty((len(table), len(taken)), dtype=np.float32)
    for column, (index, _) in enumerate(taken):
        counts = table[:, first + index]
        bits = _bits(resolution[first + index], source, labels[index])
        _refuse_impossible_counts(counts, bits, source, labels[index], lines, end + 1)
        kind = found[index].kind
        data[:, column] = _microvolts(counts, bits, device, kind, source, labels[index])
    return Recording(
        data=data,
        sample_rate=fs,
        channels=tuple(channel for _, channel in taken),
        source=source,
        metadata={
            "source_format": "opensignals",
            "device": device,
            "device_mac": mac,
            "started_at": _started_at(header),
            "channel_names": {channel.label: labels[i] for i, channel in taken},
        },
    )


def _device(header_lines: list[str], source: str) -> tuple[str, Mapping[str, Any]]:
    text = " ".join(line.strip().removeprefix("#").strip() for line in header_lines)
    try:
        devices = json.loads(text)
    except json.JSONDecodeError as error:
        raise EmgInputError(
            f"the header is not JSON ({error.msg})", source=source, line=2
        ) from None
    if not isinstance(devices, dict) or not devices:
        raise EmgInputError("the header names no device", source=source, line=2)
    if len(devices) > 1:
        raise EmgInputError(
            f"{len(devices)} devices in one file ({', '.join(devices)}); export one file per "
            "device from OpenSignals",
            source=source,
            line=2,
        )
    mac, header = next(iter(devices.items()))
    if not isinstance(header, dict):
        raise EmgInputError("the device's header is not an object", source=source, line=2)
    return str(mac), header


def _texts(header: Mapping[str, Any], key: str, source: str) -> list[str]:
    value = header.get(key)
    if not isinstance(value, list) or not value:
        raise EmgInputError("missing or empty", source=source, field=key)
    return [str(v).strip() for v in value]


def _numbers(header: Mapping[str, Any], key: str, source: str) -> list[float]:
    values = header.get(key)
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise EmgInputError("must be a list of numbers", source=source, field=key)
    return [float(v) for v in values]


def _rate(header: Mapping[str, Any], source: str) -> float:
    value = header.get("sampling rate")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise EmgInputError(
            f"must be a positive number of Hz, got {value!r}", source=source, field="sampling rate"
        )
    return float(value)


def _rows(lines: list[str], first: int, n_columns: int, source: str) -> np.ndarray:
    body = [line for line in lines[first:] if line.strip()]
    if not body:
        raise EmgInputError("no samples after the header", source=source)
    rows = [line.split() for line in body]
    for i, row in enumerate(rows):
        if len(row) != n_columns:
            raise EmgInputError(
                f"{len(row)} values, the header's column list has {n_columns}",
                source=source,
                line=_line_of(lines, first, i),
            )
    frame = pd.DataFrame(rows).apply(pd.to_numeric, errors="coerce")
    table: np.ndarray = frame.to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        at, column = (int(v) for v in bad[0])
        raise EmgInputError(
            f"'{rows[at][column]}' is not a number",
            source=source,
            line=_line_of(lines, first, at),
        )
    return table


#: Widest ADC resolution a PLUX channel has (bits); biosignalsplux channels are 16-bit.
MAX_BITS = 24


def _bits(resolution: float, source: str, label: str) -> int:
    """A channel's ADC resolution in bits, refused unless a whole number 1 to MAX_BITS."""
    if resolution != round(resolution) or not 1 <= resolution <= MAX_BITS:
        raise EmgInputError(
            f"channel {label}'s resolution {resolution:g} is not a whole number of bits from 1 "
            f"to {MAX_BITS}",
            source=source,
            field="resolution",
        )
    return int(resolution)


def _refuse_impossible_counts(
    counts: np.ndarray, bits: int, source: str, label: str, lines: list[str], first: int
) -> None:
    """Refuse the first count an ``bits``-bit ADC cannot give (not a whole number in
    ``0 .. 2**bits - 1``): the row or the header's resolution is damaged."""
    top = 2**bits - 1
    impossible = np.flatnonzero((counts < 0) | (counts > top) | (counts != np.round(counts)))
    if len(impossible):
        row = int(impossible[0])
        raise EmgInputError(
            f"count {counts[row]:g} is not one a {bits}-bit ADC gives (whole numbers 0 to "
            f"{top}); the row or the header's resolution is damaged",
            source=source,
            field=label,
            line=_line_of(lines, first, row),
        )


def _line_of(lines: list[str], first: int, row: int) -> int:
    """1-based file line of the ``row``-th non-empty data line."""
    seen = -1
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.strip():
            seen += 1
            if seen == row:
                return number
    return len(lines)


def _microvolts(
    counts: np.ndarray, bits: int, device: str, kind: str, source: str, label: str
) -> np.ndarray:
    family = next((f for f in EMG_TRANSFER if device.lower().startswith(f)), None)
    if kind != "EMG" or family is None:
        what = f"a {kind} sensor" if kind != "EMG" else f"device '{device}'"
        raise EmgInputError(
            f"no EMG transfer function for {what}: only EMG sensors of "
            f"{' and '.join(EMG_TRANSFER)} devices are converted to microvolts",
            source=source,
            field=label,
        )
    vcc, gain = EMG_TRANSFER[family]
    values: np.ndarray = (counts / 2**bits - 0.5) * vcc / gain * 1e6
    return values


def _started_at(header: Mapping[str, Any]) -> str | None:
    date, time = header.get("date"), header.get("time")
    if isinstance(date, str) and isinstance(time, str) and date and time:
        return f"{date}T{time}"
    return None
