from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from emg.devices.profiles import load_profiles
from emg.errors import EmgDeviceError
from emg.sources.radio import Advert, NotificationCallback
from emg.sources.sensor_stream import SensorStream


class FakeLink:
    """A link that remembers what was written and answers reads from a table."""

    def __init__(self, address: str, reads: dict[str, bytes], fail: bool = False) -> None:
        self.address, self.reads, self.fail = address, reads, fail
        self.written: list[tuple[str, bytes]] = []
        self.subscribed: list[str] = []

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        if self.fail:
            raise EmgDeviceError(f"connecting to {self.address}: sensor not found")

    async def subscribe(self, uuid: str, callback: NotificationCallback) -> None:
        self.subscribed.append(uuid)

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        self.written.append((uuid, data))

    async def read(self, uuid: str) -> bytes:
        if uuid not in self.reads:
            raise KeyError(uuid)
        return self.reads[uuid]

    async def disconnect(self) -> None:
        pass


class FakeRadio:
    def __init__(self, reads: dict[str, bytes], fail: bool = False) -> None:
        self.reads, self.fail = reads, fail
        self.links: list[FakeLink] = []

    async def scan(self, timeout: float) -> list[Advert]:
        return []

    def link(self, address: str) -> FakeLink:
        self.links.append(FakeLink(address, self.reads, self.fail))
        return self.links[-1]


REVISION = "00002a28-0000-1000-8000-00805f9b34fb"


@pytest.mark.parametrize(("revision", "firmware"), [(b"2.0.1", 2), (b"3.0.2", 3), (None, 3)])
def test_ganglion_firmware_is_read_at_connect(revision: bytes | None, firmware: int) -> None:
    profile = load_profiles()["ganglion"]
    radio = FakeRadio({REVISION: revision} if revision else {})
    states: list[str] = []
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None, lambda _, state, __: states.append(state)
    )
    asyncio.run(stream.connect())
    assert stream.decoder.firmware == firmware  # type: ignore[attr-defined]
    link = radio.links[0]
    assert link.subscribed == list(profile.notify)
    assert [data for _, data in link.written] == list(profile.start)
    assert states[-1] == "streaming" and ("firmware" in states) == (revision == b"2.0.1")


def test_unreachable_sensor_is_a_clear_error() -> None:
    profile = load_profiles()["emg-stream-v1"]
    stream = SensorStream(FakeRadio({}, fail=True), "AA", profile, "glute", lambda *_: None)
    with pytest.raises(EmgDeviceError, match="sensor not found"):
        asyncio.run(stream.connect())


class BusyRadio(FakeRadio):
    """The stack refuses the first ``refusals`` connects ("Operation already in progress"),
    as BlueZ does while it still tears down a link that was just closed."""

    def __init__(self, refusals: int) -> None:
        super().__init__({})
        self.refusals = refusals

    def link(self, address: str) -> FakeLink:
        link = super().link(address)
        link.fail = len(self.links) <= self.refusals
        return link


