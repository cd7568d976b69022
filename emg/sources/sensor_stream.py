"""One sensor's stream: connect, subscribe, start, decode, and reconnect when the link drops.

The notification callback only stamps the arrival time and enqueues the payload (it runs on
the event loop inside the Bluetooth stack's code); decoding happens in this stream's own task.
After a drop the stream reconnects with backoff, re-sends the start commands and resets its
decoder (sensors such as the Ganglion reset on every connect), and says so to its listener,
which keeps the same recording going.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from emg.devices.decoding import DecodedPacket
from emg.devices.profiles import SensorProfile, full_uuid
from emg.errors import EmgDeviceError
from emg.sources.radio import Radio, SensorLink

#: Seconds to wait before each reconnect attempt (the last repeats).
BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Seconds between battery readings (where the profile has a battery level).
BATTERY_EVERY_S = 60.0
#: Seconds one connect attempt (connect, subscribe, start) may take before it is given up (a
#: reconnect makes it again after the backoff): a stack that stops answering part-way (seen
#: with BlueZ on a machine far behind real time) must not keep the sensor away for the rest
#: of the set, and each attempt that stalls costs the athlete this much of the set. A connect
#: that works takes a second or two (about 3 s in the test VM, 14 s once when it was starved),
#: so each reconnect attempt given up doubles the next one's time, up to
#: :data:`MAX_ATTEMPT_S`: a stall costs 15 s, and a stack that is merely slow still gets there.
ATTEMPT_S = 15.0
#: The longest a reconnect attempt may be given (see :data:`ATTEMPT_S`).
MAX_ATTEMPT_S = 60.0
#: Seconds a link's release (each stop command, the disconnect) or a battery reading may take
#: before it is given up.
RELEASE_S = 5.0

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, giving up after ``seconds`` (TimeoutError).

    Unlike :func:`asyncio.wait_for`, it does not wait for the abandoned operation to finish
    cancelling: a Bluetooth stack that does not answer may not answer the cancellation either
    (a release of a dropped link through bleak and BlueZ hung that way for over 50 s in the
    test VM). The operation is cancelled and left to end in its own time.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError
    return task.result()


def _abandon(task: asyncio.Future[Any]) -> None:
    """Cancel an operation and leave it: its outcome, whenever it comes, is retrieved, so that
    it is not reported as never retrieved."""
    task.cancel()
    task.add_done_callback(lambda ended: ended.cancelled() or ended.exception())


PacketListener = Callable[[str, list[DecodedPacket], float], None]
StatusListener = Callable[[str, str, str], None]


@dataclass
class SensorStatus:
    """What a live window shows about a sensor."""

    name: str
    address: str
    state: str = "connecting"
    reconnects: int = 0
    packets: int = 0
    malformed: int = 0
    lost_samples: int = 0
    battery_percent: int | None = None


class SensorStream:
    """Streams one sensor into a listener.

    Parameters
    ----------
    radio
        The Bluetooth stack.
    address
        The sensor's address.
    profile
        Its profile (GATT layout, commands, decoder).
    name
        The name its samples go under (e.g. ``glute``).
    on_packets
        Called with (name, decoded packets, arrival time) for every notification.
    on_status
        Called with (name, state, detail) on ``streaming``, ``disconnected``,
        ``reconnected``, ``stopped`` and ``battery`` (detail: the percent).
    backoff_s
        Reconnect delays.
    attempt_s
        Longest one connect attempt may take (:data:`ATTEMPT_S`); each reconnect attempt
        given up doubles it for the next, up to :data:`MAX_ATTEMPT_S` (or ``attempt_s``, if
        longer).
    connecting
        Held during each reconnect attempt: shared by the streams of one radio, so that
        they reconnect one at a time (None: not shared).
    clock
        Monotonic clock for arrival times.
    """

    def __init__(
        self,
        radio: Radio,
        address: str,
        profile: SensorProfile,
        name: str,
        on_packets: PacketListener,
        on_status: StatusListener | None = None,
        backoff_s: Sequence[float] = BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
        attempt_s: float = ATTEMPT_S,
        connecting: asyncio.Lock | None = None,
    ) -> None:
        self.radio, self.address, self.profile, self.name = radio, address, profile, name
        self.on_packets, self.on_status = on_packets, on_status
        self.backoff_s, self.clock, self.attempt_s = tuple(backoff_s), clock, attempt_s
        self._connecting = connecting or asyncio.Lock()
        self.decoder = profile.decoder()
        self.status = SensorStatus(name, address)
        self._queue: asyncio.Queue[tuple[float, str, bytes]] = asyncio.Queue()
        self._dropped = asyncio.Event()
        self._stopping = False
        self._link: SensorLink | None = None
        self._step = ""  # what connect() is doing (said when an attempt is given up)
        self._battery_due = 0.0

    def _on_notification(self, uuid: str, payload: bytes) -> None:
        self._queue.put_nowait((self.clock(), uuid, payload))

    def _on_disconnect(self) -> None:
        self._dropped.set()

    async def connect(self, attempt_s: float | None = None) -> None:
        """Connect, subscribe and start streaming (given up after ``attempt_s``, default the
        stream's), then read the battery level.

        Raises
        ------
        EmgDeviceError
            If the sensor cannot be reached, lacks the profile's characteristics, or the
            stack gave no answer within ``attempt_s`` (the link is released in each case).
        """
        limit = self.attempt_s if attempt_s is None else attempt_s
        try:
            await within(self._start_link(), limit)
        except TimeoutError:
            await self._release()
            raise EmgDeviceError(
                f"{self.name} ({self.address}): no answer within {limit:g} s ({self._step})"
            ) from None
        except EmgDeviceError:
            await self._release()  # what the attempt left half-made
            raise
        if self._stopping:  # stopped meanwhile: this link is let go
            await self._release()
            return
        self.status.state = "streaming"
        self._notify("streaming", self.address)
        await self._read_battery()

    async def _start_link(self) -> None:
        """A new link: connect, subscribe and send the start commands. Its callbacks act only
        while it is the stream's link: one given up may still call them, or go on after it
        was given up (a stack that does not answer may not answer the cancellation)."""
        self._dropped.clear()
        link = self.radio.link(self.address)
        self._link = link  # released if this attempt is given up half-way

        def step(doing: str) -> None:
            if link is self._link:
                self._step = doing

        def dropped() -> None:
            if link is self._link:
                self._on_disconnect()

        def notified(uuid: str, payload: bytes) -> None:
            if link is self._link:
                self._on_notification(uuid, payload)

        step("connecting")
        await link.connect(dropped)
        step("reading the firmware version")
        await self._read_firmware_version(link)
        try:
            step("subscribing")
            for uuid in self.profile.notify:
                await link.subscribe(uuid, notified)
            step("sending the start commands")
            if self.profile.control is not None:
                for command in self.profile.start:
                    await link.write(
                        self.profile.control, command, self.profile.write_with_response
                    )
        except EmgDeviceError:
            raise
        except Exception as error:
            raise EmgDeviceError(
                f"{self.name} ({self.address}): could not start streaming with profile "
                f"'{self.profile.name}': {error}"
            ) from error

    async def _read_battery(self) -> None:
        """Read the battery level (one byte, percent) if the profile has one; a sensor that
        does not answer is simply not shown with a battery."""
        self._battery_due = self.clock() + BATTERY_EVERY_S
        uuid, link = self.profile.battery, self._link
        if uuid is None or link is None:
            return
        try:
            value = await within(link.read(uuid), RELEASE_S)
        except Exception:  # not offered after all, the link is going, or no answer
            return
        if len(value) >= 1 and value[0] <= 100:
            self.status.battery_percent = value[0]
            self._notify("battery", str(value[0]))

    async def _read_firmware_version(self, link: SensorLink) -> None:
        """Sensors whose packet format depends on their firmware (the Ganglion: '3...' is
        firmware 3) name the characteristic that tells it (``extra`` of the profile,
        ``software_revision_characteristic``); the decoder is set to it before streaming."""
        uuid = self.profile.extra.get("software_revision_characteristic")
        if not isinstance(uuid, str) or not hasattr(self.decoder, "firmware"):
            return
        try:
            answer = await within(link.read(full_uuid(uuid)), RELEASE_S)
            text = answer.decode("ascii", "replace").strip()
        except Exception:  # not offered, or no answer: keep the profile's firmware
            return
        if text[:1] in ("2", "3") and text[:1] != str(self.decoder.firmware):
            self.decoder.firmware = int(text[:1])
            self.decoder.reset()
            self._notify("firmware", f"firmware {text}")

    def _notify(self, state: str, detail: str) -> None:
        if self._stopping and state != "stopped":  # whoever listened is going
            return
        if self.on_status is not None:
            self.on_status(self.name, state, detail)

    async def run(self) -> None:
        """Decode notifications until :meth:`stop`; reconnect after every drop."""
        while not self._stopping:
            get = asyncio.ensure_future(self._queue.get())
            dropped = asyncio.ensure_future(self._dropped.wait())
            try:
                timeout = max(0.0, self._battery_due - self.clock())
                done, _ = await asyncio.wait(
                    {get, dropped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:  # cancelled while waiting: leave no task behind
                for waiter in (get, dropped):
                    if not waiter.done():
                        waiter.cancel()
            if self._stopping:  # stopped meanwhile: whoever took the samples is gone
                return
            if not done:  # notifications are queued meanwhile, stamped on arrival
                await self._read_battery()
                continue
            if get in done:
                self._decode(*get.result())
                self.decode_queued()
                continue
            self.decode_queued()  # what arrived before the drop, with the old state
            if not self._stopping:
                await self._reconnect()

    def decode_queued(self) -> None:
        """Decode the notifications received and not decoded yet (a stop hands their samples
        over too: :meth:`emg.sources.ble.BleSource.drain`)."""
        while not self._queue.empty():
            self._decode(*self._queue.get_nowait())

    def _decode(self, arrival: float, uuid: str, payload: bytes) -> None:
        packets = self.decoder.decode(payload, uuid)
        stats = self.decoder.stats
        self.status.packets, self.status.malformed = stats.packets, stats.malformed
        self.status.lost_samples = stats.lost_samples
        if packets:
            self.on_packets(self.name, packets, arrival)

    async def _reconnect(self) -> None:
        self.status.state = "reconnecting"
        self._notify("disconnected", "the link dropped")
        await self._release()  # the dropped link's client, before a new one
        attempt = 0
        while not self._stopping:
            await asyncio.sleep(self.backoff_s[min(attempt, len(self.backoff_s) - 1)])
            attempt += 1
            self.decoder.reset()
            try:
                async with self._connecting:  # the attempt's time counts once it is its turn
                    if self._stopping:
                        return
                    longest = max(self.attempt_s, MAX_ATTEMPT_S)
                    await self.connect(min(self.attempt_s * 2 ** (attempt - 1), longest))
            except EmgDeviceError as error:
                self._notify("reconnecting", f"attempt {attempt}: {error}")
                continue
            if self._stopping:  # stopped while this attempt went on (connect let it go)
                return
            self.status.reconnects += 1
            self._notify("reconnected", f"after {attempt} attempt(s)")
            return

    async def _release(self) -> None:
        """Disconnect the current link, if any, giving up after :data:`RELEASE_S`."""
        link = self._link
        if link is not None:
            with contextlib.suppress(Exception):  # gone already, or the stack does not answer
                await within(link.disconnect(), RELEASE_S)

    async def stop(self) -> None:
        """Send the stop commands (if still connected) and disconnect; each step given up
        after :data:`RELEASE_S` (stopping must end, whatever the stack does)."""
        self._stopping = True
        self._dropped.set()
        link = self._link
        if link is not None and self.profile.control is not None:
            with contextlib.suppress(Exception):  # the link may be gone; stopping must not fail
                for command in self.profile.stop:
                    await within(
                        link.write(self.profile.control, command, self.profile.write_with_response),
                        RELEASE_S,
                    )
        await self._release()
        self.status.state = "stopped"
        self._notify("stopped", "")
