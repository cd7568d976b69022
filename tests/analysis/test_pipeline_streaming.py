"""Streaming == offline for the whole analysis: the same reps, decisions, flags and risks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig, SessionPipeline
from emg.analysis.summary import flag_summary, rep_summary
from emg.sources.synthetic import SynthConfig, generate_session

SESSION = generate_session(
    SynthConfig(
        reps=6,
        lead_ms=(90.0, -100.0, -120.0, 60.0, 80.0, 70.0),
        snr_db=10,
        seed=12,
        fatigue=0.2,
        cramp_rep=4,
        cramp_rise_s=1.5,
        cramp_hold_s=0.5,
        cramp_decay_s=0.5,
        loss=0.005,
    )
)
CONFIG = AnalysisConfig()
OFFLINE = analyze_recording(SESSION.recording, CONFIG)


def _stream(sizes: list[int]) -> tuple[list[dict], list[dict], list[tuple], list]:
    recording = SESSION.recording
    fs = recording.sample_rate
    pipeline = SessionPipeline(recording.channels, fs, CONFIG)
    reps, flags, risks, raw = [], [], [], []
    start, i = 0, 0
    outputs = []
    while start < recording.n_samples:
        size = sizes[i % len(sizes)]
        data = recording.data[start : start + size].astype(np.float64)
        # lost samples (zero-filled) go with the samples, as a live Block carries them
        outputs.append(pipeline.process_array(data, recording.lost[start : start + size]))
        start += size
        i += 1
    outputs.append(pipeline.flush())
    for out in outputs:
        reps += [rep_summary(e.rep, fs) for e in out.reps if e.kind == "completed"]
        raw += [
            (e.rep.ratio, e.rep.levels, e.rep.lead_ms, e.rep.order_margin_ms)
            for e in out.reps
            if e.kind == "completed"
        ]
        flags += [flag_summary(f, fs) for f in out.flags]
        risks += [(r.level, r.reasons, r.at) for r in out.risks]
    return reps, flags, risks, raw


def test_offline_set_has_everything_to_compare() -> None:
    assert len(OFFLINE.reps) == 6
    assert any(f.kind == "hamstring-first" for f in OFFLINE.flags)
    assert any(r.level == "warning" for r in OFFLINE.risks)
    # every order came from a lead, with its uncertainty margin
    assert all(r.order_margin_ms is not None for r in OFFLINE.reps)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(min_value=7, max_value=6000), min_size=1, max_size=4))
def test_any_blocking_gives_the_offline_result(sizes: list[int]) -> None:
    fs = OFFLINE.sample_rate
    reps, flags, risks, raw = _stream(sizes)
    assert reps == [rep_summary(r, fs) for r in OFFLINE.reps]
    assert flags == [flag_summary(f, fs) for f in OFFLINE.flags]
    assert risks == [(r.level, r.reasons, r.at) for r in OFFLINE.risks]
    # unrounded too: the ratio and the lead are bit-identical, not merely close
    assert raw == [(r.ratio, r.levels, r.lead_ms, r.order_margin_ms) for r in OFFLINE.reps]


def test_rep_events_are_snapshots_never_changed_afterwards() -> None:
    """A rep handed out with its order is not changed by the rep's later events."""
    recording = SESSION.recording
    pipeline = SessionPipeline(recording.channels, recording.sample_rate, CONFIG)
    events = []
    for start in range(0, recording.n_samples, 500):
        data = recording.data[start : start + 500].astype(np.float64)
        events += pipeline.process_array(data, recording.lost[start : start + 500]).reps
    events += pipeline.flush().reps
    decided = {e.rep.index: e.rep for e in events if e.kind == "decided"}
    completed = {e.rep.index: e.rep for e in events if e.kind == "completed"}
    assert sorted(decided) == sorted(completed) == [1, 2, 3, 4, 5, 6]
    for index, rep in decided.items():
        # as it stood when its order was decided: still under way, no ratio yet
        assert rep.end is None and rep.completed_at is None and rep.ratio is None
        done = completed[index]
        assert done is not rep and done.end is not None and done.ratio is not None
        assert (done.order, done.lead_ms) == (rep.order, rep.lead_ms)
