"""bumble as the Bluetooth LE central: any bumble transport (a USB dongle, a serial HCI, a
virtual controller) or an in-memory link to emulated sensors (tests, demos)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from emg.errors import EmgDeviceError
from emg.sources.radio import Advert, NotificationCallback

#: ATT MTU offered after connecting (what BlueZ and most phones negotiate with such sensors).
MTU = 247


def _uuid(text: str) -> Any:
    from bumble.core import UUID

    return UUID(text)


class BumbleLink:
    """One sensor connection through a bumble central device."""

    def __init__(self, device: Any, address: str, timeout: float = 10.0) -> None:
        self.device, self.address, self.timeout = device, address, timeout
        self._connection: Any = None
        self._peer: Any = None

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect and discover the sensor's services."""
        from bumble.device import Peer
        from bumble.hci import Address

        try:
            self._connection = await asyncio.wait_for(
                self.device.connect(Address(self.address)), self.timeout
            )
        except TimeoutError as error:
            raise EmgDeviceError(
                f"connecting to {self.address}: sensor not found (no answer within "
                f"{self.timeout:g} s); wake it and bring it closer"
            ) from error
        except Exception as error:
            raise EmgDeviceError(f"connecting to {self.address}: {error}") from error
        self._connection.on("disconnection", lambda *_: on_disconnect())
        self._peer = Peer(self._connection)
        with contextlib.suppress(Exception):  # as BlueZ does: offer a large MTU at once
            await self._peer.request_mtu(MTU)
        await self._peer.discover_services()
        for service in self._peer.services:
            await service.discover_characteristics()

    def _characteristic(self, uuid: str) -> Any:
        found = self._peer.get_characteristics_by_uuid(_uuid(uuid))
        if not found:
            raise EmgDeviceError(f"{self.address}: the sensor has no characteristic {uuid}")
        return found[0]

    async def subscribe(self, uuid: str, callback: NotificationCallback) -> None:
        """Enable notifications; the callback gets (uuid, bytes) on the event loop."""
        await self._peer.subscribe(
            self._characteristic(uuid), lambda value: callback(uuid, bytes(value))
        )

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Write a command."""
        await self._peer.write_value(self._characteristic(uuid), data, with_response=response)

    async def read(self, uuid: str) -> bytes:
        """Read a characteristic."""
        return bytes(await self._peer.read_value(self._characteristic(uuid)))

    async def disconnect(self) -> None:
        """Disconnect if connected."""
        if self._connection is not None and self._connection.is_connected:
            await self._connection.disconnect()


class BumbleRadio:
    """A bumble device acting as the central.

    Parameters
    ----------
    device
        A powered-on ``bumble.device.Device``.
    """

    def __init__(self, device: Any) -> None:
        self.device = device

    @classmethod
    async def open(cls, transport: str, address: str = "F0:F1:F2:F3:F4:F5") -> BumbleRadio:
        """A central on a bumble transport, e.g. ``usb:0`` or ``tcp-client:127.0.0.1:9000``."""
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.transport import open_transport

        try:
            hci = await open_transport(transport)
        except Exception as error:
            raise EmgDeviceError(f"opening Bluetooth transport '{transport}': {error}") from error
        device = Device.with_hci("emg", Address(address), hci.source, hci.sink)
        await device.power_on()
        return cls(device)

    async def scan(self, timeout: float) -> list[Advert]:
        """Devices seen within ``timeout`` seconds (legacy and extended advertising)."""
        from bumble.core import AdvertisingData

        seen: dict[str, Advert] = {}

        def on_advertisement(advertisement: Any) -> None:
            data = advertisement.data
            name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
                AdvertisingData.SHORTENED_LOCAL_NAME
            )
            services: list[str] = []
            for kind in (
                AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            ):
                for uuid in data.get(kind) or []:
                    services.append(
                        uuid.to_hex_str("-").lower()
                        if len(bytes(uuid)) == 16
                        else f"0000{uuid.to_hex_str().lower()}-0000-1000-8000-00805f9b34fb"
                    )
            address = str(advertisement.address).split("/")[0]
            text = name.decode(errors="replace") if isinstance(name, bytes) else str(name or "")
            seen[address] = Advert(text, address, advertisement.rssi, tuple(services))

        self.device.on("advertisement", on_advertisement)
        try:
            await self.device.start_scanning(legacy=True, filter_duplicates=False)
            await asyncio.sleep(timeout)
            await self.device.stop_scanning()
        finally:
            self.device.remove_listener("advertisement", on_advertisement)
        return list(seen.values())

    def link(self, address: str) -> BumbleLink:
        """A link to ``address``."""
        return BumbleLink(self.device, address)
