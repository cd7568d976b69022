"""Reps, onset order, flag and cramp risk against the generator's ground truth."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from emg.analysis.exercises import ExerciseConfig, exercise_preset
from emg.analysis.normalisation import Normalisation
from emg.analysis.offline import OfflineResult, analyze_recording
from emg.analysis.pipeline import AnalysisConfig, SessionPipeline
from emg.analysis.recruitment import RecruitmentTracker, RiskConfig, mdf_drop
from emg.analysis.reps import Rep, RepConfig, RepEvent
from emg.analysis.summary import onset_notes, rep_summary
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, SyntheticSession, generate_session
from emg.validation.grid import ValidationGrid

SEEDS = tuple(range(20))


def _run(
    config: SynthConfig, analysis: AnalysisConfig | None = None
) -> tuple[SyntheticSession, OfflineResult]:
    session = generate_session(config)
    result = analyze_recording(session.recording, analysis or AnalysisConfig(), keep_envelope=False)
    return session, result


def _sets(snr: float, lead: float) -> list[SynthConfig]:
    grid = ValidationGrid(snr_db=(snr,), leads_ms=(lead,), seeds=SEEDS, cramp_rep=0)
    return [config for _, config in grid.sets()]


@pytest.mark.parametrize("snr", [20.0, 10.0])
@pytest.mark.parametrize("lead", [-150.0, -80.0, 80.0, 150.0])
def test_order_accuracy_for_clear_leads(snr: float, lead: float) -> None:
    expected = "hamstring-first" if lead < 0 else "glute-first"
    calls: list[str | None] = []
    for config in _sets(snr, lead):
        _session, result = _run(config)
        assert len(result.reps) == config.reps
        calls.extend(rep.order for rep in result.reps)
    accuracy = calls.count(expected) / len(calls)
    assert accuracy >= 0.99, (accuracy, calls)


@pytest.mark.parametrize("lead", [-80.0, 80.0])
def test_clear_leads_at_5_db_are_never_the_wrong_side(lead: float) -> None:
    # At 5 dB the uncertainty margin (about 9 ms there) turns a few clear leads into
    # "simultaneous" (over 2,000 reps: 96-97 % right), never into the other side.
    expected = "hamstring-first" if lead < 0 else "glute-first"
    calls: list[str | None] = []
    for config in _sets(5.0, lead):
        _session, result = _run(config)
        assert len(result.reps) == config.reps
        calls.extend(rep.order for rep in result.reps)
    assert calls.count(expected) >= 0.93 * len(calls)
    assert set(calls) <= {expected, "simultaneous"}


@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0])
def test_small_leads_never_called_hamstring_first(snr: float) -> None:
    # The lead comes from the detected onsets and both muscles' rising edges, and a side is
    # called only beyond the margin plus the lead's uncertainty (emg.analysis.lead). Over
    # 2,000 reps at -20 ms (seeds 200-399): 0 calls at 20 and 10 dB and 1 at 5 dB (and 1 of
    # 2,000 at 0 ms), where the difference of the detected onsets alone made 2, 9 and 37.
    orders: list[str | None] = []
    for lead in (-20.0, 0.0, 20.0):
        grid = ValidationGrid(snr_db=(snr,), leads_ms=(lead,), seeds=tuple(range(30)), cramp_rep=0)
        for _, config in grid.sets():
            _, result = _run(config)
            assert len(result.reps) == config.reps
            orders.extend(rep.order for rep in result.reps)
    assert len(orders) == 900
    assert orders.count("hamstring-first") == 0
    assert orders.count("simultaneous") >= 0.99 * len(orders)


@pytest.mark.parametrize("lead", [40.0, 80.0])
def test_no_false_flags_on_glute_first_sets(lead: float) -> None:
    for config in _sets(10.0, lead):
        _, result = _run(config)
        assert result.flags == []
        assert all(risk.level == "ok" for risk in result.risks)


@pytest.mark.parametrize("lead", [-80.0, -150.0])
def test_flag_raised_by_third_hamstring_first_rep(lead: float) -> None:
    delays = []
    for config in _sets(10.0, lead):
        session, result = _run(config)
        flag = result.flags[0]
        assert flag.kind == "hamstring-first"
        trigger = next(rep for rep in result.reps if rep.decided_at == flag.at)
        assert trigger.index <= 3
        assert set(flag.reps) <= {1, 2, 3} and len(flag.reps) >= 2
        truth = session.truth["reps"][trigger.index - 1]
        later = max(truth["glute_onset_s"], truth["hamstring_onset_s"])
        delays.append(flag.at / config.fs - later)
    # the flag goes up with the decision of the rep, not at the end of the file
    assert float(np.median(delays)) <= 0.150


def test_decision_delay_after_later_onset() -> None:
    delays = []
    for lead in (-80.0, 80.0, 0.0):
        for config in _sets(10.0, lead)[:8]:
            session, result = _run(config)
            for rep, truth in zip(result.reps, session.truth["reps"], strict=True):
                later = max(truth["glute_onset_s"], truth["hamstring_onset_s"])
                assert rep.decided_at is not None
                delays.append(rep.decided_at / config.fs - later)
    assert 0 < float(np.median(delays)) <= 0.150


@pytest.mark.parametrize("seed", range(5))
def test_cramp_raises_warning_before_its_peak(seed: int) -> None:
    session, result = _run(SynthConfig(cramp_rep=5, snr_db=10, seed=seed))
    cramp = session.truth["cramp"]
    warnings = [r for r in result.risks if r.level == "warning"]
    assert warnings, result.risks
    first = warnings[0].at / result.sample_rate
    assert cramp["start_s"] < first < cramp["peak_s"]
    assert any("after the glutes relaxed" in reason for reason in warnings[0].reasons)


@pytest.mark.parametrize("seed", range(5))
def test_clean_set_stays_ok(seed: int) -> None:
    _, result = _run(SynthConfig(snr_db=10, seed=seed, reps=12))
    assert result.risks == []
    assert result.flags == []


@pytest.mark.parametrize("lead", [40.0, 150.0])
def test_clean_sets_stay_ok_over_many_seeds(lead: float) -> None:
    # A ~1 s burst's median frequency scatters by ~5 % from rep to rep from its finite length
    # alone, so first-3 against last-3 reps differ by ~4.5 % (1 SD) without any fatigue: taken
    # at face value, a 10 % drop came up in ~1 of 30 such sets (600 seeds: 3.5 % at +40 ms,
    # 4.7 % at +150 ms). It must clear its standard error too (0.5 % and 0.2 % of sets).
    for seed in range(30):
        _, result = _run(SynthConfig(snr_db=10, seed=seed, reps=12, lead_ms=lead))
        codes = {code for risk in result.risks for code in risk.codes}
        assert "hamstring-fatigue" not in codes, seed


def test_median_frequency_error_matches_the_rep_to_rep_scatter() -> None:
    deviations, errors = [], []
    for seed in range(10):
        _, result = _run(SynthConfig(snr_db=10, seed=seed, reps=12))
        mdf = np.array([rep.median_frequency_hz["hamstring"] for rep in result.reps])
        se = np.array([rep.median_frequency_se_hz["hamstring"] for rep in result.reps])
        deviations.extend((mdf - mdf.mean()) * np.sqrt(len(mdf) / (len(mdf) - 1)))
        errors.extend(se)
    scatter = float(np.sqrt(np.mean(np.square(deviations))))
    predicted = float(np.sqrt(np.mean(np.square(errors))))
    assert 0.8 < scatter / predicted < 1.25, (scatter, predicted)


def test_rest_spectrum_takes_the_noise_out_of_the_rep_mdf() -> None:
    # at 5 dB the electrode noise's flat spectrum lifts the whole-burst MDF by ~7 Hz
    config = SynthConfig(snr_db=5, seed=0, reps=12)
    clean = dataclasses.replace(config, snr_db=45, noise_uv=config.noise_uv / 100)
    uncorrected = AnalysisConfig(reps=RepConfig(mdf_noise_correction=False))

    def mean_mdf(synth: SynthConfig, analysis: AnalysisConfig | None = None) -> float:
        _, result = _run(synth, analysis)
        return float(np.mean([rep.median_frequency_hz["hamstring"] for rep in result.reps]))

    truth = mean_mdf(clean)
    assert abs(mean_mdf(config) - truth) < 1.5
    assert mean_mdf(config, uncorrected) - truth > 4


def test_rep_mdf_and_error_do_not_depend_on_blocking() -> None:
    # the rest spectrum and the burst spectra come from the history the tracker keeps, whose
    # chunks differ in memory layout with the block size (a run of single samples is
    # C-ordered, larger blocks are not): the sums must not
    session = generate_session(SynthConfig(reps=5, snr_db=5, seed=1, rest_s=1.5))
    recording = session.recording
    offline = analyze_recording(recording, AnalysisConfig())
    pipeline = SessionPipeline(recording.channels, recording.sample_rate, AnalysisConfig())
    reps: list[Rep] = []
    start, sizes = 0, (1,) * 3500 + (8000,)
    for block in itertools.cycle(sizes):
        if start >= recording.n_samples:
            break
        out = pipeline.process_array(recording.data[start : start + block].astype(np.float64))
        reps += [e.rep for e in out.reps if e.kind == "completed"]
        start += block
    reps += [e.rep for e in pipeline.flush().reps if e.kind == "completed"]

    def spectra(found: list[Rep]) -> list[tuple[dict[str, float | None], ...]]:
        return [(r.median_frequency_hz, r.median_frequency_se_hz) for r in found]

    assert len(offline.reps) == 5
    assert spectra(reps) == spectra(offline.reps)


def _rep_event(index: int, mdf: float, se: float) -> RepEvent:
    rep = Rep(index, None, start=index * 6000, end=index * 6000 + 2000)
    rep.median_frequency_hz = {"glute": 100.0, "hamstring": mdf}
    rep.median_frequency_se_hz = {"glute": 5.0, "hamstring": se}
    return RepEvent("completed", rep, rep.start + 2100)


@pytest.mark.parametrize(("se", "raised"), [(1.0, True), (5.0, False)])
def test_fatigue_drop_must_clear_its_error(se: float, raised: bool) -> None:
    # a 12 % drop; its SE is 0.8 % with a 1 Hz error per rep, 3.9 % with 5 Hz (12 - 3.9 < 10)
    mdfs = [100.0] * 3 + [94.0] * 2 + [88.0] * 3
    tracker = RecruitmentTracker(ExerciseConfig(), risk=RiskConfig())
    _, risks = tracker.process([_rep_event(i + 1, m, se) for i, m in enumerate(mdfs)])
    codes = {code for risk in risks for code in risk.codes}
    assert ("hamstring-fatigue" in codes) is raised
    plain = RecruitmentTracker(ExerciseConfig(), risk=RiskConfig(mdf_confidence=0.0))
    _, risks = plain.process([_rep_event(i + 1, m, se) for i, m in enumerate(mdfs)])
    assert risks[-1].codes == ("hamstring-fatigue",)


def test_mdf_drop_error() -> None:
    drop, error = mdf_drop(100.0, 3.0, 80.0, 4.0)
    assert drop == pytest.approx(0.2)
    assert error == pytest.approx(0.8 * np.hypot(0.05, 0.03))


def test_fatigue_is_a_reason_to_watch() -> None:
    _, result = _run(SynthConfig(fatigue=0.3, seed=3, reps=12))
    assert result.risks and result.risks[-1].level == "watch"
    assert result.risks[-1].codes == ("hamstring-fatigue",)
    first, last = result.reps[0], result.reps[-1]
    mdf_first = first.median_frequency_hz["hamstring"]
    mdf_last = last.median_frequency_hz["hamstring"]
    assert mdf_first is not None and mdf_last is not None
    assert 0.6 < mdf_last / mdf_first < 0.85


def test_prone_hip_extension_does_not_flag_hamstring_first() -> None:
    config = SynthConfig(lead_ms=-100.0, snr_db=15, seed=4)
    analysis = AnalysisConfig(exercise=exercise_preset("prone-hip-extension"))
    _, result = _run(config, analysis)
    assert all(rep.order == "hamstring-first" for rep in result.reps)
    assert result.flags == []
    _, hip_thrust = _run(config)
    assert hip_thrust.flags[0].kind == "hamstring-first"


def test_flag_clears_when_glute_first_reps_resume() -> None:
    leads = (80.0, 80.0, -100.0, -100.0, 80.0, 80.0, 80.0, 80.0)
    _, result = _run(SynthConfig(reps=8, lead_ms=leads, seed=5, snr_db=15))
    kinds = [(f.kind, f.reps) for f in result.flags]
    assert kinds == [("hamstring-first", (3, 4)), ("hamstring-first-cleared", (4, 5, 6))]
    decided = {rep.index: rep.decided_at for rep in result.reps}
    assert [f.at for f in result.flags] == [decided[4], decided[6]]


def test_rep_without_hamstring_is_reported_not_dropped() -> None:
    session = generate_session(SynthConfig(reps=5, seed=6, snr_db=15))
    quiet = generate_session(SynthConfig(reps=5, seed=7, snr_db=15)).recording
    data = session.recording.data.copy()
    fs = session.recording.sample_rate
    truth = session.truth["reps"][2]
    lo, hi = round((truth["glute_onset_s"] - 0.5) * fs), round((truth["glute_offset_s"] + 0.5) * fs)
    data[lo:hi, 1] = quiet.data[round(0.5 * fs) : round(0.5 * fs) + hi - lo, 1]  # rest noise
    recording = dataclasses.replace(session.recording, data=data)
    result = analyze_recording(recording, AnalysisConfig())
    assert len(result.reps) == 5
    rep = result.reps[2]
    assert rep.missing == ("hamstring",)
    assert rep.order == "glute-first" and rep.lead_ms is None
    assert rep.onsets["hamstring"] is None
    assert abs(rep.start / fs - truth["glute_onset_s"]) < 0.05
    # decided when the margin had passed without a hamstring onset
    assert rep.decided_at is not None and rep.decided_at > rep.start + 0.05 * fs


def test_ratio_with_true_mvc_matches_truth() -> None:
    session = generate_session(SynthConfig(snr_db=20, seed=8, glute_level=0.3, hamstring_level=0.6))
    mvc = Normalisation({m: float(v) for m, v in session.truth["mvc_uv"].items()})
    result = analyze_recording(session.recording, AnalysisConfig(normalisation=mvc))
    errors = [
        rep.ratio / truth["ratio"] - 1
        for rep, truth in zip(result.reps, session.truth["reps"], strict=True)
        if rep.ratio is not None
    ]
    assert len(errors) == 10
    assert float(np.median(np.abs(errors))) < 0.06
    assert all(rep.normalisation == "mvc" for rep in result.reps)
    # levels in %MVC near the true activation (30 % and 60 % of MVC)
    glute = np.median([rep.levels["glute"] for rep in result.reps])
    hamstring = np.median([rep.levels["hamstring"] for rep in result.reps])
    assert 25 < glute < 36 and 50 < hamstring < 70


def test_without_mvc_levels_are_multiples_of_rest() -> None:
    _, result = _run(SynthConfig(snr_db=20, seed=9))
    rep = result.reps[0]
    assert rep.normalisation == "rest"
    # 20 dB over the full band; the band-pass keeps ~45 % of the white noise's power, so the
    # active RMS is ~10 x 1.5 times the filtered rest RMS
    assert 10 < rep.levels["glute"] < 20


def test_sides_are_analysed_separately() -> None:
    leads = (80.0,) * 5
    _session, result = _run(SynthConfig(reps=5, lead_ms=leads, sides=True, seed=10))
    assert [p.side for p in result.pairs] == ["left", "right"]
    for side in ("left", "right"):
        reps = [r for r in result.reps if r.side == side]
        assert [r.index for r in reps] == [1, 2, 3, 4, 5]
        assert all(r.order == "glute-first" for r in reps)


def test_no_pair_no_reps(public_dir) -> None:  # type: ignore[no-untyped-def]
    from emg.io.csv_format import read_emg_csv

    recording: Recording = read_emg_csv(public_dir / "uci_5Nmar.csv")
    result = analyze_recording(recording, AnalysisConfig())
    assert result.pairs == [] and result.reps == [] and result.flags == []


def test_a_rep_under_way_when_the_stream_begins_has_no_order() -> None:
    """A recording that starts in the middle of a rep: that rep is reported (with its ratio),
    its order and lead are unknown, and it does not count towards the flag."""
    session = generate_session(SynthConfig(reps=5, lead_ms=-110.0, snr_db=15, seed=2))
    recording = session.recording
    fs = recording.sample_rate
    cut = round((session.truth["reps"][0]["glute_onset_s"] + 0.4) * fs)  # inside rep 1
    late = Recording(
        data=recording.data[cut:],
        sample_rate=fs,
        channels=recording.channels,
        lost=recording.lost[cut:],
    )
    result = analyze_recording(late, AnalysisConfig(), keep_envelope=False)
    first, *others = result.reps
    assert first.under_way and first.order is None and first.lead_ms is None
    assert first.ratio is not None
    assert [r.order for r in others] == ["hamstring-first"] * 4
    # the flag waits for two hamstring-first reps that were seen to start
    assert result.flags[0].reps == (2, 3)


def test_a_sensor_that_drops_out_leaves_the_order_unknown_and_raises_no_flag() -> None:
    """The glute sensor drops out for good in the middle of the fourth rep of a glute-first
    set (its samples lost, zero-filled, as the acquisition delivers them). That rep keeps its
    order, but not its ratio; the reps after it have a hamstring onset and none of the
    glute's, which is not recorded there, not missing: their order and ratio stay unknown. No
    flag is raised, and the glute's samples ending is not the glutes relaxing under active
    hamstrings: the cramp risk stays ok. The same set recorded throughout is glute-first in
    every rep."""
    session = generate_session(SynthConfig(reps=8, lead_ms=100.0, snr_db=20, seed=3))
    recording, fs = session.recording, session.recording.sample_rate
    whole = analyze_recording(recording, AnalysisConfig(), keep_envelope=False)
    assert [r.order for r in whole.reps] == ["glute-first"] * 8
    assert all(not r.unrecorded for r in whole.reps)
    truth = session.truth["reps"]
    cut = round((truth[3]["hamstring_onset_s"] + 0.3) * fs)  # both muscles on
    data, lost = recording.data.copy(), recording.lost.copy()
    data[cut:, 0], lost[cut:, 0] = 0.0, True
    dropped = dataclasses.replace(recording, data=data, lost=lost)
    result = analyze_recording(dropped, AnalysisConfig(), keep_envelope=False)
    assert [r.order for r in result.reps[:4]] == ["glute-first"] * 4
    assert [r.ratio is None for r in result.reps[:4]] == [False] * 3 + [True]
    after = result.reps[4:]
    assert len(after) == 4
    for rep in after:
        assert rep.order is None and rep.lead_ms is None and rep.unrecorded == ("glute",)
        assert rep.missing == () and rep.onsets["hamstring"] is not None
        assert rep.ratio is None and rep.hamstring_share is None
        assert rep.median_frequency_hz["glute"] is None
        assert rep.median_frequency_hz["hamstring"] is not None
    assert result.flags == []
    assert all(risk.level == "ok" for risk in result.risks)
    # a lost packet or two in a rep is bridged, not a muscle unrecorded
    few = recording.lost.copy()
    for t in truth:
        at = round(t["glute_onset_s"] * fs) + 20
        few[at : at + round(0.01 * fs), 0] = True
    sparse = dataclasses.replace(recording, lost=few)
    bridged = analyze_recording(sparse, AnalysisConfig(), keep_envelope=False)
    assert [r.order for r in bridged.reps] == ["glute-first"] * 8
    assert all(not r.unrecorded for r in bridged.reps)


@pytest.mark.parametrize("value_uv", [0.0, 1234.5])  # a lead off, a channel stuck at a value
def test_a_channel_with_no_signal_leaves_the_order_unknown_and_raises_no_flag(
    value_uv: float,
) -> None:
    """The glute's electrode comes off (its channel reads one value, nothing lost) from 1 s
    before the fifth rep of a glute-first set: the glutes cannot be seen to switch on there.
    Those reps are not recorded for the glute, for want of a signal (``no_signal``), not
    hamstring-first (before: every rep after it hamstring-first, and a flag). The reps before
    keep their order and say nothing of it."""
    session = generate_session(SynthConfig(reps=8, lead_ms=100.0, snr_db=20, seed=3))
    recording, fs = session.recording, session.recording.sample_rate
    cut = round((session.truth["reps"][4]["glute_onset_s"] - 1.0) * fs)
    data = recording.data.copy()
    data[cut:, 0] = value_uv
    result = analyze_recording(
        dataclasses.replace(recording, data=data), AnalysisConfig(), keep_envelope=False
    )
    assert [r.order for r in result.reps[:4]] == ["glute-first"] * 4
    assert all(r.unrecorded == r.no_signal == () for r in result.reps[:4])
    after = result.reps[4:]
    assert len(after) == 4
    for rep in after:
        assert rep.order is None and rep.lead_ms is None
        assert rep.unrecorded == rep.no_signal == ("glute",)
        assert rep.onsets["hamstring"] is not None and rep.ratio is None
    assert result.flags == []
    assert all(risk.level == "ok" for risk in result.risks)
    notes = onset_notes(rep_summary(after[0], fs))
    assert notes == ["no glute onset", "glute not recorded (no signal)"] or notes == [
        "glute not recorded (no signal)"
    ]


def _glute_lost(session: SyntheticSession, lo_s: float, hi_s: float | None) -> Recording:
    """The set with the glute's samples lost (zero-filled) from ``lo_s`` to ``hi_s``."""
    recording, fs = session.recording, session.recording.sample_rate
    lo, hi = round(lo_s * fs), None if hi_s is None else round(hi_s * fs)
    data, lost = recording.data.copy(), recording.lost.copy()
    data[lo:hi, 0], lost[lo:hi, 0] = 0.0, True
    return dataclasses.replace(recording, data=data, lost=lost)


