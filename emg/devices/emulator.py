"""Emulated sensors: a bumble GATT peripheral that behaves like a real sensor of a profile.

It advertises the profile's name and service, offers its characteristics, starts streaming when
it receives the profile's start command (or, for sensors without commands, when a central
subscribes), and sends a synthetic signal encoded exactly as the real sensor would (see
:mod:`emg.devices.encoding`), on a clock of its own. Impairments can be injected: notifications
lost in transit, delivery jitter, a sensor clock running fast or slow, and link drops. It runs
over any bumble transport: an in-memory link (tests), a virtual controller attached to the
operating system's Bluetooth (BlueZ over ``vhci``), or a USB dongle (a laptop becomes a
sensor for demos).

Every sample it sends is logged with its true host time, so tests can check what the receiving
side reconstructs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.devices.encoding import Encoder, Notification, make_encoder
from emg.devices.profiles import SensorProfile, full_uuid
from emg.devices.sample_clock import MAX_DRIFT_PPM
from emg.errors import SettingError

#: The Bluetooth SIG's Battery Service.
BATTERY_SERVICE = full_uuid("180f")


@dataclass(frozen=True)
class Impairments:
    """What goes wrong on purpose.

    Attributes
    ----------
    loss
        Probability that a notification is lost in transit (its samples are counted by the
        sensor, as a real packet lost on air would be).
    jitter_s
        Mean extra delay of a notification (exponential), on top of the sample clock.
    drift_ppm
        The sensor's clock runs this many parts per million fast (negative: slow).
    disconnect_at_s
        Stream times (seconds since the first start) at which the sensor drops the link.
    seed
        Seed of the random generator.
    battery_percent
        Battery level the sensor reports, where its profile has one; it falls by one percent
        every ``battery_drain_s`` seconds of streaming.
    battery_drain_s
        Seconds of streaming per percent of battery.
    """

    loss: float = 0.0
    jitter_s: float = 0.0
    drift_ppm: float = 0.0
    disconnect_at_s: tuple[float, ...] = ()
    seed: int = 0
    battery_percent: int = 87
    battery_drain_s: float = 600.0

    def __post_init__(self) -> None:
        """Refuse impairments that cannot be emulated.

        Raises
        ------
        SettingError
            Naming the field: ``loss`` outside [0, 1), ``jitter_s`` below 0, ``drift_ppm``
            beyond :data:`~emg.devices.sample_clock.MAX_DRIFT_PPM` either way (what a
            receiving :class:`~emg.devices.sample_clock.SampleClock` follows), a
            ``disconnect_at_s`` time below 0; any of them not finite.
        """
        if not 0 <= self.loss < 1:  # also NaN
            raise SettingError(
                "loss", f"must be a probability from 0 to below 1, got {self.loss:g}"
            )
        if not (math.isfinite(self.jitter_s) and self.jitter_s >= 0):
            raise SettingError(
                "jitter_s",
                f"the mean extra delay must be 0 ms or more, got {self.jitter_s * 1000:g} ms",
            )
        if not abs(self.drift_ppm) <= MAX_DRIFT_PPM:
            raise SettingError(
                "drift_ppm",
                f"the clock drift must be from -{MAX_DRIFT_PPM:g} to {MAX_DRIFT_PPM:g} ppm (a "
                f"crystal is within a few hundred; the receiving clock fit follows up to "
                f"{MAX_DRIFT_PPM:g}), got {self.drift_ppm:g}",
            )
        for when in self.disconnect_at_s:
            if not (math.isfinite(when) and when >= 0):
                raise SettingError(
                    "disconnect_at_s", f"a stream time must be 0 s or later, got {when:g}"
                )


@dataclass
class SentLog:
    """Truth about what the sensor sent: one entry per notification's samples.

    ``first_sample`` counts samples from the start of the current stream (as the sensor's own
    counters do; ``starts`` lists where each stream began in this count's history, as indices
    into the entries), ``sample_time`` is the true host time of the entry's first sample and
    ``handed_over`` the host time the emulator handed the notification to its controller (NaN
    when dropped): on a loaded machine the emulator itself can be late, which a real sensor's
    firmware, sending from its timer interrupt, is not.
    """

    first_sample: list[int] = field(default_factory=list)
    n_samples: list[int] = field(default_factory=list)
    sample_time: list[float] = field(default_factory=list)
    dropped: list[bool] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    handed_over: list[float] = field(default_factory=list)

    def times(
        self, sample_rate: float, drift_ppm: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Index and true host time of every sample sent (dropped ones included)."""
        rate = sample_rate * (1 + drift_ppm * 1e-6)
        index = [
            np.arange(f, f + n) for f, n in zip(self.first_sample, self.n_samples, strict=True)
        ]
        times = [
            t + np.arange(n) / rate for t, n in zip(self.sample_time, self.n_samples, strict=True)
        ]
        if not index:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(index), np.concatenate(times)


