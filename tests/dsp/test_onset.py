import numpy as np

from emg.dsp.onset import Burst, Onset, OnsetDetector, cusum_change_point


def test_cusum_finds_variance_step() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(300), 4 * rng.standard_normal(100)])
    assert abs(cusum_change_point(x, noise_power=1.0) - 300) <= 5


def test_cusum_without_change_points_late() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal(400)
    # pure noise: the statistic keeps returning to zero, so the change point is near the end
    assert cusum_change_point(x, noise_power=1.0) > 350


def _step_envelope() -> np.ndarray:
    env = np.ones(3000)
    env[1000:1500] = 10.0  # a 500-sample burst
    env[2000:2030] = 10.0  # too short to count
    return env[:, None]


def test_detector_reports_onset_offset_and_peak() -> None:
    env = _step_envelope()
    env[1200, 0] = 12.0
    detector = OnsetDetector(1, hold=100, offset_hold=50)
    events = detector.process(env, env, np.array([[5.0]]), np.array([[3.0]]), np.array([[1.0]]))
    onsets = [e for e in events if isinstance(e, Onset)]
    bursts = [e for e in events if isinstance(e, Burst)]
    assert [(o.index, o.decided) for o in onsets] == [(1000, 1099)]
    assert [(b.onset, b.offset, b.peak, b.decided) for b in bursts] == [(1000, 1500, 12.0, 1549)]


def test_detector_is_block_invariant_and_flushes_open_burst() -> None:
    env = _step_envelope()
    env[2500:, 0] = 10.0  # still active at the end
    args = (np.array([[5.0]]), np.array([[3.0]]), np.array([[1.0]]))
    whole = OnsetDetector(1, hold=100, offset_hold=50)
    expected = whole.process(env, env, *args) + whole.flush()
    for size in (1, 7, 99, 1000):
        detector = OnsetDetector(1, hold=100, offset_hold=50)
        events = []
        for start in range(0, len(env), size):
            part = env[start : start + size]
            events += detector.process(part, part, *args)
        assert events + detector.flush() == expected
    assert expected[-1] == Burst(0, 2500, 2500, 3000, 10.0, 2999, complete=False)
