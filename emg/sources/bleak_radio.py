"""The operating system's Bluetooth through bleak (BlueZ on Linux, CoreBluetooth, WinRT).

bleak's rules shape this (see PROTOCOLS.md): one event loop for all bleak objects; callbacks
stay tiny (the caller's callback only stamps and enqueues); scans and connects are serialised
by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emg.errors import EmgDeviceError
from emg.sources.radio import Advert, NotificationCallback


def _bleak() -> Any:
    import bleak

    return bleak


def device_error(error: Exception, what: str) -> EmgDeviceError:
    """A clear message for what bleak raised while doing ``what``."""
    from bleak import exc

    text = str(error)
    if isinstance(error, exc.BleakBluetoothNotAvailableError):
        reason = getattr(error, "reason", None)
        name = getattr(reason, "name", "")
        if "DENIED" in name or "UNAUTHORIZED" in name:
            return EmgDeviceError(
                f"{what}: permission to use Bluetooth was denied; allow this program to use "
                f"Bluetooth (Linux: add the user to the 'bluetooth' group) ({text})"
            )
        if "OFF" in name:
            return EmgDeviceError(f"{what}: Bluetooth is switched off; switch it on ({text})")
        return EmgDeviceError(
            f"{what}: no Bluetooth adapter found; plug in or enable a Bluetooth adapter ({text})"
        )
    if isinstance(error, exc.BleakDeviceNotFoundError):
        return EmgDeviceError(
            f"{what}: sensor not found; wake it (press its button), bring it closer, and "
            f"check it is not connected to another device ({text})"
        )
    if isinstance(error, (FileNotFoundError, ConnectionRefusedError)):
        return EmgDeviceError(
            f"{what}: no Bluetooth service to talk to (on Linux: BlueZ's bluetoothd on the "
            "D-Bus system bus); this machine may have no Bluetooth adapter, or Bluetooth is "
            f"not running ({text})"
        )
    lowered = text.lower()
    if "notpermitted" in lowered or "accessdenied" in lowered or "permission" in lowered:
        return EmgDeviceError(f"{what}: permission denied by the Bluetooth stack ({text})")
    if "no bluetooth adapters" in lowered or ("adapter" in lowered and "not found" in lowered):
        return EmgDeviceError(f"{what}: no Bluetooth adapter found ({text})")
    return EmgDeviceError(f"{what}: {text or type(error).__name__}")


class BleakLink:
    """One sensor connection through bleak.

    Parameters
    ----------
    address
        The sensor's address.
    timeout
        Seconds bleak may take to connect (and discover the services): beyond a first
        reconnect attempt's time (:data:`~emg.sources.sensor_stream.ATTEMPT_S`), within
        the longer ones that follow it.
    """

    def __init__(self, address: str, timeout: float = 20.0) -> None:
        self.address, self.timeout = address, timeout
        self._client: Any = None

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect (raises :class:`EmgDeviceError` with a plain reason)."""
        bleak = _bleak()
        self._client = bleak.BleakClient(
            self.address, disconnected_callback=lambda _: on_disconnect(), timeout=self.timeout
        )
        try:
            await self._client.connect()
        except Exception as error:  # bleak raises several unrelated types
            raise device_error(error, f"connecting to {self.address}") from error

    async def subscribe(self, uuid: str, callback: NotificationCallback) -> None:
        """Enable notifications; the callback gets (uuid, bytes) on the event loop.

        On BlueZ this is ``StartNotify`` (bleak's default), not ``AcquireNotify``: BlueZ
        before 5.86 frees an acquired notification's client while disconnecting and then
        reads it (a use-after-free fixed upstream in January 2026); in the real-stack tests
        it crashed Debian 12's bluetoothd (5.66) at the end of a stream. (Duplicated
        notifications after a reconnect: see :meth:`disconnect`.)
        """
        await self._client.start_notify(uuid, lambda _, data: callback(uuid, bytes(data)))

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Write a command."""
        await self._client.write_gatt_char(uuid, data, response=response)

    async def read(self, uuid: str) -> bytes:
        """Read a characteristic."""
        return bytes(await self._client.read_gatt_char(uuid))

    async def disconnect(self) -> None:
        """Disconnect if connected, and release the client in any case.

        After the sensor dropped the link, bleak keeps the client's D-Bus connection (and
        with it BlueZ's notification session) open until ``disconnect`` is called; left
        open, BlueZ re-enables that session on the next connection and delivers every
        notification twice.
        """
        if self._client is not None:
            await self._client.disconnect()


class BleakRadio:
    """The system's Bluetooth adapter as a :class:`~emg.sources.radio.Radio`."""

    async def scan(self, timeout: float) -> list[Advert]:
        """Devices seen within ``timeout`` seconds."""
        bleak = _bleak()
        try:
            found = await bleak.BleakScanner.discover(timeout=timeout, return_adv=True)
        except Exception as error:
            raise device_error(error, "scanning") from error
        adverts = []
        for device, data in found.values():
            adverts.append(
                Advert(
                    name=data.local_name or device.name or "",
                    address=device.address,
                    rssi=data.rssi,
                    services=tuple(u.lower() for u in data.service_uuids),
                )
            )
        return adverts

    def link(self, address: str) -> BleakLink:
        """A link to ``address``."""
        return BleakLink(address)
