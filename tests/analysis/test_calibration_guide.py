from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emg.analysis.calibration import mvc_from_recording
from emg.analysis.calibration_guide import (
    CalibrationGuide,
    GuideConfig,
    GuideEvent,
    rms_jumps,
)
from emg.analysis.offline import analyze_recording
from emg.block import Channel
from emg.dsp.chain import ChainConfig
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session, shaped_noise
from emg.wording import FLAT_REMEDY

CHANNELS = (Channel.from_name("glute"), Channel.from_name("hamstring"))

# default timeline at 1 kHz (3 s get-ready before each step):
# quality 0-3 s ready, 3-8 s record; rest 8-11 ready, 11-16 record;
# mvc-glute 16-19 ready, 19-24 push; mvc-hamstring 24-27 ready, 27-32 push
FS = 1000.0


def quiet_stream(seconds: float, fs: float = FS, seed: int = 0, n_channels: int = 2) -> np.ndarray:
    """Electrode noise at rest (5 uV RMS), ``(n, n_channels)``."""
    rng = np.random.default_rng(seed)
    return 5.0 * rng.standard_normal((round(seconds * fs), n_channels))


def add_burst(
    x: np.ndarray, channel: int, start_s: float, stop_s: float, uv: float, fs: float = FS
) -> None:
    """Muscle activity (sEMG spectrum, ``uv`` RMS) on one channel, in place."""
    i0, i1 = round(start_s * fs), round(stop_s * fs)
    x[i0:i1, channel] += uv * shaped_noise(np.random.default_rng(i0), i1 - i0, fs)


def calibration_stream(fs: float = FS, seed: int = 0) -> np.ndarray:
    """Quiet quality check and rest, then a glute and a hamstring push in their windows."""
    x = quiet_stream(40.0, fs, seed)
    add_burst(x, 0, 19.5, 24.0, 300.0, fs)
    add_burst(x, 1, 27.5, 32.0, 200.0, fs)
    return x


def feed(
    guide: CalibrationGuide, x: np.ndarray, block: int, start: int = 0, with_samples: bool = True
) -> list[GuideEvent]:
    events: list[GuideEvent] = []
    for i in range(0, len(x), block):
        chunk = x[i : i + block]
        stop = start + i + len(chunk)
        events += guide.advance(stop, chunk if with_samples else None)
    return events


def summary(events: tuple[GuideEvent, ...] | list[GuideEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind, e.step, e.index) for e in events]


# ------------------------------------------------------------------ order, prompts, ranges


def test_steps_prompts_and_ranges_in_order() -> None:
    guide = CalibrationGuide(CHANNELS, FS)
    assert guide.plan == ("quality", "rest", "mvc-glute", "mvc-hamstring")
    feed(guide, calibration_stream(), block=250)
    phases = [(e.step, e.data["phase"], e.index) for e in guide.history if e.kind == "phase"]
    assert phases == [
        ("quality", "get-ready", 0),
        ("quality", "record", 3000),
        ("rest", "get-ready", 8000),
        ("rest", "record", 11000),
        ("mvc-glute", "get-ready", 16000),
        ("mvc-glute", "push", 19000),
        ("mvc-hamstring", "get-ready", 24000),
        ("mvc-hamstring", "push", 27000),
    ]
    kinds = [e.kind for e in guide.history if e.kind != "phase"]
    assert kinds == ["quality", "step-done", "step-done", "step-done", "step-done", "done"]
    prompts = {(e.step, e.data["phase"]): e.message for e in guide.history if e.kind == "phase"}
    assert "relax" in prompts[("rest", "record")].lower()
    assert "Squeeze your glutes" in prompts[("mvc-glute", "push")]
    assert "bridge and push the hips up" in prompts[("mvc-glute", "push")]
    assert "heel towards your bottom" in prompts[("mvc-hamstring", "push")]
    assert "glute sensor" in prompts[("mvc-glute", "get-ready")]
    assert "hamstring sensor" in prompts[("mvc-hamstring", "get-ready")]
    result = guide.result
    assert result is not None and guide.done
    assert result.rest == (11000, 16000) and result.rest_s == (11.0, 16.0)
    assert result.mvc == {"glute": (19000, 24000), "hamstring": (27000, 32000)}
    assert result.mvc_s == {"glute": (19.0, 24.0), "hamstring": (27.0, 32.0)}
    assert result.contractions == {"glute": ((19000, 24000),), "hamstring": ((27000, 32000),)}
    assert result.quality is not None and result.quality.ok
    assert result.attempts == dict.fromkeys(guide.plan, 1) and result.warnings == ()
    assert result.rest_rms_uv["glute"] == pytest.approx(result.quality.channels[0].rms_uv, rel=0.1)


