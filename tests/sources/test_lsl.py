"""``--source lsl:NAME``: any LSL EMG stream as a source, on loopback (tests/lsl_loopback.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lsl_loopback import pylsl, ten_second_set, unique_name

from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import settings_from_dict
from emg.block import Block
from emg.cli import main
from emg.commands import live_sources
from emg.errors import EmgDeviceError, EmgInputError
from emg.events import Event
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.sinks.lsl_outlet import LslOutlet
from emg.sources import lsl as lsl_module
from emg.sources.lsl import GridClock, LslSource, lsl_stream_name
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import generate_session

#: Seconds to wait for a stream to be found, to answer, or for its samples, on loopback: only
#: a safety net (finding returns as soon as the stream is seen; a busy machine takes longer).
PATIENCE_S = 60.0


@pytest.fixture(scope="module")
def ten_seconds() -> Recording:
    return generate_session(ten_second_set()).recording


def _outlet(
    name: str,
    labels: list[str],
    rate: float = 1000.0,
    units: list[str] | None = None,
    types: list[str] | None = None,
    fmt: str = "float32",
    stream_type: str = "EMG",
) -> Any:
    info = pylsl.StreamInfo(name, stream_type, len(labels), rate, fmt, f"{name}-src")
    channels = info.desc().append_child("channels")
    for i, label in enumerate(labels):
        node = channels.append_child("channel")
        node.append_child_value("label", label)
        if units is not None:
            node.append_child_value("unit", units[i])
        if types is not None:
            node.append_child_value("type", types[i])
    return pylsl.StreamOutlet(info)


def _analysis(events: list[Event]) -> list[tuple[object, ...]]:
    """What the analysis found: every rep (onsets, lead, order, ratio, levels, when decided
    and completed), every rep decision (when, order, lead), flag and cramp-risk change.

    Not :func:`~emg.analysis.session_events.outcome` as a whole: the detail of a
    ``rep-decided`` or ``sustained`` event is the rep as it stands at the end of the block
    that made it known, so whether it already holds the ratio depends on where the block ends
    (an ``lsl:`` source's blocks are the chunks that arrived, a replay's are 20 ms).
    """
    keys: list[tuple[object, ...]] = []
    for event in events:
        data = event.data
        if event.kind == "rep-decided":
            detail = tuple(data.get(k) for k in ("index", "side", "order", "lead_ms"))
        elif event.kind in ("rep", "flag", "flag-cleared", "cramp-risk"):
            detail = tuple(sorted((k, repr(v)) for k, v in data.items()))
        else:
            continue
        keys.append((round(event.time_s, 6), event.kind, detail))
    return sorted(keys, key=repr)


async def _analyse_lsl(source: LslSource, n_samples: int) -> tuple[LiveSession, list[Block]]:
    session = LiveSession(source.channels, source.sample_rate, AnalysisConfig())
    blocks: list[Block] = []
    session.output_listener = lambda block, output: blocks.append(block)
    await run_session(source.blocks(), session, n_samples / source.sample_rate)
    return session, blocks


def test_analysis_of_the_lsl_stream_equals_that_of_the_synthetic_source(
    ten_seconds: Recording,
) -> None:
    """The toolkit's outlet publishes the synthetic set; ``lsl:`` reads it back. float32
    samples pass through LSL unchanged, lost samples travel as NaN and come back masked, the
    time stamps are regular, so the sample grid is the same and the analysis is identical:
    same reps, orders, leads, ratios, flags and cramp risk, at the same stream times
    (see :func:`_analysis` for what "same" leaves out)."""
    recording = ten_seconds
    name = unique_name("emg-in")
    sink = LslOutlet(recording.channels, recording.sample_rate, name=name)
    try:
        source = LslSource(name, timeout_s=PATIENCE_S)
        assert source.channels == tuple(
            c.__class__(c.label, c.muscle, c.side, device=name) for c in recording.channels
        )
        reference = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
        sink.attach(reference)

        async def both() -> tuple[LiveSession, list[Block]]:
            reading = asyncio.create_task(_analyse_lsl(source, recording.n_samples))
            await run_session(replay_blocks(recording, speed=None), reference)
            return await asyncio.wait_for(reading, PATIENCE_S)

        began = time.monotonic()
        session, blocks = asyncio.run(both())
    finally:
        sink.close()

    assert source.received == recording.n_samples and source.clock.gaps == 0
    data = np.concatenate([b.data for b in blocks])
    lost = np.concatenate([b.lost for b in blocks])
    assert np.array_equal(lost, recording.lost)
    assert np.array_equal(data, recording.data)
    expected = _analysis(reference.events)
    assert _analysis(session.events) == expected
    assert sum(1 for key in expected if key[1] == "rep") == 3
    assert any(key[1] == "flag" for key in expected)
    # t0 on the host's monotonic clock: the first block was stamped "now", while this ran
    # (its last sample; 0.1 s for the estimates of the clocks' offset)
    assert began - 0.1 < blocks[0].t0 + 0.02 < time.monotonic()
    assert np.allclose(np.diff([b.t0 for b in blocks]), [b.n_samples / 2000 for b in blocks[:-1]])


def test_emg_record_from_an_lsl_stream(ten_seconds: Recording, tmp_path: Path) -> None:
    """``emg record --source lsl:NAME`` records every sample of the published set (lost ones
    masked) and finds the same reps, orders, leads and flags as the set's own analysis."""
    recording = ten_seconds
    name = unique_name("emg-cli")
    sink = LslOutlet(recording.channels, recording.sample_rate, name=name)

    def publish() -> None:
        if sink._emg.wait_for_consumers(PATIENCE_S):
            time.sleep(0.2)  # the reader's inlet is connected: push the whole set
            session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
            sink.attach(session)
            asyncio.run(run_session(replay_blocks(recording, speed=None), session))

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        status = main(
            [
                *("record", "--source", f"lsl:{name}", "--duration", "10", "--no-export"),
                *("--out", str(tmp_path / "lsl"), "--scan-timeout", str(PATIENCE_S)),
            ]
        )
    finally:
        publisher.join(PATIENCE_S)
        sink.close()
    assert status == 0
    from_lsl = open_recording(next((tmp_path / "lsl").iterdir()))
    assert from_lsl.metadata["source"] == "lsl"
    assert from_lsl.n_samples == recording.n_samples
    assert np.array_equal(from_lsl.lost, recording.lost)
    assert np.array_equal(from_lsl.data, recording.data)
    settings = settings_from_dict(from_lsl.metadata["analysis"])  # the command's live settings
    reference = LiveSession(recording.channels, recording.sample_rate, settings)
    asyncio.run(run_session(replay_blocks(recording, speed=None), reference))
    assert _analysis(from_lsl.events) == _analysis(reference.events) != []


