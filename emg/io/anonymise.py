"""A recording without what names the person in it, for sharing an export.

The athlete's name, the subject label, the start date and time and the sensors' advertised
names (which people often personalise) are personal data. :func:`anonymised` drops them or
replaces them with neutral values; the samples, channels, events and analysis settings stay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from emg.recording import Recording

#: Metadata that names the person or when they were recorded, dropped.
PERSONAL_KEYS = ("athlete", "started_at", "t0")


def anonymised(recording: Recording, subject: str = "01") -> Recording:
    """``recording`` with its personal metadata replaced.

    Parameters
    ----------
    recording
        As read.
    subject
        The neutral subject label it gets (BIDS ``sub-``, BDF patient code).

    Returns
    -------
    Recording
        A copy: no athlete, start time or host clock; ``subject`` as given; each sensor named
        by its profile and number (``emg-stream-v1-1``), its address dropped.
    """
    metadata: dict[str, Any] = {
        k: v for k, v in recording.metadata.items() if k not in PERSONAL_KEYS
    }
    metadata["subject"] = subject
    sensors = metadata.get("sensors")
    renamed: dict[str, str] = {}
    if isinstance(sensors, list):
        neutral = [_neutral_sensor(s, number) for number, s in enumerate(sensors, start=1)]
        for old, new in zip(sensors, neutral, strict=True):
            if isinstance(old, Mapping) and old.get("name") and isinstance(new, Mapping):
                renamed[str(old["name"])] = str(new["name"])
        metadata["sensors"] = neutral
    devices = list(dict.fromkeys(c.device for c in recording.channels if c.device))
    for number, device in enumerate(devices, start=1):
        renamed.setdefault(device, f"sensor-{number}")
    channels = tuple(
        dataclasses.replace(c, device=renamed.get(c.device, c.device)) for c in recording.channels
    )
    return dataclasses.replace(recording, metadata=metadata, channels=channels)


def _neutral_sensor(sensor: Any, number: int) -> Any:
    if not isinstance(sensor, Mapping):
        return sensor
    kept = {k: v for k, v in sensor.items() if k not in ("name", "address")}
    kept["name"] = f"{sensor.get('profile') or 'sensor'}-{number}"
    return kept
