"""What the live window shows, driven by the real session on synthetic sets with known truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block, Channel
from emg.events import Event
from emg.session import LiveSession
from emg.sources.synthetic import DEMO_SET, SynthConfig, SyntheticSession, generate_session
from emg.ui.acquisition import display_frame
from emg.ui.live_state import LiveState
from emg.wording import BANNER_TEXT

LEADS = (90.0, 100.0, -110.0, -120.0, -100.0, 95.0, 90.0, 100.0)


def _blocks(session: SyntheticSession, size: int) -> list[Block]:
    recording = session.recording
    return [
        Block(
            recording.data[start : start + size],
            recording.sample_rate,
            float(start) / recording.sample_rate,
            start,
            recording.channels,
            recording.lost[start : start + size],
        )
        for start in range(0, recording.n_samples, size)
    ]


def _play(config: SynthConfig, size: int = 40) -> tuple[SyntheticSession, LiveState, list[int]]:
    """The set through a live session; the state fed as the window feeds it. Returns the
    alerts due after each block too."""
    generated = generate_session(config)
    recording = generated.recording
    state = LiveState(recording.channels, recording.sample_rate)
    session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
    alerts: list[int] = []
    for block in _blocks(generated, size):
        events = session.feed(block)
        assert session.last_output is not None
        state.add_frame(display_frame(block, session.last_output, 3.0))
        state.apply(events)
        alerts.append(state.take_alerts())
    state.apply(session.finish("end of source"))
    return generated, state, alerts


@pytest.fixture(scope="module")
def played() -> tuple[SyntheticSession, LiveState, list[int]]:
    return _play(SynthConfig(reps=8, lead_ms=LEADS, snr_db=15.0, seed=3, loss=0.01))


def test_tiles_show_who_led_by_how_much_and_the_ratio(
    played: tuple[SyntheticSession, LiveState, list[int]],
) -> None:
    generated, state, _ = played
    tiles = list(state.tiles)
    assert [t.index for t in tiles] == list(range(1, 9))
    for tile, truth in zip(tiles, generated.truth["reps"], strict=True):
        expected = "hamstring-first" if truth["lead_ms"] < 0 else "glute-first"
        assert tile.order == expected and tile.complete
        assert tile.lead_ms is not None and abs(tile.lead_ms - truth["lead_ms"]) < 25
        who = "hamstrings" if truth["lead_ms"] < 0 else "glutes"
        assert tile.label == f"{who} first by {abs(tile.lead_ms):.0f} ms"
        assert tile.ratio is not None and tile.ratio > 0
    assert [r for r, _, _ in state.ratios] == list(range(1, 9))


def test_banner_and_one_cue_when_the_hamstrings_keep_leading(
    played: tuple[SyntheticSession, LiveState, list[int]],
) -> None:
    _, state, alerts = played
    # raised at rep 4's decision (2 of the last 3), one cue; cleared after 6 and 7 led by
    # the glutes again, so the banner is gone at the end
    assert sum(alerts) == 1
    assert state.banner == ""
    assert state.raised == {}


def test_banner_text_names_the_reps_while_raised() -> None:
    _, state, alerts = _play(
        SynthConfig(reps=4, lead_ms=(90.0, -110.0, -120.0, -100.0), snr_db=15.0, seed=3)
    )
    assert sum(alerts) == 1
    assert state.banner.startswith(BANNER_TEXT["hamstring-first"])
    assert state.banner.endswith("reps 2, 3, 4")
    assert state.risk_level in ("watch", "warning")
    assert any("hamstrings started" in reason for reason in state.risk_reasons)


def test_traces_thresholds_onsets_and_loss(
    played: tuple[SyntheticSession, LiveState, list[int]],
) -> None:
    generated, state, _ = played
    recording = generated.recording
    fs = recording.sample_rate
    start, envelope = state.envelope.view()
    assert len(envelope) == round(state.span_s * fs) and state.stop == recording.n_samples
    assert np.all(np.isfinite(state.thresholds))
    # the threshold sits between rest and the bursts' envelope
    assert np.all(state.thresholds < np.nanmax(envelope, axis=0) / 3)
    assert np.all(state.thresholds > np.nanpercentile(envelope, 5, axis=0))
    # onsets in the span: those of the truth's last reps, per muscle
    shown = {(round(t, 1), c) for t, c in state.onsets}
    for truth in generated.truth["reps"]:
        for c, muscle in enumerate(("glute", "hamstring")):
            onset = truth[f"{muscle}_onset_s"]
            if onset >= start / fs + 0.2:
                assert any(abs(t - onset) < 0.06 and cc == c for t, cc in state.onsets), (
                    onset,
                    shown,
                )
    # packet loss in the last 10 s, as the mask says
    window = recording.lost[-round(state.loss_window_s * fs) :]
    expected = window.mean(axis=0) * 100
    got = state.loss_percent()
    for channel, value in zip(recording.channels, expected, strict=True):
        assert got[channel.label] == pytest.approx(value)
    assert 0.2 < max(got.values()) < 5


def test_sensor_events_and_marks() -> None:
    channels = (Channel("glute", "glute", device="EMG-1"), Channel("hamstring", "hamstring"))
    state = LiveState(channels, 1000.0)
    assert set(state.sensors) == {"EMG-1", "hamstring"}
    state.apply([Event(1.0, "disconnect", "EMG-1 the link dropped", data={"sensor": "EMG-1"})])
    assert state.sensors["EMG-1"].state == "reconnecting"
    state.apply([Event(2.0, "reconnect", "EMG-1 delivers again", data={"sensor": "EMG-1"})])
    assert state.sensors["EMG-1"].state == "streaming"
    # BLE events name a sensor by the muscle its samples go under
    state.apply([Event(2.5, "battery", "glute 81 %", data={"sensor": "glute", "percent": 81})])
    assert state.sensors["EMG-1"].battery_percent == 81.0 and "glute" not in state.sensors
    state.apply([Event(3.0, "mark", "set 1")])
    assert state.marks == [(3.0, "set 1")]
    state.apply(
        [
            Event(4.0, "cramp-risk", "watch left", data={"level": "watch", "reasons": ["a"],
                                                         "side": "left"}),
            Event(4.0, "cramp-risk", "warning right",
                  data={"level": "warning", "reasons": ["b"], "side": "right"}),
        ]
    )  # fmt: skip
    assert state.risk_level == "warning" and state.risk_reasons == ("b (right)",)


def test_a_rep_whose_glute_was_not_recorded_says_so_and_sounds_nothing() -> None:
    """The glute sensor drops out for good after the third rep of a glute-first set: the
    tiles of the reps after it say the order is unknown because the glute was not recorded,
    and no alert is due (before, they read "hamstrings first" and the banner went up)."""
    generated = generate_session(SynthConfig(reps=6, lead_ms=100.0, snr_db=20.0, seed=3))
    recording = generated.recording
    truth = generated.truth["reps"]
    cut = round(
        (truth[2]["glute_offset_s"] + truth[3]["glute_onset_s"]) / 2 * recording.sample_rate
    )
    recording.data[cut:, 0], recording.lost[cut:, 0] = 0.0, True
    state = LiveState(recording.channels, recording.sample_rate)
    session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
    alerts = 0
    for block in _blocks(generated, 40):
        state.apply(session.feed(block))
        alerts += state.take_alerts()
    state.apply(session.finish("end of source"))
    labels = [tile.label for tile in state.tiles]
    assert labels[3:] == ["order unknown: glute not recorded"] * 3
    assert all(label.startswith("glutes first by") for label in labels[:3])
    assert alerts == 0 and not state.raised


def test_the_filters_settling_is_not_drawn_so_the_traces_keep_the_signals_scale() -> None:
    """The demo set's start-up transient was drawn up to 800 µV, against bursts of about
    60 µV, and the running peak the traces are scaled to squashed the set for 10 s."""
    generated = generate_session(DEMO_SET)
    recording = generated.recording
    config = AnalysisConfig()  # with the notch, as `emg live` runs the demo set
    config = dataclasses.replace(config, chain=dataclasses.replace(config.chain, mains_hz=50.0))
    session = LiveSession(recording.channels, recording.sample_rate, config)
    settle = session.pipeline.chain.settle
    assert 0 < settle < recording.sample_rate  # the band-pass's settling, under a second
    frames = []
    for block in _blocks(generated, 40):
        session.feed(block)
        assert session.last_output is not None
        frames.append(display_frame(block, session.last_output, 3.0, settle))
    filtered = np.concatenate([f.filtered for f in frames])
    envelope = np.concatenate([f.envelope for f in frames])
    assert np.isnan(filtered[:settle]).all() and np.isnan(envelope[:settle]).all()
    assert np.isfinite(filtered[settle:]).all() and np.isfinite(envelope[settle:]).all()
    # the largest sample drawn is the bursts', not the start's
    first_second = np.abs(filtered[settle : round(recording.sample_rate)]).max()
    assert first_second < 0.5 * np.abs(filtered[settle:]).max()


def test_a_channel_stuck_at_one_value_shows_no_signal_while_it_lasts() -> None:
    generated = generate_session(SynthConfig(reps=3, seed=5))
    recording = generated.recording
    fs = recording.sample_rate
    data = recording.data.copy()
    data[round(4.0 * fs) : round(5.0 * fs), 1] = 0.0  # the hamstring's lead comes off for 1 s
    stuck = dataclasses.replace(generated, recording=dataclasses.replace(recording, data=data))
    state = LiveState(recording.channels, fs)
    session = LiveSession(recording.channels, fs, AnalysisConfig())
    shown: list[tuple[float, str]] = []
    for block in _blocks(stuck, 100):
        session.feed(block)
        assert session.last_output is not None
        state.add_frame(display_frame(block, session.last_output, 3.0))
        shown.append((state.time_s, state.banner))
    warned = [t for t, banner in shown if banner]
    label = recording.channels[1].label
    assert all(
        banner == f"No signal from {label}: stuck at one value — check its electrode and lead"
        for _, banner in shown
        if banner
    )
    # from when it is known to be stuck (50 ms) to its end, and not otherwise
    assert warned[0] == pytest.approx(4.05, abs=0.051) and warned[-1] == pytest.approx(
        5.0, abs=0.051
    )
    assert len(warned) == pytest.approx(0.95 * fs / 100, abs=1)
