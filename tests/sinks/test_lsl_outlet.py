"""The LSL outlet sink: samples, channel metadata and markers, read back by plain pylsl inlets
on loopback (see tests/lsl_loopback.py)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import numpy as np
import pytest
from lsl_loopback import pylsl, ten_second_set, unique_name

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block, Channel
from emg.events import Event
from emg.session import LiveSession, run_session
from emg.sinks.lsl_outlet import MARKER_KINDS, LslOutlet, marker_text
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import generate_session

TWO = (Channel("glute", "glute", device="dev-a"), Channel("hamstring_left", "hamstring", "left"))
#: Seconds to wait for a stream, a connection or samples on loopback: only a safety net (they
#: come at once on an idle machine, later on a busy one).
PATIENCE_S = 60.0


def _inlet(name: str) -> Any:
    found = pylsl.resolve_byprop("name", name, minimum=1, timeout=PATIENCE_S)
    assert found, f"stream {name} not found on loopback"
    inlet = pylsl.StreamInlet(found[0], max_buflen=60)
    inlet.open_stream(timeout=PATIENCE_S)
    return inlet


def _pull_all(
    inlet: Any, want: int, timeout_s: float = PATIENCE_S
) -> tuple[list[Any], list[float]]:
    samples: list[Any] = []
    stamps: list[float] = []
    deadline = time.monotonic() + timeout_s
    while len(stamps) < want and time.monotonic() < deadline:
        chunk, times = inlet.pull_chunk(timeout=0.2, max_samples=4096)
        samples.extend(chunk)
        stamps.extend(times)
    return samples, stamps


def _desc_channels(info: Any) -> list[dict[str, str]]:
    out = []
    node = info.desc().child("channels").child("channel")
    while not node.empty():
        out.append({k: node.child_value(k) for k in ("label", "unit", "type", "muscle", "side")})
        node = node.next_sibling("channel")
    return out


def test_round_trip_to_a_plain_inlet_at_real_time() -> None:
    """10 s of the synthetic set at speed 1: every sample arrives (lost ones as NaN) on a
    regular time grid, with labels and units in the desc; every rep, flag and cramp-risk
    change arrives as a JSON marker at its stream time."""
    recording = generate_session(ten_second_set()).recording
    name = unique_name("emg-out")
    sink = LslOutlet(recording.channels, recording.sample_rate, name=name)
    try:
        emg_inlet, marker_inlet = _inlet(name), _inlet(f"{name}-markers")
        assert sink.has_consumers
        session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
        sink.attach(session)
        first_pushed: list[float] = []  # LSL time once the first block is handed over
        pushing = session.output_listener
        assert pushing is not None

        def noting(block: Block, output: Any) -> None:
            pushing(block, output)
            if not first_pushed:
                first_pushed.append(pylsl.local_clock())

        session.output_listener = noting
        began = pylsl.local_clock()
        asyncio.run(run_session(replay_blocks(recording, speed=1.0), session))
        expected_markers = [e for e in session.events if e.kind in MARKER_KINDS]
        samples, stamps = _pull_all(emg_inlet, recording.n_samples)
        markers, marker_stamps = _pull_all(marker_inlet, len(expected_markers))
        info = emg_inlet.info(timeout=PATIENCE_S)
    finally:
        sink.close()

    assert len(stamps) >= 0.99 * recording.n_samples
    assert len(stamps) == recording.n_samples  # on loopback nothing is lost at all
    data = np.asarray(samples, dtype=np.float32)
    assert np.array_equal(np.isnan(data), recording.lost)
    assert np.array_equal(data[~recording.lost], recording.data[~recording.lost])
    steps = np.diff(np.asarray(stamps))
    assert np.allclose(steps, 1 / recording.sample_rate, atol=1e-6)
    # anchored at the first block, at real time: its last sample is "now" when it is handed
    # over (however long the machine took to get there)
    first_block_s = 39 / recording.sample_rate
    assert began - first_block_s - 1e-6 <= stamps[0] <= first_pushed[0] - first_block_s + 1e-6

    assert info.type() == "EMG" and info.nominal_srate() == recording.sample_rate
    assert info.channel_format() == pylsl.cf_float32
    assert _desc_channels(info) == [
        {"label": "glute", "unit": "microvolts", "type": "EMG", "muscle": "glute", "side": ""},
        {
            "label": "hamstring",
            "unit": "microvolts",
            "type": "EMG",
            "muscle": "hamstring",
            "side": "",
        },
    ]

    received = [Event.from_dict(json.loads(m[0])) for m in markers]
    assert received == expected_markers
    kinds = [e.kind for e in received]
    assert kinds.count("rep") == 3 and kinds.count("rep-decided") == 3
    assert "flag" in kinds
    orders = [e.data["order"] for e in received if e.kind == "rep"]
    assert orders == ["glute-first", "hamstring-first", "hamstring-first"]
    for event, stamp in zip(received, marker_stamps, strict=True):
        assert stamp - stamps[0] == pytest.approx(event.time_s, abs=1e-6)


def test_host_clock_blocks_are_stamped_on_the_lsl_clock() -> None:
    name = unique_name("emg-host")
    sink = LslOutlet(TWO, 1000.0, name=name, host_clock=True, source_id="dev-a+dev-b")
    try:
        inlet = _inlet(name)
        assert inlet.info(timeout=PATIENCE_S).source_id() == "dev-a+dev-b"
        t0 = time.monotonic() - 0.05
        lost = np.zeros((50, 2), dtype=bool)
        lost[10:20, 1] = True
        block = Block(np.ones((50, 2), np.float32), 1000.0, t0, 0, TWO, lost)
        sink.push_block(block)
        sink.push_block(block)  # the same samples again (a calibration replays them): once
        # the next 50 samples: in order after a repeat, were there one, however late
        sink.push_block(Block(np.full((50, 2), 2.0, np.float32), 1000.0, t0 + 0.05, 50, TWO))
        samples, stamps = _pull_all(inlet, 100)
        more, _ = inlet.pull_chunk(timeout=0.0)
    finally:
        sink.close()
    assert len(stamps) == 100 and more == []
    assert np.allclose(np.diff(stamps), 0.001, atol=1e-6)
    offset = pylsl.local_clock() - time.monotonic()
    assert stamps[0] == pytest.approx(t0 + offset, abs=0.005)
    data = np.asarray(samples)
    assert np.isnan(data[10:20, 1]).all() and not np.isnan(data[:, 0]).any()
    assert (data[:50, 0] == 1.0).all() and (data[50:] == 2.0).all()
    desc = _desc_channels(inlet.info(timeout=PATIENCE_S))
    assert desc[1] == {
        "label": "hamstring_left",
        "unit": "microvolts",
        "type": "EMG",
        "muscle": "hamstring",
        "side": "left",
    }


def test_attach_keeps_the_listeners_already_there() -> None:
    seen: list[str] = []
    session = LiveSession(TWO, 1000.0, AnalysisConfig())
    session.listener = lambda events: seen.append("console")
    session.output_listener = lambda block, output: seen.append("window")
    sink = LslOutlet(TWO, 1000.0, name=unique_name("emg-attach"))
    try:
        sink.attach(session)
        sink.attach(session)  # once only
        session.feed(Block(np.zeros((100, 2), np.float32), 1000.0, 5.0, 0, TWO))
        session.note([Event(0.01, "rep-decided", "1 glute-first")])
    finally:
        sink.close()
    assert seen == ["window", "console"]
    assert sink.samples == 100 and sink.markers == 1


def test_pushing_never_blocks_acquisition() -> None:
    """A push that hangs in liblsl holds up only the outlet's thread: queuing returns at
    once, and past the queue's size the oldest blocks are dropped and counted."""
    release = threading.Event()

    class Stuck:
        returned = 0  # pushes that came back from liblsl

        def push_chunk(self, data: Any, timestamp: float) -> None:
            release.wait(PATIENCE_S)  # until the test lets go (the limit: a safety net only)
            release.set()  # once only, so that a queue that waits for it fails, not hangs
            Stuck.returned += 1

        def have_consumers(self) -> bool:
            return False

    sink = LslOutlet(TWO, 1000.0, name=unique_name("emg-stuck"), queue_items=10)
    real = sink._emg
    sink._emg = Stuck()
    for k in range(100):
        sink.push_block(Block(np.zeros((20, 2), np.float32), 1000.0, k * 0.02, k * 20, TWO))
    returned = Stuck.returned
    release.set()
    sink.close()
    del real
    assert returned == 0  # all 100 queued while liblsl held on: none waited for it
    assert sink.samples == 2000
    assert 85 <= sink.dropped <= 90  # 100 blocks, 10 queued, at most one in liblsl's hands


def test_marker_text_is_the_event_as_compact_json() -> None:
    event = Event(
        3.25,
        "rep-decided",
        "2 hamstring-first -110 ms",
        data={"index": np.int64(2), "lead_ms": -110.0, "order": "hamstring-first"},
    )
    text = marker_text(event)
    assert " " not in text.replace("2 hamstring-first -110 ms", "")
    back = Event.from_dict(json.loads(text))
    assert back.kind == "rep-decided" and back.time_s == 3.25
    assert back.data == {"index": 2, "lead_ms": -110.0, "order": "hamstring-first"}