@pytest.mark.parametrize(("refusals", "connects"), [(0, True), (2, True), (3, False)])
def test_a_busy_stack_is_asked_again_before_giving_up(
    refusals: int, connects: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emg.sources import ble

    monkeypatch.setattr(ble, "CONNECT_RETRY_S", (0.01, 0.01, None))
    profile = load_profiles()["emg-stream-v1"]
    radio = BusyRadio(refusals)
    adverts = [Advert("EMG-0001", "AA")]
    sensors = ble.resolve_sensors(adverts, ble.parse_sensor_choices(["glute=EMG-0001"]), [profile])
    source = ble.BleSource(radio, sensors)

    async def first_block_or_error() -> None:
        # until connected (a fake link sends no data) or given up, however long that takes
        iterator = source.blocks()
        first = asyncio.ensure_future(iterator.__anext__())
        try:
            while not source.streams and not first.done():
                await asyncio.sleep(0.005)
            if first.done():
                first.result()  # the error that made it give up
        finally:
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await iterator.aclose()

    if connects:
        asyncio.run(first_block_or_error())
        assert len(source.streams) == 1 and len(radio.links) == refusals + 1
    else:
        with pytest.raises(EmgDeviceError, match="sensor not found"):
            asyncio.run(first_block_or_error())
        assert len(radio.links) == 3


class ScriptedRadio(FakeRadio):
    """Links whose connect waits for ``answer(number)`` (0: the first link made); each
    link's disconnect callback and its releases are kept by number."""

    def __init__(self, answer: Callable[[int], Awaitable[object]] | None = None) -> None:
        super().__init__({})
        self.answer = answer
        self.released: list[int] = []
        self.callbacks: dict[int, Callable[[], None]] = {}

    def link(self, address: str) -> FakeLink:
        number, radio = len(self.links), self

        class Link(FakeLink):
            async def connect(self, on_disconnect: Callable[[], None]) -> None:
                radio.callbacks[number] = on_disconnect
                if radio.answer is not None:
                    await radio.answer(number)

            async def disconnect(self) -> None:
                radio.released.append(number)

        self.links.append(Link(address, self.reads))
        return self.links[-1]


def stalling(stalls: set[int]) -> ScriptedRadio:
    """The stack stops answering on the links numbered in ``stalls``: their connect never
    returns, as BlueZ's did on a machine far behind real time."""

    async def answer(number: int) -> None:
        if number in stalls:
            await asyncio.Event().wait()  # never set

    return ScriptedRadio(answer)


def test_a_reconnect_attempt_that_never_answers_is_given_up_and_made_again() -> None:
    profile = load_profiles()["emg-stream-v1"]
    radio = stalling({1, 2})  # the first two reconnect attempts stall
    states: list[tuple[str, str]] = []
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None,
        lambda _, state, detail: states.append((state, detail)),
        backoff_s=(0.0,), attempt_s=0.05,
    )  # fmt: skip

    async def drop_and_wait() -> None:
        await stream.connect()
        running = asyncio.ensure_future(stream.run())
        stream._on_disconnect()  # the sensor drops the link
        while stream.status.reconnects == 0:  # however long the attempts take here
            await asyncio.sleep(0.01)
        await stream.stop()
        await running

    # a stream that waits on a stalled attempt for ever fails here instead of hanging
    asyncio.run(asyncio.wait_for(drop_and_wait(), 60.0))
    assert [s for s, _ in states if s not in ("battery",)] == [
        "streaming", "disconnected", "reconnecting", "reconnecting", "streaming",
        "reconnected", "stopped",
    ]  # fmt: skip
    assert [d for s, d in states if s == "reconnecting"] == [
        "attempt 1: glute (AA): no answer within 0.05 s (connecting)",
        "attempt 2: glute (AA): no answer within 0.1 s (connecting)",  # a slow stack's chance
    ]
    assert stream.status.reconnects == 1 and len(radio.links) == 4
    # the dropped link and both stalled ones were released before the next; the last at stop
    assert radio.released == [0, 1, 2, 3]


class SilentReads(FakeLink):
    """A link whose reads (battery, firmware version) never get an answer."""

    async def read(self, uuid: str) -> bytes:
        await asyncio.Event().wait()  # never set
        return b""


def test_a_battery_reading_that_never_answers_does_not_hold_up_streaming(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from emg.sources import sensor_stream

    monkeypatch.setattr(sensor_stream, "RELEASE_S", 0.05)
    profile = load_profiles()["emg-stream-v1"]
    assert profile.battery is not None
    radio = FakeRadio({})
    radio.link = lambda address: SilentReads(address, {})  # type: ignore[method-assign]
    states: list[str] = []
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None, lambda _, s, __: states.append(s)
    )
    asyncio.run(asyncio.wait_for(stream.connect(), 60.0))
    assert states == ["streaming"] and stream.status.battery_percent is None