def test_a_sensor_that_comes_back_mid_burst_gives_no_order() -> None:
    """The glute sensor is lost from 3 s before the fifth rep's glute onset until 0.25 s
    after it, when the glutes are well on: its samples coming back are no onset, so that rep's
    order and lead stay unknown (before: hamstring-first, lead -104 ms; truly glute-first)."""
    session = generate_session(SynthConfig(reps=8, lead_ms=100.0, snr_db=20, seed=3))
    onset = session.truth["reps"][4]["glute_onset_s"]
    result = analyze_recording(
        _glute_lost(session, onset - 3.0, onset + 0.25), AnalysisConfig(), keep_envelope=False
    )
    fs = session.recording.sample_rate
    fifth = [r for r in result.reps if abs(r.start / fs - onset) < 0.5]
    assert len(fifth) == 1 and fifth[0].unrecorded == ("glute",)
    assert fifth[0].order is None and fifth[0].lead_ms is None
    assert [r.order for r in result.reps if not r.unrecorded] == ["glute-first"] * (
        len(result.reps) - sum(1 for r in result.reps if r.unrecorded)
    )
    assert result.flags == []


def test_reps_a_dropout_left_unknown_do_not_clear_a_raised_flag() -> None:
    """Hamstring-first reps raise the flag; the glute sensor then drops out for good: the
    reps after it neither raise nor clear anything, and the flag and its cramp-risk reason
    stay up to the end of the set."""
    session = generate_session(SynthConfig(reps=8, lead_ms=-110.0, snr_db=20, seed=2))
    truth = session.truth["reps"]
    cut = (truth[3]["hamstring_offset_s"] + truth[4]["hamstring_onset_s"]) / 2
    result = analyze_recording(
        _glute_lost(session, cut, None), AnalysisConfig(), keep_envelope=False
    )
    assert [r.order for r in result.reps[:4]] == ["hamstring-first"] * 4
    assert all(r.unrecorded == ("glute",) for r in result.reps[4:])
    assert [f.kind for f in result.flags] == ["hamstring-first"]
    assert result.risks[-1].level != "ok"


