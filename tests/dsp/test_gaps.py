"""Lost samples are bridged with the mean of the last received ones and shadowed (with a
guard after them) from the onset refinement, for any blocking; a gap just before an onset no
longer drags the onset to it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.dsp.chain import ChainConfig, SignalChain
from emg.dsp.gaps import LostSampleBridge, LostSampleShadow
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


def test_memory_and_guard_are_checked() -> None:
    with pytest.raises(ValueError, match="memory"):
        LostSampleBridge(1, memory=0)
    with pytest.raises(ValueError, match="guard"):
        LostSampleShadow(1, guard=-1)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    memory=st.integers(1, 40),
)
def test_any_blocking_gives_the_same_samples(seed: int, sizes: list[int], memory: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(20.0, 5.0, (900, 3))
    lost = rng.random(x.shape) < 0.05
    lost |= np.roll(lost, 1, axis=0) & (rng.random(x.shape) < 0.7)  # runs, not only singles
    whole = LostSampleBridge(3, memory).process(x, lost)
    bridge, parts, start, i = LostSampleBridge(3, memory), [], 0, 0
    while start < len(x):
        stop = start + sizes[i % len(sizes)]
        part_lost = lost[start:stop]
        parts.append(bridge.process(x[start:stop], part_lost if part_lost.any() else None))
        start, i = stop, i + 1
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(whole[~lost], x[~lost])


def test_the_shadow_covers_each_gap_and_the_guard_after_it_across_blocks() -> None:
    shadow = LostSampleShadow(2, guard=2)
    lost = np.zeros((6, 2), bool)
    lost[1, 0] = lost[5, 1] = True
    mask = shadow.process(lost, 6)
    assert mask is not None
    np.testing.assert_array_equal(mask[:, 0], [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(mask[:, 1], [0, 0, 0, 0, 0, 1])
    # the guard of the gap at the end of the block reaches into the next two samples
    mask = shadow.process(None, 3)
    assert mask is not None
    np.testing.assert_array_equal(mask, [[0, 1], [0, 1], [0, 0]])
    assert shadow.process(None, 4) is None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    guard=st.integers(0, 30),
)
def test_any_blocking_gives_the_same_shadow(seed: int, sizes: list[int], guard: int) -> None:
    rng = np.random.default_rng(seed)
    lost = rng.random((900, 2)) < 0.01
    whole = LostSampleShadow(2, guard).process(lost, len(lost))
    assert whole is not None
    shadow, parts, start, i = LostSampleShadow(2, guard), [], 0, 0
    while start < len(lost):
        part = lost[start : start + sizes[i % len(sizes)]]
        mask = shadow.process(part if part.any() else None, len(part))
        parts.append(np.zeros(part.shape, bool) if mask is None else mask)
        start, i = start + len(part), i + 1
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # by definition: lost, or a lost sample at most ``guard`` samples before
    expected = np.zeros_like(lost)
    for row, column in zip(*np.nonzero(lost), strict=True):
        expected[row : row + guard + 1, column] = True
    np.testing.assert_array_equal(whole, expected)


def _hamstring_onset_errors_ms(mark_lost: bool, gaps: bool) -> np.ndarray:
    """Onset errors (detected - true, ms) of the hamstring with a 10 ms gap 20-140 ms before
    each of its onsets: a BLE packet lost while the muscle is still at rest."""
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
        for before_ms in range(20, 160, 40):
            x = session.recording.data.astype(np.float64)
            lost = np.zeros(x.shape, bool)
            if gaps:
                for onset in truth:
                    first = round(onset * 1000) - before_ms
                    lost[first : first + 10, 1] = True
            x[lost] = 0.0  # lost samples arrive zero-filled
            chain = SignalChain(ChainConfig(mains_hz=50.0), 1000.0, 2)
            events = chain.process_array(x, lost if mark_lost else None).events + chain.flush()
            onsets = np.array([e.index for e in events if type(e).__name__ == "Onset"])
            found = np.array(
                [e.index for e in events if type(e).__name__ == "Onset" and e.channel == 1]
            )
            assert len(onsets) == 2 * len(truth)
            errors += [1000 * (found[np.argmin(abs(found / 1000 - t))] / 1000 - t) for t in truth]
    return np.array(errors)


def test_a_packet_lost_just_before_an_onset_does_not_make_the_onset_early() -> None:
    clean = _hamstring_onset_errors_ms(mark_lost=True, gaps=False)
    bridged = _hamstring_onset_errors_ms(mark_lost=True, gaps=True)
    zero_filled = _hamstring_onset_errors_ms(mark_lost=False, gaps=True)
    # zero-filled, a gap in a rest signal that sits at some level is a pulse that drags the
    # onset to the gap in a good share of reps: the check can tell
    assert np.mean(zero_filled < -20) > 0.15
    # bridged and shadowed, onsets stay about as accurate as without gaps
    assert np.mean(bridged < -20) <= 0.05 and bridged.min() > -35
    assert np.median(np.abs(bridged)) <= np.median(np.abs(clean)) + 3
    assert np.percentile(np.abs(bridged), 95) <= np.percentile(np.abs(clean), 95) + 10