def test_emg_record_publishes_with_lsl_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``emg record --lsl NAME`` publishes the EMG outlet while recording: every sample as
    recorded (lost ones as NaN), with the channels in the desc."""
    name = unique_name("emg-pub")
    received: dict[str, Any] = {}
    connected, taken = threading.Event(), threading.Event()
    replay = live_sources.replay_blocks

    async def for_the_reader(*args: Any, **kwargs: Any) -> AsyncIterator[Block]:
        # the synthetic set starts once the reader's inlet is open and ends once the reader has
        # it all: what the reader gets does not depend on how soon it connected (nor on how
        # soon it drained the outlet before it was closed)
        await asyncio.to_thread(connected.wait, PATIENCE_S)
        try:
            async for block in replay(*args, **kwargs):
                yield block
        finally:
            await asyncio.to_thread(taken.wait, PATIENCE_S)

    monkeypatch.setattr(live_sources, "replay_blocks", for_the_reader)

    def read() -> None:
        try:
            found = pylsl.resolve_byprop("name", name, minimum=1, timeout=PATIENCE_S)
            if not found:
                return
            inlet = pylsl.StreamInlet(found[0])
            received["info"] = inlet.info(timeout=PATIENCE_S)
            inlet.open_stream(timeout=PATIENCE_S)
            connected.set()
            samples: list[Any] = []
            deadline = time.monotonic() + PATIENCE_S
            while time.monotonic() < deadline and len(samples) < 4 * 2000:
                chunk, _ = inlet.pull_chunk(timeout=0.2, max_samples=4096)
                samples.extend(chunk)
            received["samples"] = np.asarray(samples, dtype=np.float32)
        finally:
            connected.set()  # the recording never waits on a reader that gave up
            taken.set()

    reader = threading.Thread(target=read)
    reader.start()
    status = main(
        [
            *("record", "--source", "synthetic", "--lsl", name, "--duration", "4"),
            *("--speed", "1", "--no-export", "--out", str(tmp_path)),
        ]
    )
    reader.join(PATIENCE_S)
    assert status == 0
    assert received["info"].source_id() == "synthetic-glute+synthetic-hamstring"
    assert received["info"].desc().child("channels").child("channel").child_value("label") == (
        "glute"
    )
    (folder,) = (f for f in tmp_path.iterdir() if f.is_dir())
    recorded = open_recording(folder)
    samples = received["samples"]
    assert samples.shape == (recorded.n_samples, 2) == (4 * 2000, 2)
    assert np.array_equal(np.isnan(samples), recorded.lost)
    assert np.array_equal(samples[~recorded.lost], recorded.data[~recorded.lost])


def test_stream_not_found_lists_the_emg_streams_seen() -> None:
    other = unique_name("emg-other")
    outlet = _outlet(other, ["glute", "hamstring"])
    # the listing is what answered within the short timeout: on a busy machine the other
    # stream may answer too late for one look, so look again until it is in (or give up)
    deadline = time.monotonic() + PATIENCE_S
    while True:
        with pytest.raises(EmgDeviceError) as error:
            LslSource(unique_name("emg-missing"), timeout_s=0.5)
        message = str(error.value)
        if f"'{other}'" in message or time.monotonic() > deadline:
            break
    assert "no LSL stream named 'emg-missing" in message
    assert f"'{other}' (EMG, 2 channels, 1000 Hz" in message
    del outlet


def test_a_stopped_search_ends_at_once_not_when_its_time_is_up() -> None:
    # Ctrl-C cancels the search's task; liblsl's search in the worker thread ended only when
    # its time ran out (up to 600 s), and asyncio.run waited for that thread before exiting
    async def stopped_after_a_moment() -> None:
        search = asyncio.ensure_future(
            lsl_module.open_lsl_source(unique_name("emg-missing"), timeout_s=600.0)
        )
        await asyncio.sleep(0.3)
        search.cancel()
        with pytest.raises(asyncio.CancelledError):
            await search

    began = time.monotonic()
    asyncio.run(stopped_after_a_moment())  # returns once the worker thread has ended
    assert time.monotonic() - began < 60.0  # a slice of 0.5 s, however busy the machine


def test_emg_record_reports_a_missing_stream(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["record", "--source", "lsl:" + unique_name("nope"), "--scan-timeout", "0.3"])
    assert status == 3
    assert "no LSL stream named 'nope-" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("labels", "types", "overrides", "message"),
    [
        (["EMG1", "EMG2"], None, None, "unknown muscle 'EMG1'"),
        (["glute", "hamstring"], ["ACC", "ACC"], None, "no EMG channel found"),
        (["EMG1", "EMG2"], None, {"glute": "EMG9"}, "no channel 'EMG9'"),
    ],
)
def test_a_stream_without_usable_channels_is_a_clear_error(
    labels: list[str], types: list[str] | None, overrides: dict[str, str] | None, message: str
) -> None:
    name = unique_name("emg-bad")
    outlet = _outlet(name, labels, types=types)
    with pytest.raises(EmgInputError) as error:
        LslSource(name, overrides, timeout_s=PATIENCE_S)
    assert message in str(error.value)
    assert f"LSL stream '{name}'" in str(error.value)
    del outlet


def test_string_and_irregular_streams_are_refused() -> None:
    strings = unique_name("emg-strings")
    irregular = unique_name("emg-irregular")
    outlets = [
        _outlet(strings, ["glute"], rate=100.0, fmt="string"),
        _outlet(irregular, ["glute"], rate=0.0),
    ]
    with pytest.raises(EmgInputError, match="irregular rate"):
        LslSource(irregular, timeout_s=PATIENCE_S)
    with pytest.raises(EmgInputError, match="no numeric samples"):
        LslSource(strings, timeout_s=PATIENCE_S)
    assert len(outlets) == 2


def test_channels_by_override_units_scaled_and_gaps_lost() -> None:
    """``--channel`` picks unnamed channels; mV and V become µV; a step in the time stamps
    becomes lost samples; NaN samples are lost samples."""
    name = unique_name("emg-units")
    outlet = _outlet(name, ["EMG1", "EMG2", "EMG3"], units=["mV", "V", "uV"])
    source = LslSource(name, {"glute": "EMG1", "hamstring": "EMG2"}, timeout_s=PATIENCE_S)
    assert [c.label for c in source.channels] == ["glute", "hamstring"]
    t = pylsl.local_clock()
    first = np.tile(np.array([0.5, 0.0001, 7.0], np.float32), (100, 1))
    first[40, 1] = np.nan
    outlet.push_chunk(first, timestamp=t + 0.099)  # 100 samples at 1 kHz, t .. t + 0.099
    outlet.push_chunk(first[:50], timestamp=t + 0.249)  # resumes at t + 0.2: 100 lost
    deadline = time.monotonic() + PATIENCE_S
    blocks: list[Block] = []
    while sum(b.n_samples for b in blocks) < 250 and time.monotonic() < deadline:
        blocks.extend(source.pull())
        time.sleep(0.01)
    source.close()
    del outlet
    data = np.concatenate([b.data for b in blocks])
    lost = np.concatenate([b.lost for b in blocks])
    assert data.shape == (250, 2)
    assert lost[100:200].all() and not lost[:40].any() and not lost[200:240].any()
    assert lost[40].tolist() == [False, True] and lost[240].tolist() == [False, True]
    assert np.allclose(data[:100, 0], 500.0) and np.allclose(data[:40, 1], 100.0)
    assert (data[100:200] == 0).all() and data[40, 1] == 0.0
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.n_samples for b in blocks[:-1]]))


def test_silence_is_a_disconnect_and_samples_again_a_reconnect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lsl_module, "STALL_S", 0.2)
    name = unique_name("emg-stall")
    outlet = _outlet(name, ["glute"], rate=100.0)
    events: list[Event] = []
    source = LslSource(name, timeout_s=PATIENCE_S, on_event=events.extend)

    async def run() -> tuple[int, float]:
        stream = source.blocks()
        outlet.push_chunk(np.zeros((10, 1), np.float32))
        pushed = time.monotonic()
        received = 0
        while received < 10:  # however the chunk arrives
            received += (await asyncio.wait_for(stream.__anext__(), PATIENCE_S)).n_samples
        # a busy machine can hold the chunk up past STALL_S: a silence too, told as one
        before = len(events)
        following = asyncio.ensure_future(stream.__anext__())  # polls through the silence
        deadline = time.monotonic() + PATIENCE_S
        while len(events) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        silent_s = time.monotonic() - pushed
        outlet.push_chunk(np.zeros((10, 1), np.float32))  # samples again
        await asyncio.wait_for(following, PATIENCE_S)
        await stream.aclose()  # type: ignore[attr-defined]
        return before, silent_s

    before, silent_s = asyncio.run(run())
    kinds = [e.kind for e in events]
    assert kinds[:before] == ["disconnect", "reconnect"] * (before // 2)
    assert kinds[before:] == ["disconnect", "reconnect"]
    assert silent_s >= 0.2  # not before STALL_S without a sample
    assert events[before].data["sensor"] == name


def test_a_stopped_stream_hands_over_what_the_inlet_held() -> None:
    """Samples that reached this host's inlet but were not yet yielded when the stream was
    stopped are kept for the session (drain), consecutive with what it had."""
    name = unique_name("emg-drain")
    outlet = _outlet(name, ["glute"], rate=1000.0)
    source = LslSource(name, timeout_s=PATIENCE_S)
    values = np.arange(500, dtype=np.float32)[:, None]

    async def run() -> list[Block]:
        stream = source.blocks()
        outlet.push_chunk(values[:200])
        got: list[Block] = []
        while sum(b.n_samples for b in got) < 200:
            got.append(await asyncio.wait_for(stream.__anext__(), PATIENCE_S))
        outlet.push_chunk(values[200:])
        deadline = time.monotonic() + PATIENCE_S
        while source.inlet.samples_available() < 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await stream.aclose()  # type: ignore[attr-defined]
        return got + source.drain()

    blocks = asyncio.run(run())
    assert source.inlet is None and source.drain() == []
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.n_samples for b in blocks[:-1]]))
    data = np.concatenate([b.data for b in blocks])
    np.testing.assert_array_equal(data, values)


def test_a_stream_whose_inlet_fails_still_stops_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopping must not fail with the inlet: what it held is lost then, but the stop is
    clean and the inlet closed."""
    name = unique_name("emg-drain-fails")
    outlet = _outlet(name, ["glute"], rate=1000.0)
    source = LslSource(name, timeout_s=PATIENCE_S)

    async def run() -> int:
        stream = source.blocks()
        outlet.push_chunk(np.zeros((200, 1), np.float32))
        received = 0
        while received < 200:
            received += (await asyncio.wait_for(stream.__anext__(), PATIENCE_S)).n_samples

        def fails() -> list[Block]:
            raise RuntimeError("liblsl: the stream was lost")

        monkeypatch.setattr(source, "pull", fails)
        await stream.aclose()  # type: ignore[attr-defined]
        return received

    assert asyncio.run(run()) == 200
    assert source.inlet is None and source.drain() == []


