"""Bluetooth LE acquisition: several sensors, one stream of Blocks on a common timeline.

Sensors are found by a scan and matched to their profiles, then connected one at a time
(concurrent connects make BlueZ fail with ``InProgress``) and streamed concurrently, one link,
queue and decoder per sensor (:mod:`emg.sources.sensor_stream`). Every decoded packet goes to
the :class:`~emg.devices.stream_assembler.StreamAssembler`, which reconstructs sample times
(jitter and clock drift removed), aligns the sensors on one grid, fills and masks what was lost,
and cuts Blocks. A sensor that drops out is reconnected with backoff while the others, and the
recording, go on.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from emg.block import Block, Channel
from emg.devices.decoding import DecodedPacket
from emg.devices.profiles import SensorProfile
from emg.devices.stream_assembler import StreamAssembler
from emg.errors import EmgDeviceError
from emg.events import Event
from emg.muscles import parse_muscle_name
from emg.sources.radio import Advert, Radio, find_sensor
from emg.sources.sensor_stream import SensorStatus, SensorStream

#: How often silent sensors are checked for (seconds).
POLL_S = 0.01
#: A hold-up of the event loop longer than this (beyond ``POLL_S``) is the host's, not the
#: sensors': time in which nothing could be received does not count as a sensor's silence.
STALL_S = 0.05
#: Pauses before the second and third attempt to connect a sensor (None: give up).
CONNECT_RETRY_S: tuple[float | None, ...] = (1.0, 2.0, None)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SensorChoice:
    """Which sensor carries which muscle.

    Attributes
    ----------
    muscle
        Channel label of its (first) channel, e.g. ``glute`` or ``hamstring_left``.
    wanted
        Advertised name or address of the sensor.
    """

    muscle: str
    wanted: str


@dataclass
class ConnectedSensor:
    """A sensor chosen, matched and about to stream."""

    choice: SensorChoice
    advert: Advert
    profile: SensorProfile
    channels: tuple[Channel, ...]


def parse_sensor_choices(specs: Sequence[str]) -> list[SensorChoice]:
    """``["glute=EMG-01A3", "hamstring=AA:BB:..."]`` -> choices.

    Raises
    ------
    EmgDeviceError
        For a spec without ``=`` or with an unknown muscle.
    """
    choices = []
    for spec in specs:
        muscle, sep, wanted = spec.partition("=")
        if not sep or not muscle.strip() or not wanted.strip():
            raise EmgDeviceError(f"--sensor expects MUSCLE=NAME_OR_ADDRESS, got '{spec}'")
        try:
            label = parse_muscle_name(muscle).label
        except KeyError as error:
            raise EmgDeviceError(f"--sensor {spec}: {error.args[0]}") from None
        choices.append(SensorChoice(label, wanted.strip()))
    return choices


def sensor_channels(label: str, profile: SensorProfile, device: str) -> tuple[Channel, ...]:
    """Channels of one sensor: the first carries ``label``'s muscle; further channels of a
    multi-channel sensor keep the profile's muscle names with the sensor's name appended."""
    first = Channel.from_name(label, device=device)
    extra = []
    for index in range(1, profile.channels):
        muscle = profile.muscles[index] if index < len(profile.muscles) else "emg"
        parsed = parse_muscle_name(muscle)
        extra.append(
            Channel(f"{parsed.label}_{label}_{index + 1}", parsed.muscle, parsed.side, device)
        )
    return (first, *extra)


def resolve_sensors(
    adverts: Iterable[Advert], choices: Sequence[SensorChoice], profiles: Iterable[SensorProfile]
) -> list[ConnectedSensor]:
    """Match every choice to a scanned sensor and its profile.

    Raises
    ------
    EmgDeviceError
        If a sensor was not seen, or the sensors' sample rates differ.
    """
    adverts, profiles = list(adverts), list(profiles)
    found = []
    for choice in choices:
        match = find_sensor(adverts, choice.wanted, profiles)
        if match is None:
            seen = ", ".join(sorted(a.name or a.address for a in adverts)) or "nothing"
            raise EmgDeviceError(
                f"sensor '{choice.wanted}' ({choice.muscle}) not found or has no profile "
                f"(seen: {seen}); wake it (press its button) and check the name with emg scan"
            )
        advert, profile = match
        channels = sensor_channels(choice.muscle, profile, advert.name or advert.address)
        found.append(ConnectedSensor(choice, advert, profile, channels))
    rates = {s.profile.sample_rate for s in found}
    if len(rates) > 1:
        raise EmgDeviceError(
            "the sensors stream at different rates ("
            + ", ".join(f"{s.choice.muscle}: {s.profile.sample_rate:g} Hz" for s in found)
            + "); use sensors of one rate"
        )
    return found


@dataclass
class BleSource:
    """Blocks from several BLE sensors.

    Parameters
    ----------
    radio
        The Bluetooth stack.
    sensors
        The sensors (see :func:`resolve_sensors`).
    block_s
        Block length.
    latency_s
        How long a silent sensor may hold the others back before its part is masked. Time
        in which the host itself was held up (its event loop did not run for longer than
        ``POLL_S + STALL_S``) does not count: what the sensors sent meanwhile is still queued.
    on_event
        Called with disconnect and reconnect events (stream time).
    clock
        Host monotonic clock.
    """

    radio: Radio
    sensors: list[ConnectedSensor]
    block_s: float = 0.02
    latency_s: float = 1.0
    on_event: Callable[[list[Event]], None] | None = None
    clock: Callable[[], float] = time.monotonic
    streams: list[SensorStream] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sample_rate = self.sensors[0].profile.sample_rate
        self.assembler = StreamAssembler(
            [(s.choice.muscle, s.channels) for s in self.sensors],
            self.sample_rate,
            block_s=self.block_s,
            latency_s=self.latency_s,
        )
        self.channels = self.assembler.channels
        self._out: asyncio.Queue[Block] = asyncio.Queue()
        self._drained = False  # drain() was called: packets and statuses are no longer taken
        self._resets: list[str] = []
        self._alive = math.nan  # when the event loop was last seen running (once streaming)

    @property
    def status(self) -> list[SensorStatus]:
        """Connection state and counts per sensor."""
        return [stream.status for stream in self.streams]

    def _observe(self, now: float) -> None:
        """The event loop runs at host time ``now`` (a poll, or a notification's arrival).

        When it has not run for longer than a poll and ``STALL_S`` (a busy machine held it
        up), the assembler is told: notifications queued meanwhile in the Bluetooth stack and
        the socket are arrivals not yet seen, not sensors' silence.
        """
        if now - self._alive > POLL_S + STALL_S:
            self.assembler.pause(self._alive + POLL_S, now)
        if not now <= self._alive:  # also the first time (NaN)
            self._alive = now

    def _on_packets(self, name: str, packets: list[DecodedPacket], arrival: float) -> None:
        if self._drained:
            return
        self._observe(arrival)
        for packet in packets:
            for block in self.assembler.feed(name, packet, arrival):
                self._out.put_nowait(block)
        self._pass_events()

    def _on_status(self, name: str, state: str, detail: str) -> None:
        if self._drained:
            return
        if state == "disconnected":
            for block in self.assembler.link_lost(name, self.clock()):
                self._out.put_nowait(block)
            self._pass_events()
        elif state == "battery" and self.on_event is not None:
            at = self.assembler.emitted / self.sample_rate
            event = Event(
                at,
                "battery",
                f"{name} {detail} %",
                data={"sensor": name, "percent": int(detail)},
            )
            self.on_event([event])
        elif state == "reconnected":
            self.assembler.reset_sensor(name)
            self._pass_events()

    def drain(self) -> list[Block]:
        """The samples received but not yet handed out by :meth:`blocks`, as the stream's
        last Blocks, for a session that is being stopped (Ctrl-C, the window closed).

        They are the Blocks queued for the consumer, then (with the notifications each sensor
        stream had not decoded yet) everything the assembler holds, rendered and padded as at
        the end of a stream: the packets received since the last whole Block (up to
        ``latency_s`` of one sensor, where the other is slower), and a sensor that had
        reconnected but was not yet placed (seconds of samples on a host far behind real
        time). Packets and statuses that come afterwards are not taken. Call it once the
        consumer no longer iterates :meth:`blocks`, before closing it; a second call returns
        nothing.

        Returns
        -------
        list of Block
            Consecutive with the last Block :meth:`blocks` yielded.
        """
        if self._drained:
            return []
        for stream in self.streams:  # notifications received, not yet decoded
            stream.decode_queued()
        self._drained = True
        blocks: list[Block] = []
        while not self._out.empty():
            blocks.append(self._out.get_nowait())
        blocks.extend(self.assembler.close())
        self._pass_events()
        return blocks

    def _pass_events(self) -> None:
        events = [e for e in self.assembler.take_events() if e.kind != "loss"]
        if events and self.on_event is not None:
            self.on_event(events)

    async def blocks(self) -> AsyncIterator[Block]:
        """Connect every sensor (one at a time), then yield Blocks until cancelled; sensors
        that drop out reconnect one at a time as well (two sensors that dropped together
        asked BlueZ at once, and both attempts stalled in the test VM)."""
        tasks: list[asyncio.Task[None]] = []
        connecting = asyncio.Lock()  # reconnects one at a time too
        try:
            for sensor in self.sensors:
                stream = SensorStream(
                    self.radio,
                    sensor.advert.address,
                    sensor.profile,
                    sensor.choice.muscle,
                    self._on_packets,
                    self._on_status,
                    clock=self.clock,
                    connecting=connecting,
                )
                await self._connect(stream)
                self.streams.append(stream)
            self._alive = self.clock()
            tasks = [asyncio.create_task(stream.run()) for stream in self.streams]
            tasks.append(asyncio.create_task(self._poll()))
            while True:
                yield await self._out.get()
                while not self._out.empty():
                    yield self._out.get_nowait()
        finally:
            for task in tasks:
                task.cancel()
            for stream in self.streams:
                await stream.stop()

    async def _connect(self, stream: SensorStream) -> None:
        """Connect one sensor, trying again after a pause when the stack refuses for the
        moment (BlueZ answers "Operation already in progress" while it still tears down a
        link that was just closed)."""
        for wait in CONNECT_RETRY_S:
            try:
                await stream.connect()
                return
            except EmgDeviceError as error:
                if wait is None:
                    raise
                message = f"{stream.name}: could not connect ({error}); trying again"
                logger.warning(message)
                await asyncio.sleep(wait)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            if self._drained:
                return
            now = self.clock()
            self._observe(now)
            for block in self.assembler.poll(now):
                self._out.put_nowait(block)
            self._pass_events()