def test_countdown_and_progress() -> None:
    guide = CalibrationGuide(CHANNELS, FS)
    x = calibration_stream()
    expected = {
        0: ("quality", "get-ready", 3.0, 0.0, 1),
        1500: ("quality", "get-ready", 1.5, 1500 / 8000, 1),
        3000: ("quality", "record", 5.0, 3000 / 8000, 1),
        7999: ("quality", "record", 0.001, 7999 / 8000, 1),
        8000: ("rest", "get-ready", 3.0, 0.0, 2),
        12000: ("rest", "record", 4.0, 4000 / 8000, 2),
        26000: ("mvc-hamstring", "get-ready", 1.0, 2000 / 8000, 4),
    }
    position = 0
    for index, (step, phase, left, progress, number) in sorted(expected.items()):
        guide.advance(index, x[position:index])
        position = index
        status = guide.status
        assert (status.step, status.phase, status.step_number, status.step_count) == (
            step,
            phase,
            number,
            4,
        )
        assert status.seconds_left == pytest.approx(left)
        assert status.progress == pytest.approx(progress)
        assert status.attempt == 1 and status.notice is None and not status.done
    guide.advance(len(x), x[position:])
    done = guide.status
    assert done.done and done.step is None and done.progress == 1.0 and done.seconds_left == 0.0


#: step and phase boundaries of the disturbed-rest stream, where blocks are most likely to break
BOUNDARIES = [3000, 8000, 11000, 16000, 19000, 24000, 27000, 32000, 35000, 40000]
CUTS = st.one_of(
    st.integers(min_value=0, max_value=50000),
    st.sampled_from(BOUNDARIES).flatmap(lambda b: st.integers(b - 2, b + 2)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CUTS, max_size=40))
def test_any_blocking_gives_the_same_ranges_and_decisions(cuts: list[int]) -> None:
    x = STREAM_WITH_A_DISTURBED_REST
    reference = CalibrationGuide(CHANNELS, FS)
    reference.advance(len(x), x)
    guide = CalibrationGuide(CHANNELS, FS)
    position = 0
    for stop in [*sorted(set(cuts)), len(x)]:
        guide.advance(stop, x[position:stop])  # empty blocks included
        position = stop
    assert summary(guide.history) == summary(reference.history)
    assert guide.result is not None and reference.result is not None
    assert guide.result.to_dict() == reference.result.to_dict()
    assert guide.result.rest == (19000, 24000)


@pytest.mark.parametrize("block", [1, 7, 1000, 3001, 50000])
def test_fixed_block_sizes_give_the_same_result(block: int) -> None:
    reference = CalibrationGuide(CHANNELS, FS)
    reference.advance(len(STREAM_WITH_A_DISTURBED_REST), STREAM_WITH_A_DISTURBED_REST)
    guide = CalibrationGuide(CHANNELS, FS)
    feed(guide, STREAM_WITH_A_DISTURBED_REST, block)
    assert summary(guide.history) == summary(reference.history)
    assert guide.result is not None and reference.result is not None
    assert guide.result.to_dict() == reference.result.to_dict()


def disturbed_rest_stream() -> np.ndarray:
    x = quiet_stream(50.0, seed=3)
    add_burst(x, 1, 13.0, 13.6, 60.0)  # a hamstring twitch in the first rest
    # second rest attempt: 16-19 ready, 19-24 record; pushes after it
    add_burst(x, 0, 27.5, 32.0, 300.0)
    add_burst(x, 1, 35.5, 40.0, 200.0)
    return x


STREAM_WITH_A_DISTURBED_REST = disturbed_rest_stream()