def test_grid_clock_smooths_jitter_and_turns_steps_into_gaps() -> None:
    fs = 1000.0
    clock = GridClock(fs, jitter_s=0.02)
    rng = np.random.default_rng(1)
    # chunks of 20 samples stamped on arrival: +-8 ms of jitter, no gap
    indices = []
    for k in range(50):
        stamps = 100.0 + (k * 20 + np.arange(20)) / fs + rng.uniform(-0.008, 0.008)
        indices.append(clock.place(stamps))
    assert np.array_equal(np.concatenate(indices), np.arange(1000))
    assert clock.gaps == 0 and clock.time_of(1000) == pytest.approx(101.0, abs=0.01)
    # 30 ms missing: 30 lost indices
    after = clock.place(101.03 + np.arange(5) / fs)
    assert after.tolist() == [1030, 1031, 1032, 1033, 1034] and clock.gaps == 1
    # the clock jumps back a minute: the grid goes on, re-anchored
    back = clock.place(41.0 + np.arange(3) / fs)
    assert back.tolist() == [1035, 1036, 1037] and clock.resets == 1
    assert clock.time_of(1038) == pytest.approx(41.003)


def test_lsl_stream_name() -> None:
    assert lsl_stream_name("lsl:Trigno EMG") == "Trigno EMG"
    assert lsl_stream_name("synthetic") is None
    with pytest.raises(EmgInputError, match="needs the name"):
        lsl_stream_name("lsl:")


