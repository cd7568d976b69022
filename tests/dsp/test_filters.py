import numpy as np
import pytest
from scipy import signal

from emg.dsp.filters import SosFilter, bandpass_edges, design_bandpass, design_notch, detect_mains


def test_upper_edge_follows_nyquist() -> None:
    assert bandpass_edges(2000, 20, 450) == (20, 450)
    assert bandpass_edges(200, 20, 450) == (20, 90.0)
    with pytest.raises(ValueError, match="empty"):
        bandpass_edges(40, 20, 450)


def test_bandpass_response() -> None:
    fs = 2000
    sos = design_bandpass(fs, 20, 450, 4)
    assert sos.shape == (2, 6)
    _, response = signal.sosfreqz(sos, worN=[5.0, 20.0, 100.0, 450.0, 900.0], fs=fs)
    gain_db = 20 * np.log10(np.abs(response))
    assert gain_db[2] > -0.5  # pass band
    assert -3.5 < gain_db[1] < -2.5 and -3.5 < gain_db[3] < -2.5  # -3 dB edges
    assert gain_db[0] < -20 and gain_db[4] < -15


def test_notch_removes_mains_and_harmonics_below_upper_edge() -> None:
    fs = 2000
    sos = design_notch(fs, 50, 450)
    assert len(sos) == 8  # 50..400 Hz
    _, response = signal.sosfreqz(sos, worN=[50.0, 150.0, 75.0, 120.0], fs=fs)
    gain_db = 20 * np.log10(np.abs(response) + 1e-12)
    assert gain_db[0] < -40 and gain_db[1] < -40
    assert gain_db[2] > -1 and gain_db[3] > -1


def test_filter_state_carries_across_blocks() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5000, 2)) + 100.0  # DC offset must not ring
    sos = design_bandpass(1000, 20, 450, 4)
    whole = SosFilter(sos, 2).process(x)
    pieces = SosFilter(sos, 2)
    parts = [pieces.process(x[a:b]) for a, b in [(0, 1), (1, 700), (700, 701), (701, 5000)]]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert np.abs(whole[:50]).max() < 10  # no 100-unit step transient


@pytest.mark.parametrize("mains", [50.0, 60.0, None])
def test_detect_mains(mains: float | None) -> None:
    fs = 2000
    rng = np.random.default_rng(1)
    t = np.arange(3 * fs) / fs
    x = 5 * rng.standard_normal(len(t))
    if mains:
        x += 3 * np.sin(2 * np.pi * mains * t)
    assert detect_mains(x, fs) == mains


def test_a_rest_too_short_to_resolve_the_mains_finds_none() -> None:
    # 10 ms at 2 kHz: 100 Hz bins, none within 1 Hz of 50 or 60 Hz
    t = np.arange(20) / 2000
    assert detect_mains(np.sin(2 * np.pi * 50 * t), 2000) is None


@pytest.mark.parametrize("n_channels", [1, 2, 3, 4])
def test_sample_major_filtering_equals_each_channel_alone(n_channels: int) -> None:
    # pairs of channels are filtered as one complex signal: the same arithmetic, bit for bit
    rng = np.random.default_rng(n_channels)
    x = rng.standard_normal((6000, n_channels)) * 40 + 7.0
    sos = np.concatenate([design_bandpass(2000, 20, 450, 4), design_notch(2000, 50, 450)])
    alone = np.stack(
        [SosFilter(sos, 1).process(x[:, c : c + 1])[:, 0] for c in range(n_channels)], axis=1
    )
    pieces = SosFilter(sos, n_channels)
    parts = [
        pieces.filter_samples(np.array(x[a:b], order="C"))
        for a, b in [(0, 1), (1, 999), (999, 1000), (1000, 6000)]
    ]
    np.testing.assert_array_equal(np.concatenate(parts), alone)


def test_filter_state_carries_between_row_and_sample_blocks() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3000, 2)) * 10
    sos = design_bandpass(1000, 20, 450, 4)
    whole = SosFilter(sos, 2).process(x)
    mixed = SosFilter(sos, 2)
    first = mixed.filter_samples(np.array(x[:1000], order="C"))
    second = mixed.filter_rows(np.array(x[1000:2000].T, order="C")).T
    third = mixed.filter_samples(np.array(x[2000:], order="C"))
    np.testing.assert_array_equal(np.concatenate([first, second, third]), whole)