def test_indices_alone_give_the_same_ranges_without_checks() -> None:
    guide = CalibrationGuide(CHANNELS, FS)
    for stop in (1, 2999, 3000, 15999, 40000):
        guide.advance(stop)
    result = guide.result
    assert result is not None
    assert result.rest == (11000, 16000)
    assert result.mvc == {"glute": (19000, 24000), "hamstring": (27000, 32000)}
    assert result.quality is None and result.rest_rms_uv == {}
    assert len(result.warnings) == 4 and "not checked" in result.warnings[0]
    assert guide.position == 40000


def test_guide_started_mid_stream() -> None:
    start = 123_457
    guide = CalibrationGuide(CHANNELS, FS, start_index=start)
    feed(guide, calibration_stream(), block=777, start=start)
    result = guide.result
    assert result is not None
    assert result.rest == (start + 11000, start + 16000)
    assert result.mvc["glute"] == (start + 19000, start + 24000)


# ------------------------------------------------------------------ repeats


def test_disturbed_rest_is_repeated() -> None:
    guide = CalibrationGuide(CHANNELS, FS)
    feed(guide, STREAM_WITH_A_DISTURBED_REST, block=512)
    retries = [e for e in guide.history if e.kind == "retry"]
    assert [(e.step, e.index) for e in retries] == [("rest", 16000)]
    assert "moved or tensed up" in retries[0].message and "hamstring" in retries[0].message
    phases = [(e.step, e.data["phase"], e.index) for e in guide.history if e.kind == "phase"]
    assert ("rest", "get-ready", 16000) in phases and ("rest", "record", 19000) in phases
    result = guide.result
    assert result is not None
    assert result.rest == (19000, 24000)
    assert result.attempts["rest"] == 2 and result.warnings == ()
    assert result.mvc == {"glute": (27000, 32000), "hamstring": (35000, 40000)}


def test_rest_disturbed_every_time_is_kept_after_the_repeats() -> None:
    config = GuideConfig(mvc=False, max_repeats=2)
    x = quiet_stream(40.0, seed=4)
    for start in (13.0, 21.0, 29.0):  # one twitch in each of the three rest attempts
        add_burst(x, 0, start, start + 0.5, 60.0)
    guide = CalibrationGuide(CHANNELS, FS, config)
    feed(guide, x, block=1000)
    assert [e.index for e in guide.history if e.kind == "retry"] == [16000, 24000]
    result = guide.result
    assert result is not None
    assert result.rest == (27000, 32000) and result.attempts["rest"] == 3
    assert len(result.warnings) == 1 and "rest: kept after 3 tries" in result.warnings[0]


def test_rms_jump_measure() -> None:
    steady = np.random.default_rng(0).standard_normal((5000, 1))
    assert rms_jumps(steady, 500)[0] < 1.3
    steady[2000:2500] *= 4
    assert rms_jumps(steady, 500)[0] == pytest.approx(4.0, rel=0.15)


def test_failed_quality_check_waits_for_a_fix_and_repeats() -> None:
    x = quiet_stream(40.0, seed=5)
    x[:8000, 1] = 0.0  # hamstring lead unplugged until the end of the first check
    guide = CalibrationGuide(CHANNELS, FS, GuideConfig(mvc=False))
    events = feed(guide, x, block=400)
    quality = [e for e in events if e.kind == "quality"]
    assert [(e.index, e.data["ok"]) for e in quality] == [(8000, False), (23000, True)]
    assert quality[0].data["channels"][1]["problems"][0]["code"] == "flat"
    retry = next(e for e in events if e.kind == "retry")
    assert retry.step == "quality" and FLAT_REMEDY in retry.message
    fix = next(e for e in events if e.kind == "phase" and e.data["phase"] == "fix")
    assert fix.index == 8000 and fix.data["seconds"] == 10.0
    assert FLAT_REMEDY in fix.message and "Signal check next" in fix.message
    # fix 8-18 s, record 18-23 s; rest 23-26 ready, 26-31 record
    result = guide.result
    assert result is not None and result.quality is not None and result.quality.ok
    assert result.rest == (26000, 31000) and result.attempts["quality"] == 2