# ---- hostile input: bad time stamps, absurd rates and widths, values beyond any amplifier --


def test_a_far_future_stamp_mid_chunk_is_one_bad_stamp() -> None:
    clock = GridClock(1000.0)
    stamps = 50.0 + np.arange(100) / 1000.0
    stamps[50] += 1e6
    assert np.array_equal(clock.place(stamps), np.arange(100))
    assert (clock.bad_stamps, clock.gaps, clock.jumps, clock.resets) == (1, 0, 0, 0)
    assert clock.time_of(100) == pytest.approx(50.1)


def test_a_far_stamp_ending_a_chunk_waits_for_the_next() -> None:
    clock = GridClock(1000.0)
    first = 50.0 + np.arange(10) / 1000.0
    first[-1] = 1e6
    assert clock.place(first).tolist() == list(range(10))
    assert clock.time_of(10) == pytest.approx(50.01)  # the grid did not move
    assert clock.place(50.01 + np.arange(5) / 1000.0).tolist() == list(range(10, 15))
    assert (clock.bad_stamps, clock.gaps, clock.jumps, clock.resets) == (1, 0, 0, 0)


def test_a_real_far_jump_reanchors_without_filling() -> None:
    clock = GridClock(10.0)
    assert clock.place([1.0]).tolist() == [0]
    # one sample per chunk: the first far stamp waits, the second confirms the new time line
    assert [int(clock.place([t])[0]) for t in (5001.1, 5001.2, 5001.3)] == [1, 2, 3]
    assert (clock.bad_stamps, clock.jumps, clock.gaps) == (1, 1, 0)
    assert clock.time_of(4) == pytest.approx(5001.4)
    # within a chunk a far step is taken at once, and never filled
    assert clock.place(9000.0 + np.arange(3) / 10.0).tolist() == [4, 5, 6]
    assert clock.jumps == 2 and clock.gaps == 0


