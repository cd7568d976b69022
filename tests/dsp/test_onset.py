import numpy as np
import pytest

from emg.dsp.change_edge import BEFORE_CHANGE_S
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


def test_cusum_puts_a_change_hidden_in_lost_samples_at_their_middle() -> None:
    x = np.concatenate([np.full(300, 0.5), np.full(100, 3.0)])  # quiet, then active
    assert cusum_change_point(x, noise_power=1.0) == 300
    x[280:320] = np.nan  # lost around the change: it happened somewhere in there
    assert cusum_change_point(x, noise_power=1.0) == 300
    x[:280] = np.nan
    assert cusum_change_point(x, noise_power=1.0) == 160  # known only to be before 320
    # lost samples away from the change leave it where it was
    rng = np.random.default_rng(7)
    y = np.concatenate([rng.standard_normal(300), 4 * rng.standard_normal(100)])
    found = cusum_change_point(y, noise_power=1.0)
    y[100:140] = np.nan
    assert abs(found - 300) <= 5 and cusum_change_point(y, noise_power=1.0) == found


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


def _bursts_on_noise(n_channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A filtered-like signal with bursts and its trailing RMS (50 samples)."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((20000, n_channels))
    for start in range(1500, 19000, 2300):
        signal[start : start + 700 + 100 * (start % 3)] *= 6.0
    power = np.cumsum(np.concatenate([np.zeros((50, n_channels)), signal**2]), axis=0)
    envelope = np.sqrt((power[50:] - power[:-50]) / 50)
    return signal, envelope


def _detect(
    signal: np.ndarray, envelope: np.ndarray, blocks: list[int], spans: bool
) -> list[Onset | Burst]:
    """Detection with thresholds that change every 1234 samples, as per-sample values or spans."""
    n, n_channels = envelope.shape
    level = 1.0 + 0.05 * np.arange(-(-n // 1234))[None, :] + 0.1 * np.arange(n_channels)[:, None]
    detector = OnsetDetector(n_channels, hold=60, offset_hold=40, refine_span=90, refine_rho=4.0)
    events: list[Onset | Burst] = []
    start = 0
    for size in blocks:
        if start >= n:
            break
        stop = min(start + size, n)
        columns = np.arange(start, stop) // 1234
        if spans:
            first, last = columns[0], columns[-1]
            counts = np.bincount(columns - first, minlength=last - first + 1)
            values = level[:, first : last + 1]
            kwargs = {"spans": counts}
        else:
            values = level[:, columns]
            kwargs = {}
        events += detector.process_rows(
            signal[start:stop].T,
            envelope[start:stop].T,
            2.0 * values,
            1.5 * values,
            values**2,
            **kwargs,
        )
        start = stop
    assert start == n
    return events + detector.flush()


@pytest.mark.parametrize("n_channels", [1, 2])
def test_piecewise_thresholds_and_any_blocking_give_the_same_events(n_channels: int) -> None:
    signal, envelope = _bursts_on_noise(n_channels, seed=n_channels)
    expected = _detect(signal, envelope, [len(envelope)], spans=False)
    assert sum(isinstance(e, Burst) for e in expected) >= 7 * n_channels
    # refinements reaching back across block boundaries come from the carried tail
    for blocks in ([len(envelope)], [1234] * 17, [37] * 600, [5000, 1, 60, 999] * 6):
        assert _detect(signal, envelope, blocks, spans=True) == expected
        assert _detect(signal, envelope, blocks, spans=False) == expected


@pytest.mark.parametrize("method", ["edge", "bayes", "cusum-edge"])
@pytest.mark.parametrize("ramp_ms", [20, 250])
def test_the_edge_refinements_give_the_change_point_with_each_onset(
    ramp_ms: int, method: str
) -> None:
    fs, onset = 2000.0, 2000
    rng = np.random.default_rng(3)
    t = (np.arange(4000) - onset) / fs
    amplitude = np.clip(t / (ramp_ms / 1000), 0, 1)
    x = (rng.standard_normal(4000) * (1 + 10 * amplitude))[:, None]
    envelope = np.sqrt(np.convolve(x[:, 0] ** 2, np.ones(100) / 100)[:4000])[:, None]
    on, off, power = np.array([[1.5]]), np.array([[1.2]]), np.array([[1.0]])
    found = {}
    for refinement, span in ((method, 800), ("cusum", 300)):
        detector = OnsetDetector(
            1, 60, 60, refine_span=span, refinement=refinement, sample_rate=fs, change_span=300
        )
        events = detector.process(x, envelope, on, off, power)
        found[refinement] = next(e for e in events if isinstance(e, Onset))
    edge, cusum = found[method], found["cusum"]
    assert cusum.change is None
    # the change point is the CUSUM refinement's own onset, searched as far back
    assert edge.change == cusum.index and edge.crossing == cusum.crossing
    # the fitted edge starts at the onset; the change point comes later on a slow rise
    assert abs(edge.index - onset) < 0.01 * fs
    back = edge.change - edge.index
    if method == "cusum-edge":  # up to its reach before the change, and no further
        assert (0.015 * fs if ramp_ms > 100 else -0.005 * fs) <= back <= BEFORE_CHANGE_S * fs
    else:
        assert back > (0.015 * fs if ramp_ms > 100 else -0.005 * fs)
