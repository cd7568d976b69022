"""A channel whose samples stop changing is marked, causally, from the stuck run's
``stuck_run_samples``-th sample on: for any blocking, never on live signal (real recordings
included), and the bridge fills the stretch from the level before it, not the stuck value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.dsp.chain import ChainConfig, SignalChain
from emg.dsp.gaps import LostSampleBridge
from emg.dsp.stuck import StuckRunMarker, stuck_run_samples, stuck_runs
from emg.sources.synthetic import SynthConfig, generate_session

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_samples_are_marked_from_the_runs_nth_sample_on() -> None:
    x = np.array([[1.0, 5.0], [2, 5], [2, 5], [2, 5], [2, 6], [3, 6], [3, 6], [3, 6], [3, 7]])
    marks = StuckRunMarker(2, 3).process(x)
    assert marks is not None
    np.testing.assert_array_equal(np.flatnonzero(marks[:, 0]), [3, 4, 7, 8])
    np.testing.assert_array_equal(np.flatnonzero(marks[:, 1]), [2, 3, 6, 7])
    assert stuck_runs(x[:, 0], 3) == [(1, 5), (5, 9)]
    assert stuck_runs(x[:, 1], 3) == [(0, 4), (4, 8)]
    assert StuckRunMarker(1, 3).process(np.array([[1.0], [2.0], [1.0]])) is None
    # NaN is never equal to itself: never stuck
    assert StuckRunMarker(1, 2).process(np.full((5, 1), np.nan)) is None
    with pytest.raises(ValueError, match="at least 2"):
        StuckRunMarker(1, 1)


def test_the_run_length_is_in_time_but_never_below_forty_samples() -> None:
    rates = (200.0, 250.0, 500.0, 1000.0, 2000.0, 10000.0)
    assert [stuck_run_samples(fs) for fs in rates] == [40, 40, 40, 50, 100, 500]


def test_a_coarse_sensor_at_rest_is_not_called_stuck() -> None:
    # an 8-bit sensor at 200 Hz whose rest noise is half a count (rounded): runs of the same
    # value are common, none as long as a stuck run
    x = np.round(np.random.default_rng(0).normal(0.0, 0.5, 200 * 3600))
    assert stuck_runs(x, stuck_run_samples(200.0)) == []
    assert len(stuck_runs(x, 20)) > 50


def test_a_dropout_neither_counts_towards_a_run_nor_ends_it() -> None:
    # 20 zeros received, 8 lost in transit (zero-filled), 20 more zeros: 40 received, stuck
    # from the 40th on (lost packets during an electrode-off do not cut the stretch up)
    x = np.random.default_rng(2).normal(0, 5, (400, 1))
    x[100:148] = 0.0
    lost = np.zeros(x.shape, bool)
    lost[120:128] = True
    x[200:260] = 0.0
    lost[220:260] = True  # a dropout right after 20 received zeros: never stuck
    chain = SignalChain(ChainConfig(), 200.0, 1)
    out = chain.process_array(x, lost)
    assert out.stuck is not None and np.flatnonzero(out.stuck[:, 0]).tolist() == [147]
    np.testing.assert_array_equal(out.lost, lost | out.stuck)
    assert [tuple(s) for s in out.stuck_stretches] == [(0, 100, 148)]
    assert stuck_runs(np.where(lost, np.nan, x)[:, 0], 40) == [(100, 148)]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=6),
    min_run=st.integers(2, 30),
)
def test_any_blocking_marks_the_same_samples(seed: int, sizes: list[int], min_run: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(0, 0.6, (800, 3)))  # coarse: many short runs
    for c in range(3):  # and a few long ones
        start = int(rng.integers(0, 700))
        x[start : start + int(rng.integers(1, 100)), c] = rng.choice([0.0, 9.0])
    whole = StuckRunMarker(3, min_run).process(x)
    marker, parts, start, i = StuckRunMarker(3, min_run), [], 0, 0
    while start < len(x):
        part = x[start : start + sizes[i % len(sizes)]]
        marks = marker.process(part)
        parts.append(np.zeros(part.shape, bool) if marks is None else marks)
        start, i = start + len(part), i + 1
    expected = np.zeros(x.shape, bool) if whole is None else whole
    np.testing.assert_array_equal(np.concatenate(parts), expected)
    # whole runs, less their first min_run - 1 samples
    for c in range(3):
        marked = np.zeros(len(x), bool)
        for a, b in stuck_runs(x[:, c], min_run):
            marked[a + min_run - 1 : b] = True
        np.testing.assert_array_equal(expected[:, c], marked)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(0, 200), min_size=1, max_size=6).filter(any),
    min_run=st.integers(2, 30),
    loss=st.sampled_from([0.0, 0.01, 0.2]),
)
def test_the_stretches_are_the_whole_runs_for_any_blocking(
    seed: int, sizes: list[int], min_run: int, loss: float
) -> None:
    """What a live session writes as no-signal events is what the summary reports: the runs
    of identical received samples (lost ones neither count nor end a run), for any blocking,
    empty blocks too."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(0, 0.6, (800, 3)))
    for c in range(3):
        start = int(rng.integers(0, 700))
        x[start : start + int(rng.integers(1, 150)), c] = rng.choice([0.0, 9.0])
    lost = rng.random(x.shape) < loss
    start = int(rng.integers(0, 780))
    lost[start : start + int(rng.integers(1, 20)), int(rng.integers(0, 3))] = True
    received = np.where(lost, np.nan, x)
    marker = StuckRunMarker(3, min_run)
    found, marks, start, i = [], [], 0, 0
    while start < len(x):
        part = received[start : start + sizes[i % len(sizes)]]
        got = marker.process(part)
        marks.append(np.zeros(part.shape, bool) if got is None else got)
        found += marker.ended
        start, i = start + len(part), i + 1
    found += marker.flush()
    whole = StuckRunMarker(3, min_run)
    whole.process(received)
    assert found == [*whole.ended, *whole.flush()]  # in the same order, as they became known
    expected = {(c, a, b) for c in range(3) for a, b in stuck_runs(received[:, c], min_run)}
    assert {tuple(s) for s in found} == expected and len(found) == len(expected)
    # marked: each run's received samples from its min_run-th on
    marked = np.zeros(x.shape, bool)
    for c, a, b in expected:
        kept = np.flatnonzero(~lost[a:b, c]) + a
        marked[kept[min_run - 1 :], c] = True
    np.testing.assert_array_equal(np.concatenate(marks), marked)


