"""What acquisition needs from a Bluetooth LE stack, whichever it is.

Two stacks implement it: bleak on the operating system's Bluetooth (BlueZ, CoreBluetooth,
WinRT) in :mod:`emg.sources.bleak_radio`, and bumble in :mod:`emg.sources.bumble_radio` (any
bumble transport, e.g. a USB dongle, or an in-memory link to emulated sensors). Everything
above it (decoding, sample times, alignment, reconnects) is the same code for both.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from emg.devices.profiles import SensorProfile

#: Called from the stack with (characteristic UUID, payload) for every notification.
NotificationCallback = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Advert:
    """A device seen while scanning.

    Attributes
    ----------
    name
        Advertised local name ("" if none).
    address
        Address (or, on macOS, the platform's identifier).
    rssi
        Signal strength in dBm, if known.
    services
        Advertised service UUIDs, lower-case 128-bit.
    """

    name: str
    address: str
    rssi: int | None = None
    services: tuple[str, ...] = ()


class SensorLink(Protocol):
    """A connection to one sensor."""

    address: str

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect; ``on_disconnect`` is called (once) when the link drops."""

    async def subscribe(self, uuid: str, callback: NotificationCallback) -> None:
        """Enable notifications of a characteristic."""

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Write a command."""

    async def read(self, uuid: str) -> bytes:
        """Read a characteristic."""

    async def disconnect(self) -> None:
        """Disconnect (no error if already disconnected)."""


class Radio(Protocol):
    """A Bluetooth LE central."""

    async def scan(self, timeout: float) -> list[Advert]:
        """Devices seen within ``timeout`` seconds."""

    def link(self, address: str) -> SensorLink:
        """A (not yet connected) link to the device at ``address``."""


def match_profile(advert: Advert, profiles: Iterable[SensorProfile]) -> SensorProfile | None:
    """The first profile whose name patterns or advertised services match ``advert``."""
    for profile in profiles:
        if advert.name and any(
            fnmatch.fnmatchcase(advert.name, pattern) for pattern in profile.name_patterns
        ):
            return profile
        if set(advert.services) & set(profile.advertised_services):
            return profile
    return None


def find_sensor(
    adverts: Iterable[Advert], wanted: str, profiles: Iterable[SensorProfile]
) -> tuple[Advert, SensorProfile] | None:
    """The advert named or addressed ``wanted`` (case-insensitive) with its profile."""
    profiles = list(profiles)
    key = wanted.strip().lower()
    for advert in adverts:
        if key in (advert.name.lower(), advert.address.lower()):
            profile = match_profile(advert, profiles)
            if profile is not None:
                return advert, profile
    return None