def test_a_gap_up_to_max_gap_is_still_filled_exactly() -> None:
    clock = GridClock(1000.0)
    clock.place(10.0 + np.arange(10) / 1000.0)
    after = clock.place(13.01 + np.arange(3) / 1000.0)  # 3 s missing
    assert after.tolist() == [3010, 3011, 3012] and clock.gaps == 1


def test_a_lone_outlier_seconds_off_costs_nothing() -> None:
    clock = GridClock(1000.0)
    stamps = 10.0 + np.arange(20) / 1000.0
    stamps[5] += 5.0
    stamps[12] -= 3.0
    assert np.array_equal(clock.place(stamps), np.arange(20))
    assert (clock.bad_stamps, clock.gaps, clock.resets) == (2, 0, 0)


def test_non_finite_stamps_are_placed_by_their_neighbours() -> None:
    clock = GridClock(1000.0)
    leading = clock.place([np.nan, np.inf, 7.0, np.nan, 7.002, -np.inf])
    assert leading.tolist() == [-1, -1, 0, 1, 2, 3]
    assert clock.bad_stamps == 4 and clock.time_of(4) == pytest.approx(7.004)


def test_an_absurd_rate_is_refused_by_the_clock() -> None:
    with pytest.raises(ValueError, match="sample rate must be in"):
        GridClock(1e9)
    with pytest.raises(ValueError, match="sample rate must be in"):
        GridClock(float("nan"))