def _recordings() -> list[tuple[str, np.ndarray, float]]:
    """Real recordings: (name, samples (n, channels), sample rate)."""
    found = []
    for name in ("emg.txt", "emg_1.txt"):
        path = DATA / "biosppy" / name
        if path.exists():
            found.append((name, np.loadtxt(path)[:, None], 1000.0))
    for path in sorted((DATA / "uci_lower_limb").glob("*.txt")):
        rows = [line.split() for line in path.read_text(errors="replace").splitlines()]
        table = [r for r in rows if len(r) == 5 and r[0].lstrip("-").replace(".", "").isdigit()]
        if table:
            found.append((path.name, np.array(table, dtype=float)[:, :4], 1000.0))
    return found


def test_no_live_signal_is_stuck_in_the_real_recordings() -> None:
    recordings = _recordings()
    if not recordings:
        pytest.skip("the real recordings beside the project are not there")
    longest = 0
    for name, x, fs in recordings:
        for c in range(x.shape[1]):
            assert stuck_runs(x[:, c], stuck_run_samples(fs)) == [], name
            runs = stuck_runs(x[:, c], 2)
            longest = max(longest, max((b - a for a, b in runs), default=0))
    # coarse converters repeat values: the threshold stands well clear of the longest run
    assert 5 <= longest <= stuck_run_samples(1000.0) // 3 + 1