class EmulatedSensor:
    """One emulated sensor on a bumble device.

    Parameters
    ----------
    device
        A bumble ``Device`` (not yet powered on) for the peripheral.
    profile
        The sensor to behave like.
    signal_uv
        ``(n, channels)`` microvolts to stream, looped.
    name
        Advertised name (default: made to match the profile's first name pattern).
    impairments
        Injected loss, jitter, drift and drops.
    epoch
        Host time of the signal's first sample. Sensors given one epoch play one moment of
        the signal at one time, however much later each starts streaming (as two sensors on
        two muscles do); default: when the sensor is created.
    clock
        Host monotonic clock.
    """

    def __init__(
        self,
        device: Any,
        profile: SensorProfile,
        signal_uv: npt.NDArray[np.float64],
        name: str | None = None,
        impairments: Impairments | None = None,
        epoch: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if signal_uv.ndim != 2 or signal_uv.shape[1] != profile.channels:
            raise ValueError(
                f"signal must be (n, {profile.channels}) for profile '{profile.name}', "
                f"got {signal_uv.shape}"
            )
        self.device, self.profile, self.signal = device, profile, signal_uv
        self.name = name or advertised_name(profile)
        self.impairments = impairments or Impairments()
        self.clock = clock
        self.encoder: Encoder = make_encoder(profile)
        self.log = SentLog()
        self.rng = np.random.default_rng(self.impairments.seed)
        self._characteristics: dict[str, Any] = {}
        self._started = asyncio.Event()
        self._connection: Any = None
        self._sample = 0  # samples since the start of the current stream
        self._signal_start = 0  # signal row of the current stream's first sample
        self._first_start: float | None = None
        self._drops_done = 0
        self._sent_at = 0.0
        self._power_on = clock()
        self.epoch = self._power_on if epoch is None else epoch

    @property
    def rate(self) -> float:
        """The sensor's true sample rate on the host clock (nominal, drifted)."""
        return self.profile.sample_rate * (1 + self.impairments.drift_ppm * 1e-6)

    async def start(self) -> None:
        """Offer the GATT service, power on and advertise."""
        self._build_gatt()
        self.device.on("connection", self._on_connection)
        await self.device.power_on()
        await self._advertise()

    async def _advertise(self) -> None:
        from bumble.core import UUID, AdvertisingData

        entries = [(AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode())]
        services = self.profile.advertised_services or (self.profile.service,)
        entries.append(
            (
                AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                b"".join(bytes(UUID(s)) for s in services[:1]),
            )
        )
        self.device.advertising_data = bytes(AdvertisingData(entries))
        await self.device.start_advertising(
            auto_restart=True, advertising_interval_min=20.0, advertising_interval_max=20.0
        )

    def _build_gatt(self) -> None:
        from bumble.gatt import Characteristic, CharacteristicValue, Service

        by_service: dict[str, list[Any]] = {}
        notify = Characteristic.Properties.NOTIFY | Characteristic.Properties.READ
        for uuid in self.profile.notify:
            char = Characteristic(uuid, notify, Characteristic.READABLE, b"")
            self._characteristics[uuid] = char
            by_service.setdefault(self.profile.service, []).append(char)
        control = self.profile.control
        if control is not None and control not in self._characteristics:
            char = Characteristic(
                control,
                Characteristic.Properties.WRITE
                | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
                | Characteristic.Properties.NOTIFY,
                Characteristic.WRITEABLE,
                CharacteristicValue(write=self._on_command),
            )
            self._characteristics[control] = char
            home = str(self.profile.extra.get("control_service", self.profile.service)).lower()
            by_service.setdefault(home, []).append(char)
        info_uuid = self.profile.extra.get("info")
        info = self.encoder.info()
        if isinstance(info_uuid, str) and info is not None:
            char = Characteristic(
                info_uuid.lower(), Characteristic.Properties.READ, Characteristic.READABLE, info
            )
            by_service.setdefault(self.profile.service, []).append(char)
        if self.profile.battery is not None:  # the standard Battery Service
            char = Characteristic(
                self.profile.battery,
                Characteristic.Properties.READ,
                Characteristic.READABLE,
                CharacteristicValue(read=self._battery_level),
            )
            by_service.setdefault(BATTERY_SERVICE, []).append(char)
        for service, chars in by_service.items():
            self.device.add_service(Service(service, chars))
        if control is None or not self.profile.start:
            for uuid in self.profile.notify:  # no commands: streams once subscribed
                self._characteristics[uuid].on("subscription", self._on_subscription)

    def _battery_level(self, _connection: Any) -> bytes:
        streamed = self.clock() - self._first_start if self._first_start is not None else 0.0
        drained = int(streamed / self.impairments.battery_drain_s)
        return bytes([max(0, min(100, self.impairments.battery_percent - drained))])

    def _on_connection(self, connection: Any) -> None:
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, *_: Any) -> None:
        self._connection = None
        self._started.clear()

    def _on_subscription(self, *_: Any) -> None:
        self._begin()

    def _on_command(self, connection: Any, value: bytes) -> None:
        command = bytes(value)
        answers = self.encoder.answer(command)
        if self.profile.start and command == self.profile.start[-1]:
            self._begin()
        elif self.profile.stop and command == self.profile.stop[0]:
            self._started.clear()
        if answers:
            asyncio.get_running_loop().create_task(self._send(answers))

    def _begin(self) -> None:
        now = self.clock()
        if self._connection is not None:
            self.encoder.use_mtu(int(getattr(self._connection, "att_mtu", 23)))
        if self._first_start is None:
            self._first_start = now
        # the sensor samples from now on, on its own clock, in step with the shared epoch
        self._signal_start = max(0, int(np.ceil((now - self.epoch) * self.rate)))
        first = self.epoch + self._signal_start / self.rate
        self._sample = 0
        self.encoder.start(self._device_time_us(first))
        self.log.starts.append(len(self.log.first_sample))
        self._sent_at = first
        self._started.set()

    def _device_time_us(self, host_time: float) -> int:
        """The sensor's own clock: microseconds since power-on, running at its drifted rate."""
        drift = 1 + self.impairments.drift_ppm * 1e-6
        return round((host_time - self._power_on) * drift * 1e6)

    async def run(self, duration_s: float | None = None) -> None:
        """Stream while started and connected, until ``duration_s`` of streaming."""
        while (
            duration_s is None
            or self._first_start is None
            or (self.clock() - self._first_start < duration_s)
        ):
            await self._started.wait()
            n = self.encoder.samples_per_notification  # fixed by the last START
            first = self._sent_at  # true time of the packet's first sample
            # a sensor sends a packet as soon as its last sample is taken
            await asyncio.sleep(max(0.0, first + (n - 1) / self.rate - self.clock()))
            if not self._started.is_set():
                continue
            await self._emit(n, first)
            self._sent_at = first + n / self.rate
            await self._maybe_drop()

    async def _emit(self, n: int, first_time: float) -> None:
        rows = (self._signal_start + self._sample + np.arange(n)) % len(self.signal)
        notifications = self.encoder.encode(self.signal[rows], self._device_time_us(first_time))
        dropped = bool(self.rng.random() < self.impairments.loss)
        self.log.first_sample.append(self._sample)
        self.log.n_samples.append(n)
        self.log.sample_time.append(first_time)
        self.log.dropped.append(dropped)
        self.log.handed_over.append(math.nan)
        self._sample += n
        if dropped:
            return
        if self.impairments.jitter_s > 0:
            await asyncio.sleep(float(self.rng.exponential(self.impairments.jitter_s)))
        self.log.handed_over[-1] = self.clock()
        await self._send(notifications)

    async def _send(self, notifications: list[Notification]) -> None:
        if self._connection is None:
            return
        for notification in notifications:
            char = self._characteristics.get(notification.characteristic)
            if char is None:
                continue
            with contextlib.suppress(Exception):  # the link may drop between samples
                await self.device.notify_subscribers(char, notification.payload)

    async def _maybe_drop(self) -> None:
        plan = self.impairments.disconnect_at_s
        if self._first_start is None or self._drops_done >= len(plan):
            return
        if self.clock() - self._first_start >= plan[self._drops_done]:
            self._drops_done += 1
            connection = self._connection
            if connection is not None:
                self._started.clear()
                with contextlib.suppress(Exception):
                    await connection.disconnect()


def advertised_name(profile: SensorProfile) -> str:
    """A name that matches the profile's first name pattern (``EMG-*`` -> ``EMG-0001``)."""
    if not profile.name_patterns:
        return profile.name
    pattern = profile.name_patterns[0]
    return pattern.replace("*", "0001").replace("?", "0")