def test_manual_restart_and_its_limit() -> None:
    guide = CalibrationGuide(CHANNELS, FS, GuideConfig(max_repeats=1))
    x = quiet_stream(60.0, seed=6)
    guide.advance(12000, x[:12000])
    assert guide.status.step == "rest" and guide.can_restart
    events = guide.restart_step("You sat up: lie back and relax.")
    assert [(e.kind, e.index) for e in events] == [("retry", 12000), ("phase", 12000)]
    assert guide.status.notice == "You sat up: lie back and relax."
    assert guide.status.attempt == 2 and guide.status.phase == "get-ready"
    assert not guide.can_restart and guide.restart_step() == []
    guide.advance(20000, x[12000:20000])
    result_rest_start = 12000 + 3000
    guide.advance(result_rest_start + 5000, x[20000 : result_rest_start + 5000])
    assert guide.status.step == "mvc-glute" and guide.status.notice is None


# ------------------------------------------------------------------ MVC


def test_weak_push_is_repeated() -> None:
    x = quiet_stream(50.0, seed=7)
    add_burst(x, 0, 19.5, 24.0, 12.0)  # barely above rest: no maximal contraction
    add_burst(x, 0, 27.5, 32.0, 300.0)  # second try: 24-27 ready, 27-32 push
    add_burst(x, 1, 35.5, 40.0, 200.0)
    guide = CalibrationGuide(CHANNELS, FS)
    feed(guide, x, block=300)
    retry = next(e for e in guide.history if e.kind == "retry")
    assert (retry.step, retry.index) == ("mvc-glute", 24000)
    assert "No strong contraction on the glute sensor" in retry.message
    result = guide.result
    assert result is not None
    assert result.mvc == {"glute": (27000, 32000), "hamstring": (35000, 40000)}


def test_several_pushes_per_muscle() -> None:
    config = GuideConfig(mvc_contractions=3, mvc_contraction_s=3.0, mvc_pause_s=10.0)
    guide = CalibrationGuide(CHANNELS[:1], FS, config)
    assert guide.plan == ("quality", "rest", "mvc-glute")
    x = quiet_stream(60.0, seed=8, n_channels=1)
    for start in (19.0, 32.0, 45.0):  # 16-19 ready, then push, pause, push, pause, push
        add_burst(x, 0, start + 0.5, start + 3.0, 300.0)
    feed(guide, x, block=4096)
    pushes = [e.message for e in guide.history if e.kind == "phase" and e.data["phase"] == "push"]
    assert [p[:11] for p in pushes] == ["Push 1 of 3", "Push 2 of 3", "Push 3 of 3"]
    result = guide.result
    assert result is not None
    assert result.contractions["glute"] == ((19000, 22000), (32000, 35000), (45000, 48000))
    assert result.mvc["glute"] == (19000, 48000)


def test_skip_mvc_in_the_config_and_during_a_push() -> None:
    config = GuideConfig(mvc=False)
    guide = CalibrationGuide(CHANNELS, FS, config)
    assert guide.plan == ("quality", "rest")
    feed(guide, quiet_stream(20.0), block=1000)
    assert guide.result is not None and guide.result.mvc == {}
    assert guide.history[-1].kind == "done" and guide.history[-1].index == 16000

    live = CalibrationGuide(CHANNELS, FS)
    live.advance(20000, calibration_stream()[:20000])
    assert live.status.step == "mvc-glute"
    events = live.skip_mvc()
    assert [e.kind for e in events] == ["skipped", "done"]
    assert live.done and live.plan == ("quality", "rest")
    assert live.result is not None and live.result.mvc == {} and live.result.rest == (11000, 16000)
    assert live.skip_mvc() == [] and live.restart_step() == []


# ------------------------------------------------------------------ the analysis takes it