def test_an_absurd_nominal_rate_is_refused_before_allocating() -> None:
    name = unique_name("emg-fast")
    info = pylsl.StreamInfo(name, "EMG", 1, 1e9, "float32", f"{name}-src")
    outlet = pylsl.StreamOutlet(info, max_buffered=1)
    with pytest.raises(EmgInputError) as error:
        LslSource(name, timeout_s=PATIENCE_S)
    assert str(error.value) == (
        f"LSL stream '{name}': has a nominal rate of 1e+09 Hz, above the 100000 Hz this"
        " toolkit takes (is the sender's rate setting right?)"
    )
    del outlet


def test_ten_thousand_channels_are_one_short_line() -> None:
    name = unique_name("emg-wide")
    outlet = _outlet(name, [f"EMG{i + 1}" for i in range(10_000)], rate=100.0)
    with pytest.raises(EmgInputError) as error:
        LslSource(name, timeout_s=PATIENCE_S)
    assert str(error.value) == (
        f"LSL stream '{name}': has 10000 channels (EMG1, EMG2, EMG3, EMG4, EMG5, ...);"
        " at most 512 are taken"
    )
    del outlet


def test_hostile_samples_and_stamps_never_allocate_or_become_inf() -> None:
    """float64 1e300 becomes a lost sample (never inf), as does 21 V (beyond any amplifier's
    range, though float32 holds it); NaN time stamps and one stamp 10^6 s
    ahead mid-stream cost no sample and allocate nothing."""
    name = unique_name("emg-hostile")
    outlet = _outlet(name, ["glute"], rate=1000.0, fmt="double64")
    source = LslSource(name, timeout_s=PATIENCE_S)
    t = pylsl.local_clock()
    values = np.full((300, 1), 5.0)
    values[10, 0] = 1e300
    values[11, 0] = -1e39
    values[12, 0] = 2.1e7
    stamps = t + np.arange(300) / 1000.0
    stamps[100] = t + 1e6
    stamps[200:205] = np.nan
    outlet.push_chunk(values[:150], timestamp=stamps[:150].tolist())
    outlet.push_chunk(values[150:], timestamp=stamps[150:].tolist())
    deadline = time.monotonic() + PATIENCE_S
    blocks: list[Block] = []
    while sum(b.n_samples for b in blocks) < 300 and time.monotonic() < deadline:
        blocks.extend(source.pull())
        time.sleep(0.01)
    source.close()
    del outlet
    data = np.concatenate([b.data for b in blocks])
    lost = np.concatenate([b.lost for b in blocks])
    assert data.shape == (300, 1) and np.isfinite(data).all()
    assert np.flatnonzero(lost[:, 0]).tolist() == [10, 11, 12]
    assert (data[lost] == 0).all() and (data[~lost] == 5.0).all()
    assert source.clock.bad_stamps == 6 and source.clock.gaps == 0
    assert all(abs(b.t0 - blocks[0].t0 - b.start / 1000.0) < 0.05 for b in blocks)
