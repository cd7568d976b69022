import numpy as np

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
