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


def _gappy_envelope(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """12 s of a noise envelope (2 channels) with a 1.5 s gap of zeros (a sensor that dropped
    out) on channel 1 and scattered single lost packets (10 ms) on both."""
    fs = 1000
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 5.0, (12 * fs, 2))
    lost = np.zeros(x.shape, bool)
    lost[5000:6500, 1] = True
    for start in rng.choice(np.arange(0, 11900, 10), 12, replace=False):
        lost[start : start + 10, rng.integers(0, 2)] = True
    x[lost] = 0.0
    return RmsEnvelope(50, 2).process(x), lost


def test_noise_floor_leaves_out_a_gap_of_zeros() -> None:
    """Zero-filled samples are not rest: without the loss mask a 1.5 s gap is the quietest
    stretch and drags the rest level down; with it the estimate is that of the noise."""
    envelope, lost = _gappy_envelope(3)

    def last(lost_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        baseline = NoiseFloorBaseline(250, 3000, 60000, 2, guard=50)
        estimates = baseline.process(envelope, lost_mask)
        return estimates[-1].mean, estimates[-1].std

    blind_mean, _ = last(None)
    mean, std = last(lost)
    # the RMS of 5 uV noise over 50 ms: about 5 uV, a spread of about 0.5 uV
    assert np.all(np.abs(mean - 5.0) < 0.25) and np.all(std < 1.0)
    assert blind_mean[1] < 0.6 * mean[1]  # the gap's zeros pulled it down


@pytest.mark.parametrize("block", [1, 7, 250, 999])
def test_noise_floor_with_losses_is_the_same_for_any_blocking(block: int) -> None:
    envelope, lost = _gappy_envelope(4)
    whole = NoiseFloorBaseline(250, 3000, 60000, 2, guard=50).process(envelope, lost)
    baseline = NoiseFloorBaseline(250, 3000, 60000, 2, guard=50)
    parts = []
    for start in range(0, len(envelope), block):
        stop = start + block
        parts += baseline.process(envelope[start:stop], lost[start:stop])
    assert [e.valid_from for e in parts] == [e.valid_from for e in whole]
    for a, b in zip(parts, whole, strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.std, b.std)


def test_a_loss_on_one_channel_leaves_the_other_channels_windows_in() -> None:
    """Packets lost on the hamstring sensor every 450 ms spoil about half the windows there, but
    the glute's estimate is the one it would have alone; the hamstring's still that of its
    noise, from the windows left."""
    fs = 1000
    rng = np.random.default_rng(8)
    x = rng.normal(0, 5.0, (20 * fs, 2))
    x[9000:10500] *= 8  # a burst on both
    lost = np.zeros(x.shape, bool)
    for start in range(100, len(x), 450):
        lost[start : start + 20, 1] = True
    x[lost] = 0.0
    envelope = RmsEnvelope(50, 2).process(x)
    both = NoiseFloorBaseline(250, 3000, 60000, 2, guard=50).process(envelope, lost)
    alone = NoiseFloorBaseline(250, 3000, 60000, 1, guard=50).process(envelope[:, :1])
    assert [e.valid_from for e in both] == [e.valid_from for e in alone]
    for a, b in zip(both, alone, strict=True):
        np.testing.assert_allclose(a.mean[0], b.mean[0], rtol=1e-12)
        np.testing.assert_allclose(a.std[0], b.std[0], rtol=1e-12)
    assert np.all(np.abs([e.mean[1] - 5.0 for e in both[2:]]) < 0.4)


@pytest.mark.parametrize("n_channels", [1, 2])
def test_noise_floor_with_losses_per_channel_is_bit_identical_for_any_blocking(
    n_channels: int,
) -> None:
    fs = 1000
    rng = np.random.default_rng(20 + n_channels)
    x = rng.normal(0, 5.0, (25 * fs, n_channels))
    x[12000:13500] *= 10
    lost = np.zeros(x.shape, bool)
    for start in rng.choice(np.arange(0, len(x) - 10, 10), 60, replace=False):
        lost[start : start + 10, rng.integers(0, n_channels)] = True
    lost[4000:5200, 0] = True  # a dropout of one sensor
    x[lost] = 0.0
    envelope = RmsEnvelope(50, n_channels).process(x)

    def run(block: int) -> list[tuple[list[float], list[float], int]]:
        tracker = NoiseFloorBaseline(250, 3000, 10 * fs, n_channels, ignore_before=500, guard=50)
        found = []
        for start in range(0, len(envelope), block):
            stop = start + block
            found += tracker.process(envelope[start:stop], lost[start:stop])
        return [(e.mean.tolist(), e.std.tolist(), e.valid_from) for e in found]

    whole = run(len(envelope))
    assert len(whole) > 5 and np.isfinite(np.array([e[0] for e in whole])).all()
    assert run(1) == whole
    assert run(777) == whole
    assert run(250) == whole


def test_a_block_without_a_loss_mask_still_honours_the_guard_of_a_gap_before_it() -> None:
    envelope, lost = _gappy_envelope(5)
    lost[6500:] = False  # no loss after the long gap of channel 1 (5000-6500) ...
    end = 6500  # ... which ends with a block; its guard (100) reaches into the next ones

    def run(mask_after: bool) -> list[tuple[list[float], list[float], int]]:
        tracker = NoiseFloorBaseline(250, 3000, 60000, 2, guard=100)
        found = tracker.process(envelope[:end], lost[:end])
        for start in range(end, len(envelope), 60):
            part = lost[start : start + 60] if mask_after else None
            found += tracker.process(envelope[start : start + 60], part)
        return [(e.mean.tolist(), e.std.tolist(), e.valid_from) for e in found]

    assert run(mask_after=False) == run(mask_after=True)
