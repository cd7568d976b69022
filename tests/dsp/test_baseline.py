import numpy as np
import pytest

from emg.dsp.baseline import NoiseFloorBaseline, RestPeriodBaseline
from emg.dsp.envelope import RmsEnvelope


def test_noise_floor_ignores_bursts() -> None:
    fs = 1000
    rng = np.random.default_rng(2)
    x = 5 * rng.standard_normal((60 * fs, 1))
    quiet = RmsEnvelope(50, 1).process(x.copy())[1000:]
    for start in range(2000, 60 * fs, 3000):  # bursts 40 % of the time
        x[start : start + 1200] *= 20
    env = RmsEnvelope(50, 1).process(x)
    tracker = NoiseFloorBaseline(250, 3000, 60 * fs, 1, ignore_before=500)
    estimates = tracker.process(env)
    assert estimates[0].valid_from == 3000
    last = estimates[-1]
    assert abs(last.mean[0] - quiet.mean()) / quiet.mean() < 0.03
    assert abs(last.std[0] - quiet.std()) / quiet.std() < 0.2


def test_rest_period_baseline() -> None:
    env = np.concatenate([np.full(100, 50.0), np.arange(1.0, 5.0).repeat(50), np.full(100, 80.0)])
    tracker = RestPeriodBaseline(100, 300, 1)
    first = tracker.process(env[:150, None])
    rest = tracker.process(env[150:, None])
    assert first == [] and len(rest) == 1
    assert rest[0].mean[0] == 2.5 and rest[0].valid_from == 300


def _reference_estimates(
    tracker: NoiseFloorBaseline, env: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Each estimate from its own windows, one at a time (the definition)."""
    w = tracker.window
    n_windows = len(env) // w
    windows = env[: n_windows * w].reshape(n_windows, w, env.shape[1])
    means = windows.mean(axis=1)
    variances = np.maximum((windows * windows).mean(axis=1) - means**2, 0.0)
    ends = w * np.arange(1, n_windows + 1)
    used = ends - w >= tracker.ignore_before
    found = []
    for end in ends[(ends >= tracker.ready_at) & ((ends - tracker.ready_at) % tracker.update == 0)]:
        pick = used & (ends <= end) & (ends > end - tracker.horizon)
        estimate = tracker._estimate(means[pick], variances[pick], int(end))
        found.append((estimate.mean, estimate.std, estimate.valid_from))
    return found


@pytest.mark.parametrize("n_channels", [1, 2, 3])
@pytest.mark.parametrize("block", [997, 5000, 40000])
def test_noise_floor_estimates_match_their_definition(n_channels: int, block: int) -> None:
    fs = 1000
    rng = np.random.default_rng(n_channels)
    x = 5 * rng.standard_normal((40 * fs, n_channels))
    for start in range(2000, len(x), 2700):
        x[start : start + 900] *= rng.uniform(3, 20, n_channels)
    env = RmsEnvelope(50, n_channels).process(x)
    tracker = NoiseFloorBaseline(250, 3000, 15 * fs, n_channels, update=1000, ignore_before=500)
    got = []
    for start in range(0, len(env), block):
        got += tracker.process(env[start : start + block])
    expected = _reference_estimates(
        NoiseFloorBaseline(250, 3000, 15 * fs, n_channels, update=1000, ignore_before=500), env
    )
    assert len(got) == len(expected) > 30
    for estimate, (mean, std, valid_from) in zip(got, expected, strict=True):
        # window statistics are summed one sample after the other here, so allow rounding
        np.testing.assert_allclose(estimate.mean, mean, rtol=1e-12)
        np.testing.assert_allclose(estimate.std, std, rtol=1e-12)
        assert estimate.valid_from == valid_from


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_noise_floor_is_bit_identical_for_any_blocking(n_channels: int) -> None:
    fs = 1000
    rng = np.random.default_rng(10 + n_channels)
    x = 5 * rng.standard_normal((30 * fs, n_channels))
    x[8000:9500] *= 10
    env = RmsEnvelope(50, n_channels).process(x)

    def run(block: int) -> list[tuple[list[float], list[float], int]]:
        tracker = NoiseFloorBaseline(250, 3000, 10 * fs, n_channels, ignore_before=500)
        found = []
        for start in range(0, len(env), block):
            found += tracker.process(env[start : start + block])
        return [(e.mean.tolist(), e.std.tolist(), e.valid_from) for e in found]

    whole = run(len(env))
    assert run(1) == whole
    assert run(777) == whole
    rows = NoiseFloorBaseline(250, 3000, 10 * fs, n_channels, ignore_before=500)
    by_rows = rows.process_rows(np.ascontiguousarray(env.T))
    assert [(e.mean.tolist(), e.std.tolist(), e.valid_from) for e in by_rows] == whole
