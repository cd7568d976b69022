import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.dsp.envelope import RmsEnvelope, Tkeo


def test_rms_matches_direct_computation() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 2)) * np.linspace(0.1, 10, 20000)[:, None]
    env = RmsEnvelope(100, 2).process(x)
    for c in range(2):
        direct = np.sqrt(np.convolve(x[:, c] ** 2, np.ones(100))[: len(x)] / 100)
        np.testing.assert_allclose(env[:, c], direct, rtol=1e-10)


def test_rms_of_sine_is_amplitude_over_root_two() -> None:
    t = np.arange(4000) / 2000
    x = (7 * np.sin(2 * np.pi * 100 * t))[:, None]
    env = RmsEnvelope(100, 1).process(x)
    np.testing.assert_allclose(env[200:, 0], 7 / np.sqrt(2), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 9000), min_size=1, max_size=12), st.integers(1, 300))
def test_rms_is_bit_identical_for_any_blocking(cuts: list[int], window: int) -> None:
    rng = np.random.default_rng(window)
    x = rng.standard_normal((20000, 2)) * 50
    whole = RmsEnvelope(window, 2).process(x)
    env = RmsEnvelope(window, 2)
    bounds = np.unique(np.clip(np.cumsum(cuts), 0, len(x)))
    parts = [env.process(part) for part in np.split(x, bounds)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_tkeo_definition_and_delay() -> None:
    x = np.array([1.0, 2.0, 3.0, 5.0, 8.0])[:, None]
    out = Tkeo(1).process(x)
    # psi centred on sample n-1, reported at n
    assert out[2, 0] == 2.0**2 - 1.0 * 3.0
    assert out[4, 0] == 5.0**2 - 3.0 * 8.0
    split = Tkeo(1)
    np.testing.assert_array_equal(np.concatenate([split.process(x[:3]), split.process(x[3:])]), out)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.integers(1, 12000), min_size=1, max_size=6),
    st.integers(1, 300),
    st.sampled_from([1, 2, 3, 4]),
)
def test_rms_of_several_channels_equals_each_channel_alone(
    cuts: list[int], window: int, n_channels: int
) -> None:
    # channel pairs are summed as complex numbers: the same additions, bit for bit
    rng = np.random.default_rng(window)
    x = rng.standard_normal((20000, n_channels)) * 50
    alone = np.stack(
        [RmsEnvelope(window, 1).process(x[:, c : c + 1])[:, 0] for c in range(n_channels)], axis=1
    )
    env = RmsEnvelope(window, n_channels)
    bounds = np.unique(np.clip(np.cumsum(cuts), 0, len(x)))
    parts = [env.process(part) for part in np.split(x, bounds)]
    np.testing.assert_array_equal(np.concatenate(parts), alone)


def test_rms_rows_equal_samples() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9000, 2))
    rows = RmsEnvelope(40, 2)
    out = np.concatenate([rows.process_rows(np.ascontiguousarray(p.T)).T for p in np.split(x, 3)])
    np.testing.assert_array_equal(out, RmsEnvelope(40, 2).process(x))


def test_tkeo_rows_equal_samples() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((50, 3))
    rows = Tkeo(3)
    out = np.concatenate([rows.process_rows(p.T).T for p in np.split(x, [7, 8, 30])])
    np.testing.assert_array_equal(out, Tkeo(3).process(x))