def test_guide_rest_gives_the_same_onsets_as_the_explicit_rest() -> None:
    session = generate_session(SynthConfig(rest_s=20.0, reps=4, seed=11, fs=1000.0))
    recording = session.recording
    guide = CalibrationGuide(recording.channels, recording.sample_rate, GuideConfig(mvc=False))
    for block in recording.blocks(321):
        guide.advance(block.stop, block.data)
        if guide.done:
            break
    result = guide.result
    assert result is not None and result.quality is not None and result.quality.ok
    from_guide = analyze_recording(recording, result.chain_config(ChainConfig()))
    explicit = analyze_recording(recording, ChainConfig(rest=(11.0, 16.0)))
    assert from_guide.config.rest == (11.0, 16.0)
    assert [(o.channel, o.index) for o in from_guide.onsets] == [
        (o.channel, o.index) for o in explicit.onsets
    ]
    np.testing.assert_array_equal(from_guide.baselines[0].mean, explicit.baselines[0].mean)
    assert from_guide.baselines[0].valid_from == result.rest[1]
    # and they are the right onsets
    glute_onsets = sorted(o.index / 1000.0 for o in from_guide.onsets if o.channel == 0)
    truth = [rep["glute_onset_s"] for rep in session.truth["reps"]]
    assert len(glute_onsets) == len(truth)
    assert np.max(np.abs(np.array(glute_onsets) - truth)) < 0.05


def test_guide_mvc_periods_feed_the_mvc_calibration() -> None:
    x = calibration_stream()
    recording = Recording(x.astype(np.float32), FS, CHANNELS)
    guide = CalibrationGuide(CHANNELS, FS)
    feed(guide, x, block=1024)
    result = guide.result
    assert result is not None
    config = ChainConfig()
    normalisation = result.normalisation(recording, config)
    assert normalisation.method() == ("mvc")
    for group, period in (("glute", (19.0, 24.0)), ("hamstring", (27.0, 32.0))):
        assert normalisation.mvc_uv[group] == mvc_from_recording(recording, group, config, period)
    # the pushes were 300 and 200 uV RMS (the band-pass trims a little)
    assert normalisation.mvc_uv["glute"] == pytest.approx(300.0, rel=0.1)
    assert normalisation.mvc_uv["hamstring"] == pytest.approx(200.0, rel=0.1)


# ------------------------------------------------------------------ storing


def test_to_dict_is_json_ready_and_events_become_session_events() -> None:
    guide = CalibrationGuide(CHANNELS, FS)
    feed(guide, STREAM_WITH_A_DISTURBED_REST, block=2000)
    stored = json.loads(json.dumps(guide.to_dict(), allow_nan=False))
    assert stored["done"] is True and stored["channels"] == ["glute", "hamstring"]
    assert stored["result"]["rest"] == [19000, 24000]
    assert stored["result"]["rest_s"] == [19.0, 24.0]
    assert stored["result"]["mvc_s"] == {"glute": [27.0, 32.0], "hamstring": [35.0, 40.0]}
    assert stored["config"]["rest_s"] == 5.0 and stored["config"]["quality"]["noise_max_uv"] == 20
    assert [e["kind"] for e in stored["events"]].count("retry") == 1
    done = next(e for e in guide.history if e.kind == "step-done" and e.step == "rest")
    event = done.session_event(FS)
    assert event.kind == "calibration" and event.description == "rest step-done"
    assert (event.time_s, event.duration_s) == (19.0, 5.0)


def test_config_validation_and_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 s"):
        GuideConfig(rest_s=1.5)
    with pytest.raises(ValueError, match="mvc_contractions"):
        GuideConfig(mvc_contractions=0)
    with pytest.raises(ValueError, match="push must last"):
        GuideConfig(mvc_contraction_s=0.5)
    with pytest.raises(ValueError, match="quality step"):
        GuideConfig(quality_s=1.0)
    guide = CalibrationGuide(CHANNELS, FS)
    guide.advance(100, np.zeros((100, 2)))
    with pytest.raises(ValueError, match="before the guide's position"):
        guide.advance(50)
    with pytest.raises(ValueError, match="do not cover"):
        guide.advance(200, np.zeros((99, 2)))
    assert dataclasses.replace(GuideConfig(), get_ready_s=0.0).get_ready_s == 0.0


def test_works_at_200_hz() -> None:
    fs = 200.0
    x = calibration_stream(fs=fs, seed=9)
    guide = CalibrationGuide(CHANNELS, fs)
    feed(guide, x, block=17)
    result = guide.result
    assert result is not None and result.quality is not None and result.quality.ok
    assert result.quality.band_hz == (20.0, 90.0)
    assert result.rest == (2200, 3200)
    assert result.mvc == {"glute": (3800, 4800), "hamstring": (5400, 6400)}
