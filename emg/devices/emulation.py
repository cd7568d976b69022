"""Running emulated sensors on a bumble transport (``emg emulate``).

Two ways to reach a central:

- ``device`` mode: each emulated sensor is a bumble device on its own controller reached
  through a transport, e.g. a USB Bluetooth dongle (``usb:0``): a laptop becomes a sensor that
  any phone or computer can connect to.
- ``host`` mode: the sensors sit on an in-memory link together with one virtual controller
  that is handed to another Bluetooth host through a transport, e.g. the Linux kernel's
  ``vhci`` device: the operating system's own stack (BlueZ) then sees a controller with the
  sensors in radio range, and unmodified bleak can scan, connect and stream. Following bleak's
  own integration tests, that controller does not offer LL privacy or extended advertising,
  which BlueZ would otherwise try to use.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.devices.emulator import EmulatedSensor, Impairments
from emg.devices.profiles import SensorProfile
from emg.errors import EmgDeviceError, SettingError

#: Most sensors emulated at once (``count`` of :func:`check_emulation`). A Bluetooth LE
#: controller holds only a handful of connections at once (commonly 5 to 8; many laptop
#: adapters fewer), and the analysis uses at most four sensors (glute and hamstring, each
#: side): more emulated sensors than this cannot all be connected and streamed.
MAX_SENSORS = 8


def check_emulation(count: int, duration_s: float | None) -> None:
    """Refuse a number of sensors or a duration that cannot be emulated.

    Parameters
    ----------
    count
        Sensors to emulate: 1 to :data:`MAX_SENSORS`.
    duration_s
        Seconds to stream (above 0, finite), or None to stream until cancelled.

    Raises
    ------
    SettingError
        Naming ``count`` or ``duration_s``.
    """
    if not 1 <= count <= MAX_SENSORS:
        raise SettingError(
            "count",
            f"must be from 1 to {MAX_SENSORS} sensors (a Bluetooth LE controller holds a "
            f"handful of connections; the analysis uses at most four sensors), got {count}",
        )
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise SettingError("duration_s", f"must be a number of seconds above 0, got {duration_s:g}")


def sensor_addresses(count: int) -> list[str]:
    """Static random addresses (top two bits set) for ``count`` emulated sensors."""
    return [f"C0:DE:00:00:{i // 256:02X}:{i % 256:02X}" for i in range(1, count + 1)]


async def _open(transport: str) -> Any:
    from bumble.transport import open_transport

    try:
        return await open_transport(transport)
    except Exception as error:
        raise EmgDeviceError(f"opening Bluetooth transport '{transport}': {error}") from error


async def host_mode_devices(transport: str, count: int) -> tuple[list[Any], list[Any]]:
    """Peripheral devices on an in-memory link whose host-facing controller is ``transport``.

    Returns
    -------
    devices, keep
        The bumble devices for the sensors, and objects to keep alive (transport, link).
    """
    from bumble import hci
    from bumble.controller import Controller
    from bumble.device import Device
    from bumble.host import Host
    from bumble.link import LocalLink
    from bumble.transport.common import AsyncPipeSink

    hci_transport = await _open(transport)
    link = LocalLink()  # type: ignore[no-untyped-call]
    bridge = Controller(
        "host-side", host_source=hci_transport.source, host_sink=hci_transport.sink, link=link
    )
    bridge.le_features &= ~(
        hci.LeFeatureMask.LL_PRIVACY | hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
    )
    devices = []
    for index, address in enumerate(sensor_addresses(count)):
        controller = Controller(f"sensor-{index + 1}", link=link)
        device = Device(
            address=hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        devices.append(device)
    return devices, [hci_transport, link, bridge]


async def device_mode_device(transport: str, index: int = 0) -> tuple[Any, Any]:
    """One peripheral device on a real controller reached through ``transport``."""
    from bumble import hci
    from bumble.device import Device

    hci_transport = await _open(transport)
    address = hci.Address(sensor_addresses(index + 1)[index], hci.Address.RANDOM_DEVICE_ADDRESS)
    device = Device.with_hci(
        f"emg-sensor-{index + 1}", address, hci_transport.source, hci_transport.sink
    )
    return device, hci_transport


async def emulate(
    profile: SensorProfile,
    signals: Sequence[npt.NDArray[np.float64]],
    devices: Sequence[Any],
    names: Sequence[str],
    impairments: Sequence[Impairments],
    duration_s: float | None = None,
    ready: asyncio.Event | None = None,
) -> list[EmulatedSensor]:
    """Start the sensors on ``devices`` and stream until ``duration_s`` (or cancelled).

    Raises
    ------
    SettingError
        For a number of sensors or a duration that cannot be emulated
        (:func:`check_emulation`).
    """
    check_emulation(len(devices), duration_s)
    epoch = time.monotonic()
    sensors = [
        EmulatedSensor(device, profile, signal, name, imp, epoch=epoch)
        for device, signal, name, imp in zip(devices, signals, names, impairments, strict=True)
    ]
    for sensor in sensors:
        await sensor.start()
    if ready is not None:
        ready.set()
    await asyncio.gather(*(sensor.run(duration_s) for sensor in sensors))
    return sensors


def in_memory_devices(count: int) -> list[Any]:
    """``count`` bumble devices on one in-memory link (no radio): the first can be the
    central, the others emulated sensors."""
    from bumble import hci
    from bumble.controller import Controller
    from bumble.device import Device
    from bumble.host import Host
    from bumble.link import LocalLink
    from bumble.transport.common import AsyncPipeSink

    link = LocalLink()  # type: ignore[no-untyped-call]
    devices = []
    for index in range(count):
        address = ":".join([f"C{index % 10}"] * 6)
        controller = Controller(f"C{index}", link=link, public_address=address)
        devices.append(
            Device(address=hci.Address(address), host=Host(controller, AsyncPipeSink(controller)))
        )
    return devices
