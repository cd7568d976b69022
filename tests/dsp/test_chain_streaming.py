"""Streaming == offline: the chain gives the same result for any block size."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import crosstalk_partners, muscle_pairs
from emg.dsp.chain import ChainConfig, SignalChain
from emg.dsp.onset import REFINEMENTS
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session

SESSION = generate_session(
    SynthConfig(
        reps=3,
        lead_ms=(90.0, -100.0, 60.0),
        snr_db=10,
        seed=11,
        mains_uv=5.0,
        artefact_uv=20.0,
        loss=0.01,
    )
).recording


def _run(recording: Recording, config: ChainConfig, sizes: list[int]):
    # glute and hamstring are partners, as the analysis makes them: each one's crosstalk is
    # taken out of the other before an onset is placed, the same for any blocking
    n = len(recording.channels)
    partners = crosstalk_partners(n, muscle_pairs(recording.channels))
    chain = SignalChain(config, recording.sample_rate, n, partners)
    envelopes, filtered, events, mdf = [], [], [], []
    start, i = 0, 0
    while start < recording.n_samples:
        size = sizes[i % len(sizes)]
        lost = recording.lost[start : start + size] if recording.lost.size else None
        out = chain.process_array(recording.data[start : start + size].astype(np.float64), lost)
        envelopes.append(out.envelope)
        filtered.append(out.filtered)
        events += out.events
        mdf.append(out.mdf)
        start += size
        i += 1
    events += chain.flush()
    return np.concatenate(envelopes), np.concatenate(filtered), events, np.concatenate(mdf)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40000), min_size=1, max_size=6),
    detector=st.sampled_from(["rms", "tkeo"]),
    mains=st.sampled_from([None, 50.0]),
    refinement=st.sampled_from(REFINEMENTS),
)
def test_streaming_equals_offline_for_any_block_sizes(
    sizes: list[int], detector: str, mains: float | None, refinement: str
) -> None:
    config = ChainConfig(detector=detector, mains_hz=mains).with_refinement(refinement)
    whole = _run(SESSION, config, [SESSION.n_samples])
    streamed = _run(SESSION, config, sizes)
    np.testing.assert_allclose(streamed[0], whole[0], rtol=1e-9, atol=0)
    np.testing.assert_allclose(streamed[1], whole[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed[3], whole[3], rtol=1e-9, atol=0)
    assert streamed[2] == whole[2]
    assert len(whole[2]) >= 12  # 3 reps x 2 muscles: onsets and bursts


def test_single_sample_blocks_equal_offline_analysis() -> None:
    short = Recording(SESSION.data[:12000], SESSION.sample_rate, SESSION.channels)
    config = ChainConfig()
    offline = analyze_recording(short, config)
    streamed = _run(short, config, [1])
    np.testing.assert_array_equal(streamed[0], offline.envelope)
    assert [e for e in streamed[2] if type(e).__name__ == "Burst"] == offline.bursts


def _run_columns(columns: list[int], config: ChainConfig, size: int):
    chain = SignalChain(config, SESSION.sample_rate, len(columns))
    data = SESSION.data[:, columns]
    outputs = [chain.process_array(data[s : s + size]) for s in range(0, len(data), size)]
    events = [e for out in outputs for e in out.events] + chain.flush()
    envelope = np.concatenate([out.envelope for out in outputs])
    filtered = np.concatenate([out.filtered for out in outputs])
    return envelope, filtered, events


def test_any_number_of_channels_gives_each_channels_own_result() -> None:
    # one, two and three channels (pairs are filtered and summed together as complex
    # numbers): each channel's numbers are those of the channel alone, for any blocking
    config = ChainConfig(mains_hz=50.0)
    alone = [_run_columns([c], config, SESSION.n_samples) for c in (0, 1)]
    for columns in ([1, 0], [0, 1, 1]):
        for size in (SESSION.n_samples, 4999):
            envelope, filtered, events = _run_columns(columns, config, size)
            for k, c in enumerate(columns):
                np.testing.assert_array_equal(envelope[:, k], alone[c][0][:, 0])
                np.testing.assert_array_equal(filtered[:, k], alone[c][1][:, 0])
                own = [dataclasses.replace(e, channel=0) for e in events if e.channel == k]
                assert own == alone[c][2]


def test_a_channel_stuck_at_one_value_has_no_burst_after_its_step() -> None:
    # a lead that comes off leaves the input at one value: filtered to numerical residue
    # (1e-12 uV), on which the adapting threshold fell and found a burst lasting to the end
    data = SESSION.data.astype(np.float64)
    cut = SESSION.n_samples // 2
    data[cut:, 0] = 1234.5
    stuck = dataclasses.replace(SESSION, data=data.astype(np.float32))
    for sizes in ([stuck.n_samples], [997]):
        _, filtered, events, _ = _run(stuck, ChainConfig(), sizes)
        assert np.abs(filtered[-stuck.n_samples // 4 :, 0]).max() < 1e-6  # residue
        onsets = [e.onset for e in events if e.channel == 0 and hasattr(e, "onset")]
        step = round(0.15 * stuck.sample_rate)  # the step itself is a transient
        assert all(onset < cut + step for onset in onsets), [o - cut for o in onsets]
        assert any(onset < cut for onset in onsets)  # the reps before it are found