def test_a_first_rep_decided_once_the_noise_floor_is_known_is_the_same_in_any_blocks() -> None:
    # The first rep starts within 0.4 s of the stream; its onsets come from the chain only once the
    # first noise floor is known (3 s in), and a 10-sample packet of the hamstring's is lost at
    # its onset. Fed 20 ms at a time, as live and replay feed it, the reps stage once kept too
    # little history by then: it called the hamstring not recorded from the few samples it
    # still held (order unknown) and lost the rise alignment; fed whole, it gave the order.
    session = generate_session(
        SynthConfig(reps=3, lead_ms=100.0, snr_db=20, seed=5, fs=1000.0, rest_s=0.2)
    )
    recording = session.recording
    onset = round(session.truth["reps"][0]["hamstring_onset_s"] * recording.sample_rate)
    lost = np.zeros(recording.data.shape, dtype=bool)
    lost[onset - 5 : onset + 5, 1] = True
    data = np.where(lost, 0.0, recording.data).astype(recording.data.dtype)
    lossy = dataclasses.replace(recording, data=data, lost=lost)
    whole, blocks = (
        analyze_recording(lossy, AnalysisConfig(), keep_envelope=False, block_size=size)
        for size in (lossy.n_samples, 20)
    )
    first = whole.reps[0]
    assert first.order == "glute-first" and not first.unrecorded and first.start < 1500
    assert [(r.order, r.lead_ms, r.unrecorded) for r in blocks.reps] == [
        (r.order, r.lead_ms, r.unrecorded) for r in whole.reps
    ]
