"""Lost samples are bridged with the mean of the last received ones (or, with a mains notch,
their last mains cycle), for any blocking, and left out of the onset refinement: a gap just
before an onset no longer drags the onset to it, and one over an onset puts it inside the
gap, never after the crossing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.dsp.chain import ChainConfig, SignalChain
from emg.dsp.gaps import LostSampleBridge, mains_period
from emg.dsp.onset import Onset
from emg.sources.synthetic import SynthConfig, generate_session


def test_each_lost_run_holds_the_mean_of_the_samples_received_before_it() -> None:
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [0.0, 0.0], [0.0, 50.0], [6.0, 0.0]])
    lost = np.zeros(x.shape, bool)
    lost[3:5, 0] = True  # channel 0: rows 3-4
    lost[3, 1] = lost[5, 1] = True  # channel 1: two runs, one sample between them
    out = LostSampleBridge(2, memory=2).process(x, lost)
    np.testing.assert_array_equal(out[:, 0], [1, 2, 3, 2.5, 2.5, 6])
    # the second run's memory reaches over the first run to the samples before it
    np.testing.assert_array_equal(out[:, 1], [10, 20, 30, 25, 50, 40])
    assert x[3, 0] == 0.0  # the input is left as it was


def test_a_gap_at_the_start_of_a_stream_is_zero_then_remembers_across_blocks() -> None:
    bridge = LostSampleBridge(1, memory=3)
    lost = np.array([[True], [True], [False]])
    np.testing.assert_array_equal(
        bridge.process(np.array([[9.0], [9.0], [4.0]]), lost), [[0], [0], [4]]
    )
    np.testing.assert_array_equal(bridge.process(np.array([[8.0]]), None), [[8]])
    out = bridge.process(np.array([[0.0], [7.0]]), np.array([[True], [False]]))
    np.testing.assert_array_equal(out, [[6.0], [7.0]])  # mean of 4 and 8 (before: nothing)


def test_memory_must_be_positive() -> None:
    with pytest.raises(ValueError, match="memory"):
        LostSampleBridge(1, memory=0)
    with pytest.raises(ValueError, match="period"):
        LostSampleBridge(1, memory=10, period=11)


@pytest.mark.parametrize(("fs", "mains_hz"), [(1000.0, 50.0), (1000.0, 60.0), (500.0, 60.0)])
def test_with_a_mains_period_the_mains_goes_on_through_the_gaps(fs: float, mains_hz: float) -> None:
    # mains on an offset, two gaps a few samples apart (a packet lost, one received, another
    # lost), the second running into the next block: each fill is the mains (and offset) as
    # it would have been
    t = np.arange(round(0.4 * fs))
    mains = 300.0 + 40.0 * np.sin(2 * np.pi * mains_hz * t / fs + 0.3)
    x = mains[:, None].copy()
    lost = np.zeros(x.shape, bool)
    lost[round(0.2 * fs) : round(0.25 * fs)] = True
    lost[round(0.255 * fs) : round(0.3 * fs)] = True
    x[lost] = 0.0
    period = mains_period(fs, mains_hz)
    bridge = LostSampleBridge(1, memory=period, period=period)
    cut = round(0.27 * fs)
    out = np.concatenate([bridge.process(x[:cut], lost[:cut]), bridge.process(x[cut:], lost[cut:])])
    np.testing.assert_allclose(out[:, 0], mains, atol=1e-6)
    # too few samples received for a cycle: the mean of those there are
    short = LostSampleBridge(1, memory=20, period=20).process(
        np.array([[2.0], [4.0], [0.0]]), np.array([[False], [False], [True]])
    )
    np.testing.assert_array_equal(short[:, 0], [2.0, 4.0, 3.0])


def test_the_mains_period_is_whole_cycles_of_whole_samples() -> None:
    assert [mains_period(fs, 50.0) for fs in (500.0, 1000.0, 2000.0)] == [10, 20, 40]
    assert [mains_period(fs, 60.0) for fs in (500.0, 1000.0, 2000.0)] == [25, 50, 100]
    assert mains_period(1024.0, 50.0) == 41  # 2 cycles: 40.96 samples, the nearest to whole


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    memory=st.integers(1, 40),
    cycle=st.booleans(),
    held=st.integers(0, 30),
)
def test_any_blocking_gives_the_same_samples(
    seed: int, sizes: list[int], memory: int, cycle: bool, held: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(20.0, 5.0, (900, 3))
    lost = rng.random(x.shape) < 0.05
    lost |= np.roll(lost, 1, axis=0) & (rng.random(x.shape) < 0.7)  # runs, not only singles
    for c in range(3):  # a stuck run, marked from its middle on
        start = int(rng.integers(0, 800))
        x[start : start + 60, c] = rng.choice([0.0, 900.0])
        lost[start + 20 : start + 60, c] = True
    period = max(1, memory // 2) if cycle else None
    whole = LostSampleBridge(3, memory, period, held).process(x, lost)
    bridge, parts, start, i = LostSampleBridge(3, memory, period, held), [], 0, 0
    while start < len(x):
        stop = start + sizes[i % len(sizes)]
        part_lost = lost[start:stop]
        parts.append(bridge.process(x[start:stop], part_lost if part_lost.any() else None))
        start, i = stop, i + 1
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(whole[~lost], x[~lost])


def _hamstring_onset_errors_ms(
    mark_lost: bool, starts_ms: range | None, length_ms: int = 10
) -> np.ndarray:
    """Onset errors (detected - true, ms) of the hamstring with a gap of ``length_ms`` that
    begins at each of ``starts_ms`` relative to each of its onsets (None: no gap)."""
    errors = []
    for seed in range(2):
        session = generate_session(
            SynthConfig(
                reps=6,
                lead_ms=100.0,
                snr_db=15,
                seed=seed,
                mains_uv=8.0,
                artefact_uv=40.0,
                fs=1000.0,
            )
        )
        truth = np.array([rep["hamstring_onset_s"] for rep in session.truth["reps"]])
        for start_ms in starts_ms if starts_ms is not None else [None]:
            x = session.recording.data.astype(np.float64)
            lost = np.zeros(x.shape, bool)
            if start_ms is not None:
                for onset in truth:
                    first = round(onset * 1000) + start_ms
                    lost[first : first + length_ms, 1] = True
            x[lost] = 0.0  # lost samples arrive zero-filled
            chain = SignalChain(ChainConfig(mains_hz=50.0), 1000.0, 2)
            events = chain.process_array(x, lost if mark_lost else None).events + chain.flush()
            onsets = [e for e in events if isinstance(e, Onset)]
            assert len(onsets) == 2 * len(truth)
            assert all(e.index <= e.crossing for e in onsets)
            found = np.array([e.index for e in onsets if e.channel == 1])
            errors += [1000 * (found[np.argmin(abs(found / 1000 - t))] / 1000 - t) for t in truth]
    return np.array(errors)


def test_a_packet_lost_just_before_an_onset_does_not_make_the_onset_early() -> None:
    before = range(-140, 0, 40)  # a BLE packet lost while the muscle is still at rest
    clean = _hamstring_onset_errors_ms(mark_lost=True, starts_ms=None)
    bridged = _hamstring_onset_errors_ms(mark_lost=True, starts_ms=before)
    zero_filled = _hamstring_onset_errors_ms(mark_lost=False, starts_ms=before)
    # zero-filled, a gap in a rest signal that sits at some level is a pulse that drags the
    # onset to the gap in a good share of reps: the check can tell
    assert np.mean(zero_filled < -20) > 0.15
    # bridged (the mains going on through the gap) and left out, onsets stay about as
    # accurate as without gaps
    assert np.mean(bridged < -20) == 0.0 and bridged.min() > -20
    assert np.median(np.abs(bridged)) <= np.median(np.abs(clean)) + 3
    assert np.percentile(np.abs(bridged), 95) <= np.percentile(np.abs(clean), 95) + 10


def test_a_packet_lost_over_an_onset_puts_it_inside_the_gap() -> None:
    """A 20 ms packet lost from 25 ms before to 5 ms after the onset: the onset is somewhere
    in the gap, and is put there (never after its own threshold crossing)."""
    clean = _hamstring_onset_errors_ms(mark_lost=True, starts_ms=None)
    over = _hamstring_onset_errors_ms(mark_lost=True, starts_ms=range(-25, 10, 10), length_ms=20)
    # the gap does not drag the onset early: filled with a level, the gap (mains missing from
    # it) was itself a rise and crossed the threshold, 10 ms before the true onset (median)
    # with the gap 25 ms before it
    assert np.median(over) >= np.median(clean) - 3
    # nor much later: the onset is put inside the gap
    assert np.median(np.abs(over)) <= np.median(np.abs(clean)) + 5
    assert np.percentile(np.abs(over), 95) <= np.percentile(np.abs(clean), 95) + 8


@pytest.mark.parametrize(("fs", "mains_hz"), [(1000.0, 60.0), (2000.0, 50.0)])
def test_with_strong_mains_the_notch_does_not_ring_after_gaps(fs: float, mains_hz: float) -> None:
    # mains 40 x the noise, a 50 ms gap and, 7 ms later, a 20 ms one: the filtered power over
    # the 150 ms after them, in multiples of the rest power before them
    rng = np.random.default_rng(3)
    t = np.arange(round(4 * fs)) / fs
    x = rng.standard_normal((len(t), 1)) * 10 + 300.0
    x += 400.0 * np.sin(2 * np.pi * mains_hz * t + 1.0)[:, None]
    lost = np.zeros(x.shape, bool)
    first, second = round(2 * fs), round(2.057 * fs)
    lost[first : first + round(0.05 * fs)] = True
    lost[second : second + round(0.02 * fs)] = True
    x[lost] = 0.0
    after = slice(second + round(0.02 * fs), second + round(0.17 * fs))

    def power_after(bridge: bool) -> float:
        config = ChainConfig(mains_hz=mains_hz, mains_bridge=bridge)
        filtered = SignalChain(config, fs, 1).process_array(x, lost).filtered[:, 0]
        rest = np.mean(filtered[round(1 * fs) : round(1.9 * fs)] ** 2)
        return float(np.mean(filtered[after] ** 2) / rest)

    assert power_after(bridge=False) > 20  # a level fill: the notch rings
    assert power_after(bridge=True) < 1.5