def test_nothing_is_passed_on_once_the_stream_is_stopped() -> None:
    """Notifications still queued when the stream is stopped (the session that took them
    has closed) are neither decoded nor passed on, and a reconnect that succeeds after the
    stop says nothing and releases its link."""
    profile = load_profiles()["emg-stream-v1"]
    radio = ScriptedRadio()
    states: list[str] = []
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None,
        lambda _, state, __: states.append(state), backoff_s=(0.0,),
    )  # fmt: skip
    decoded: list[bytes] = []
    stream._decode = lambda arrival, uuid, payload: decoded.append(payload)  # type: ignore[method-assign]

    async def queue_then_stop() -> None:
        await stream.connect()
        running = asyncio.ensure_future(stream.run())
        await asyncio.sleep(0)  # the stream waits for notifications
        stream._on_notification(profile.notify[0], b"\x00" * 20)
        await stream.stop()  # before the stream had its turn
        await running

    asyncio.run(asyncio.wait_for(queue_then_stop(), 60.0))
    assert decoded == [] and states == ["streaming", "stopped"]

    # stopped while a reconnect attempt is under way: that attempt's link is let go
    gate = asyncio.Event()
    radio = ScriptedRadio(lambda _: gate.wait())
    states.clear()
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None,
        lambda _, state, __: states.append(state), backoff_s=(0.0,),
    )  # fmt: skip

    async def stop_during_reconnect() -> None:
        gate.set()  # the first connect goes through
        await stream.connect()
        gate.clear()  # the reconnect's waits for the gate
        running = asyncio.ensure_future(stream.run())
        stream._on_disconnect()
        while len(radio.links) < 2:  # the reconnect attempt has begun
            await asyncio.sleep(0.005)
        await stream.stop()
        gate.set()  # its connect answers only now
        await running

    asyncio.run(asyncio.wait_for(stop_during_reconnect(), 60.0))
    assert stream.status.reconnects == 0 and "reconnected" not in states
    assert states[-1] == "stopped" and radio.released.count(1) == 2  # at stop, and after


def test_sensors_that_drop_out_together_reconnect_one_at_a_time() -> None:
    """Both sensors of a set drop their links at once (the athlete walked off): they
    reconnect one after the other, never asking the stack for two connections at once."""
    profile = load_profiles()["emg-stream-v1"]
    under_way, most = [0], [0]

    async def slow(_: int) -> None:  # connects take a while; the most at once is kept
        under_way[0] += 1
        most[0] = max(most[0], under_way[0])
        await asyncio.sleep(0.02)
        under_way[0] -= 1

    radio = ScriptedRadio(slow)
    lock = asyncio.Lock()
    streams = [
        SensorStream(
            radio, address, profile, name, lambda *_: None, backoff_s=(0.0,), connecting=lock
        )
        for address, name in (("AA", "glute"), ("BB", "hamstring"))
    ]

    async def drop_both() -> None:
        for stream in streams:
            await stream.connect()
        running = [asyncio.ensure_future(stream.run()) for stream in streams]
        for stream in streams:
            stream._on_disconnect()
        while any(stream.status.reconnects == 0 for stream in streams):
            await asyncio.sleep(0.005)
        for stream in streams:
            await stream.stop()
        await asyncio.gather(*running)

    asyncio.run(asyncio.wait_for(drop_both(), 60.0))
    assert [stream.status.reconnects for stream in streams] == [1, 1]
    assert len(radio.links) == 4 and most[0] == 1


def test_a_stack_that_ignores_the_cancellation_is_not_waited_for() -> None:
    """``within`` gives up on an operation that does not end when cancelled (as a release
    through a stack that stopped answering did), instead of waiting for it as
    ``asyncio.wait_for`` does."""
    from emg.sources.sensor_stream import within

    ended = asyncio.Event()
    release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # the cancellation itself is not answered
        ended.set()

    async def give_up() -> bool:
        with pytest.raises(TimeoutError):
            await within(stubborn(), 0.01)
        still_going = not ended.is_set()
        release.set()  # let it end, so that nothing is left behind
        await ended.wait()
        return still_going

    assert asyncio.run(asyncio.wait_for(give_up(), 60.0))


def test_a_link_given_up_cannot_drop_or_feed_the_one_after_it() -> None:
    """The stack answers a link that was given up after all: its disconnect callback and
    its notifications reach nothing (they had torn down the healthy link that replaced it)."""
    profile = load_profiles()["emg-stream-v1"]
    radio = stalling({1})
    states: list[str] = []
    stream = SensorStream(
        radio, "AA", profile, "glute", lambda *_: None,
        lambda _, state, __: states.append(state), backoff_s=(0.0,), attempt_s=0.05,
    )  # fmt: skip

    async def late_answer() -> None:
        await stream.connect()
        running = asyncio.ensure_future(stream.run())
        stream._on_disconnect()
        while stream.status.reconnects == 0:
            await asyncio.sleep(0.01)
        radio.callbacks[1]()  # the stalled link's disconnect, told late
        for _ in range(10):
            await asyncio.sleep(0.01)
        await stream.stop()
        await running

    asyncio.run(asyncio.wait_for(late_answer(), 60.0))
    assert states.count("disconnected") == 1 and stream.status.reconnects == 1