def test_a_stuck_stretch_is_filled_from_the_level_before_it() -> None:
    # at a rail 3 mV away: marked after 4 samples, filled with the level before the run
    # (not the rail), so the signal comes back from its own level
    x = np.concatenate([np.full(10, 20.0), np.full(10, 3000.0), np.full(5, 21.0)])[:, None]
    marks = StuckRunMarker(1, 5).process(x)
    assert marks is not None
    out = LostSampleBridge(1, memory=4, held=4).process(x, marks)
    np.testing.assert_array_equal(out[10:14, 0], 3000.0)  # not yet known to be stuck
    np.testing.assert_array_equal(out[14:20, 0], 20.0)
    held = LostSampleBridge(1, memory=4).process(x, marks)  # without held: the rail goes on
    np.testing.assert_array_equal(held[14:20, 0], 3000.0)
    with pytest.raises(ValueError, match="held"):
        LostSampleBridge(1, memory=4, held=-1)


def test_with_a_mains_period_the_cycle_comes_from_before_the_stuck_run() -> None:
    fs, period = 1000.0, 20
    t = np.arange(400)
    mains = 50.0 * np.sin(2 * np.pi * 50.0 * t / fs)
    x = mains.copy()
    x[200:300] = 0.0  # stuck at zero (not lost in transit)
    marks = StuckRunMarker(1, 30).process(x[:, None])
    assert marks is not None and marks[229:300, 0].all() and not marks[:229, 0].any()
    out = LostSampleBridge(1, memory=period, period=period, held=29).process(x[:, None], marks)
    np.testing.assert_allclose(out[229:300, 0], mains[229:300], atol=1e-9)


def test_the_chain_marks_a_stuck_channel_as_not_recorded_for_any_blocking() -> None:
    recording = generate_session(SynthConfig(reps=3, seed=4, fs=1000.0, mains_uv=5.0)).recording
    run = stuck_run_samples(1000.0)

    def streamed(data: np.ndarray, size: int):
        chain = SignalChain(ChainConfig(mains_hz=50.0), 1000.0, 2)
        outs = [chain.process_array(data[s : s + size]) for s in range(0, len(data), size)]
        stuck = np.concatenate(
            [o.stuck if o.stuck is not None else np.zeros(o.filtered.shape, bool) for o in outs]
        )
        lost = np.concatenate(
            [o.lost if o.lost is not None else np.zeros(o.filtered.shape, bool) for o in outs]
        )
        events = [e for o in outs for e in o.events] + chain.flush()
        return stuck, lost, np.concatenate([o.filtered for o in outs]), events

    filtered = {}
    for value in (0.0, 5000.0):  # a lead off at zero, or at a rail
        data = recording.data.astype(np.float64)
        data[4000:5500, 1] = value
        whole = streamed(data, len(data))
        marked = np.flatnonzero(whole[0][:, 1])
        np.testing.assert_array_equal(marked, np.arange(4000 + run - 1, 5500))
        assert not whole[0][:, 0].any()
        np.testing.assert_array_equal(whole[1], whole[0])  # nothing else lost
        for size in (1, 333):
            parts = streamed(data, size)
            np.testing.assert_array_equal(parts[0], whole[0])
            np.testing.assert_allclose(parts[2], whole[2], rtol=1e-9, atol=1e-9)
            assert parts[3] == whole[3]
        filtered[value] = whole[2][:, 1]
    # filled from the level before it, the stretch ends alike whatever value the channel
    # stuck at: the rail's step does not come again at its end
    after = slice(5500, 5800)
    assert np.abs(filtered[5000.0][after] - filtered[0.0][after]).max() < 1.0
    assert np.abs(filtered[5000.0][after]).max() < 100.0


def test_samples_lost_in_transit_are_lost_not_stuck() -> None:
    # a BLE dropout arrives zero-filled and marked: as long as any stuck run, it stays "lost"
    # (a rep is then not recorded for the loss, and the report says so)
    x = np.random.default_rng(1).normal(0, 5, (3000, 2))
    lost = np.zeros(x.shape, bool)
    lost[1000:1500, 0] = True
    x[lost] = 0.0
    x[2000:2500, 1] = 0.0  # and a stuck stretch, not marked
    out = SignalChain(ChainConfig(), 1000.0, 2).process_array(x, lost)
    assert out.stuck is not None and out.lost is not None
    assert not out.stuck[:, 0].any()
    np.testing.assert_array_equal(np.flatnonzero(out.stuck[:, 1]), np.arange(2049, 2500))
    np.testing.assert_array_equal(out.lost, lost | out.stuck)
