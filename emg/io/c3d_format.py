"""C3D files from motion-capture systems (Vicon, Qualisys, Motion Analysis): their analog
channels, where labs record EMG beside the markers.

A C3D file holds 3-D points (markers) at the point rate and analog channels (force plates,
EMG) at a multiple of it; the ``ANALOG`` parameter group names the channels (``LABELS``,
``DESCRIPTIONS``), their units (``UNITS``) and the rate (``RATE``). The file format is the one
documented at c3d.org ("The C3D File Format User Guide"); it is read with ezc3d (Michaud and
Begon 2021, JOSS 6:2911), which applies each channel's scale and offset. Only the analog
channels are taken, in microvolts; the point rate is kept in the metadata. Channels are named
by their muscle as in every format, or with ``--channel glute=EMG1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emg.errors import EmgInputError
from emg.io.channel_map import (
    NON_EMG_NAMES,
    UNIT_TO_MICROVOLTS,
    SourceChannel,
    map_channels,
    signal_type,
    unit_scale,
)
from emg.io.sample_range_check import refuse_beyond_sample_range
from emg.recording import Recording

#: What to install to read C3D files.
C3D_HINT = "python -m pip install ezc3d (or the toolkit's lab extra: pip install -e '.[lab]')"


def read_c3d(path: str | Path, channels: Mapping[str, str] | None = None) -> Recording:
    """Read the analog channels of a C3D file.

    Parameters
    ----------
    path
        The ``.c3d`` file.
    channels
        ``--channel`` overrides: target muscle label -> analog channel label.

    Returns
    -------
    Recording
        float32 microvolts at the analog rate; metadata with the point and analog rates and
        each channel's label, description and unit as the file gives them.

    Raises
    ------
    EmgInputError
        Naming the file and the parameter (``ANALOG:LABELS``, ``ANALOG:RATE``,
        ``ANALOG:UNITS``) or channel at fault: ezc3d missing, a file that is not C3D, no
        analog channel, a rate that is not positive, a unit that is not a voltage,
        non-finite samples, unknown muscle names.
    """
    source = str(path)
    try:
        import ezc3d
    except ImportError:
        raise EmgInputError(f"reading C3D needs ezc3d: {C3D_HINT}", source=source) from None
    if not Path(path).is_file():
        raise EmgInputError("no such file", source=source)
    try:
        c3d = ezc3d.c3d(source)
    except (OSError, RuntimeError, ValueError, IndexError) as error:  # ezc3d's own words
        raise EmgInputError(f"not a readable C3D file ({error})", source=source) from None
    analog = c3d["parameters"].get("ANALOG", {})
    labels = [str(v).strip() for v in _values(analog, "LABELS")]
    samples = np.asarray(c3d["data"]["analogs"], dtype=np.float64)
    if not labels or samples.ndim != 3 or samples.shape[2] == 0:
        raise EmgInputError("no analog channel", source=source, field="ANALOG:LABELS")
    data = samples[0].T  # (n_frames, n_channels)
    if data.shape[1] != len(labels):
        raise EmgInputError(
            f"{len(labels)} labels for {data.shape[1]} analog channels",
            source=source,
            field="ANALOG:LABELS",
        )
    fs = _rate(analog, source)
    # C3D analog channels are in volts unless the file says otherwise
    units = [str(v).strip() or "V" for v in _values(analog, "UNITS")]
    units += ["V"] * (len(labels) - len(units))
    descriptions = [str(v).strip() for v in _values(analog, "DESCRIPTIONS")]
    found = [_source_channel(label, unit) for label, unit in zip(labels, units, strict=False)]
    taken = map_channels(found, channels, source, device=Path(path).name)
    out = np.empty((len(data), len(taken)), dtype=np.float32)
    for column, (index, _) in enumerate(taken):
        name = found[index].name
        values = data[:, index] * unit_scale(found[index].unit, source, f"ANALOG:UNITS {name}")
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise EmgInputError(
                f"sample {bad} is not a number (NaN or infinite)", source=source, field=name
            )
        refuse_beyond_sample_range(values, source, name, "the channel's scale or unit is damaged")
        out[:, column] = values
    return Recording(
        data=out,
        sample_rate=fs,
        channels=tuple(channel for _, channel in taken),
        source=source,
        metadata={
            "source_format": "c3d",
            "point_rate": _point_rate(c3d),
            "channel_names": {channel.label: found[i].name for i, channel in taken},
            "analog_channels": [
                {"label": label, "unit": unit, "description": description}
                for label, unit, description in zip(
                    labels, units, [*descriptions, *[""] * len(labels)], strict=False
                )
            ],
        },
    )


def _values(group: Mapping[str, Any], name: str) -> list[Any]:
    parameter = group.get(name)
    if not isinstance(parameter, Mapping):
        return []
    value = parameter.get("value")
    return list(value) if value is not None else []


def _rate(analog: Mapping[str, Any], source: str) -> float:
    rates = _values(analog, "RATE")
    try:
        fs = float(rates[0])
    except (IndexError, TypeError, ValueError):
        fs = float("nan")
    if not np.isfinite(fs) or fs <= 0:
        raise EmgInputError(
            f"the analog rate must be a positive number of Hz, got {rates[:1] or 'none'}",
            source=source,
            field="ANALOG:RATE",
        )
    return fs


def _point_rate(c3d: Any) -> float | None:
    rates = _values(c3d["parameters"].get("POINT", {}), "RATE")
    try:
        return float(rates[0])
    except (IndexError, TypeError, ValueError):
        return None


def _source_channel(label: str, unit: str) -> SourceChannel:
    kind, rest = signal_type(label)
    if kind is not None:
        return SourceChannel(name=label, muscle=rest, kind=kind, unit=unit)
    voltage = unit.lower() in UNIT_TO_MICROVOLTS
    emg = voltage and label.lower() not in NON_EMG_NAMES
    return SourceChannel(name=label, kind="EMG" if emg else "MISC", unit=unit)
