"""SampleClock against simulated BLE sensors with known true sample times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.devices.sample_clock import SampleClock, lower_hull, optimal_slopes

RATE = 1000.0
PACKET = 10


@dataclass
class Stream:
    """Packets of a simulated sensor: first sample index, arrival time, and the truth."""

    first: npt.NDArray[np.int64]
    arrival: npt.NDArray[np.float64]
    start_s: float
    true_rate: float
    device_time: npt.NDArray[np.float64] | None = None

    def true_time(self, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return self.start_s + np.asarray(index, dtype=np.float64) / self.true_rate


def ble_delays(
    rng: np.random.Generator, t_last: npt.NDArray[np.float64], kind: str = "exp"
) -> npt.NDArray[np.float64]:
    """Arrival times: mean 8 ms jitter, 40 ms stalls (0.5 per second), in-order delivery."""
    n = t_last.size
    if kind == "exp":
        delay = rng.exponential(0.008, n)
    else:
        delay = rng.gamma(2.0, 0.004, n)
    arrival = t_last + delay
    duration = t_last[-1] - t_last[0]
    for stall in t_last[0] + rng.random(int(0.5 * duration) + 1) * duration:
        held = (t_last >= stall) & (t_last < stall + 0.040)
        arrival[held] = np.maximum(arrival[held], stall + 0.040 + rng.exponential(0.002))
    return np.maximum.accumulate(arrival)


def simulate(
    seed: int,
    ppm: float,
    duration_s: float = 40.0,
    start_s: float = 1234.5,
    loss: float = 0.02,
    kind: str = "exp",
) -> Stream:
    """A 1 kHz sensor whose crystal is off by ``ppm``, packets of 10 samples, some lost."""
    rng = np.random.default_rng(seed)
    true_rate = RATE * (1 + ppm * 1e-6)
    n = int(duration_s * true_rate / PACKET)
    first = np.arange(n, dtype=np.int64) * PACKET
    t_last = start_s + (first + PACKET - 1) / true_rate
    arrival = ble_delays(rng, t_last, kind)
    keep = rng.random(n) > loss
    return Stream(first[keep], arrival[keep], start_s, true_rate)


def online_errors(clock: SampleClock, stream: Stream) -> tuple[np.ndarray, np.ndarray]:
    """Per packet: true time of its first sample and the worst error of its samples' times,
    as estimated right after it arrived (what a live assembler uses)."""
    times, errors = [], []
    devices = stream.device_time
    for j, (first, arrival) in enumerate(zip(stream.first, stream.arrival, strict=True)):
        device = None if devices is None else float(devices[j])
        clock.update(int(first), PACKET, float(arrival), device)
        index = first + np.arange(PACKET)
        errors.append(np.max(np.abs(clock.times_of(index) - stream.true_time(index))))
        times.append(stream.true_time(first) - stream.start_s)
    return np.array(times), np.array(errors)


def summary(errors: np.ndarray) -> str:
    return f"median {np.median(errors) * 1e3:.3f} ms, max {np.max(errors) * 1e3:.3f} ms"


@pytest.mark.parametrize("ppm", [300.0, -500.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sample_times_within_2_ms_after_first_second(ppm: float, seed: int) -> None:
    stream = simulate(seed, ppm)
    clock = SampleClock(RATE)
    times, errors = online_errors(clock, stream)
    settled = errors[times > 1.0]
    assert settled.max() < 0.002, f"{ppm:+} ppm: sample-time error {summary(settled)}"
    assert np.median(settled) < 0.0003, summary(settled)


@pytest.mark.parametrize("ppm", [300.0, -500.0])
def test_gamma_jitter_settles_within_2_ms(ppm: float) -> None:
    """Gamma (shape 2) delays have few near-zero delays: the envelope takes longer to pin."""
    stream = simulate(4, ppm, kind="gamma")
    clock = SampleClock(RATE)
    times, errors = online_errors(clock, stream)
    assert errors[times > 3.0].max() < 0.002, summary(errors[times > 3.0])
    assert errors[times > 1.0].max() < 0.003, summary(errors[times > 1.0])


@pytest.mark.parametrize("ppm", [300.0, -500.0])
def test_rate_within_50_ppm_after_30_s(ppm: float) -> None:
    stream = simulate(5, ppm, duration_s=31.0)
    clock = SampleClock(RATE)
    online_errors(clock, stream)
    error_ppm = (clock.rate / stream.true_rate - 1) * 1e6
    assert abs(error_ppm) < 50, f"rate off by {error_ppm:.1f} ppm"
    assert clock.drift_ppm == pytest.approx(ppm, abs=50)


def test_least_squares_would_be_late_by_the_mean_delay() -> None:
    """Why a lower envelope: a plain line fit through arrivals is biased by the mean delay."""
    stream = simulate(6, 300.0, duration_s=20.0)
    last = stream.first + PACKET - 1
    slope, intercept = np.polyfit(last, stream.arrival, 1)
    ls_bias = np.median(intercept + slope * last - stream.true_time(last))
    clock = SampleClock(RATE)
    for first, arrival in zip(stream.first, stream.arrival, strict=True):
        clock.update(int(first), PACKET, float(arrival))
    envelope_bias = np.median(clock.times_of(last) - stream.true_time(last))
    assert ls_bias > 0.006
    assert abs(envelope_bias) < 0.0005, f"envelope bias {envelope_bias * 1e3:.3f} ms"


def test_device_timestamps_give_the_shape() -> None:
    """A sensor whose sampling pauses 5 ms: index counting cannot see it, device time can."""
    rng = np.random.default_rng(7)
    ppm, pause_at, pause_s = 300.0, 15_000, 0.005
    true_rate = RATE * (1 + ppm * 1e-6)
    n = int(30 * RATE / PACKET)
    first = np.arange(n, dtype=np.int64) * PACKET

    def device_of(index: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 50.0 + index / RATE + pause_s * (index >= pause_at)

    def true_of(index: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 800.0 + (device_of(index) - 50.0) / (1 + ppm * 1e-6)

    ticks = np.round(device_of(first.astype(float)) * 32768) / 32768  # 32 kHz RTC ticks
    arrival = ble_delays(rng, true_of(first + PACKET - 1.0))
    with_device, counting = SampleClock(RATE), SampleClock(RATE)
    worst_device, worst_counting = 0.0, 0.0
    for j in range(n):
        with_device.update(int(first[j]), PACKET, float(arrival[j]), float(ticks[j]))
        counting.update(int(first[j]), PACKET, float(arrival[j]))
        if true_of(first[j]) - 800.0 > 1.0:
            index = first[j] + np.arange(PACKET, dtype=float)
            truth = true_of(index)
            worst_device = max(worst_device, np.abs(with_device.times_of(index) - truth).max())
            worst_counting = max(worst_counting, np.abs(counting.times_of(index) - truth).max())
    assert with_device.device_timestamps and not counting.device_timestamps
    assert worst_device < 0.0015, f"with device time: max {worst_device * 1e3:.2f} ms"
    assert worst_counting > 0.002, f"index counting: max {worst_counting * 1e3:.2f} ms"
    assert abs(with_device.rate / true_rate - 1) < 50e-6


def test_device_clock_trusted_gives_offset_only() -> None:
    clock = SampleClock(RATE, max_drift_ppm=0.0)
    for j in range(200):
        clock.update(j * PACKET, PACKET, 10.0 + j * 0.0101 + 0.003, device_time=j * 0.01)
    assert clock.rate == pytest.approx(RATE)


def test_online_from_the_first_packet_and_inverse() -> None:
    clock = SampleClock(RATE)
    assert not clock.ready
    with pytest.raises(RuntimeError):
        clock.time_of(0)
    clock.update(0, PACKET, 100.0)
    assert clock.ready
    assert clock.time_of(9) == pytest.approx(100.0)
    assert clock.offset_uncertainty == float("inf")
    for j in range(1, 300):
        clock.update(j * PACKET, PACKET, 100.0 + j * 0.01 + 0.001 * (j % 3))
    times = np.array([100.2, 101.7, 102.9])
    assert np.allclose(clock.times_of(clock.indices_at(times)), times, atol=1e-9)
    assert clock.index_at(clock.time_of(1234.5)) == pytest.approx(1234.5)
    assert 0 <= clock.offset_uncertainty < 0.002
    assert clock.n_windows <= clock.history_s / clock.window_s + 1


def test_reset_keeps_the_rate_and_reanchors() -> None:
    stream = simulate(8, -500.0, duration_s=20.0)
    clock = SampleClock(RATE)
    online_errors(clock, stream)
    rate = clock.rate
    clock.reset()
    assert not clock.ready
    clock.update(0, PACKET, 5000.0)
    assert clock.rate == pytest.approx(rate)
    assert clock.time_of(PACKET - 1) == pytest.approx(5000.0)


def test_memory_is_bounded() -> None:
    clock = SampleClock(RATE, window_s=0.5, history_s=5.0)
    for j in range(3000):
        clock.update(j * PACKET, PACKET, j * 0.01 + 0.004 * ((j * 7) % 5))
    assert clock.n_windows <= 11


def test_lower_hull_and_optimal_slopes() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, -1.0, 5.0, 1.0, 4.0])
    assert lower_hull(x, y) == [0, 1, 3, 4]
    assert optimal_slopes(x, y, 2.0) == (1.0, 1.0)  # inside the edge 1-3 (slope 1)
    low, high = optimal_slopes(x, y, 1.0)  # at a vertex: between its edges' slopes
    assert (low, high) == (-1.0, 1.0)
    assert optimal_slopes(np.array([0.0]), np.array([1.0]), 0.0) == (-np.inf, np.inf)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        SampleClock(0.0)
    with pytest.raises(ValueError):
        SampleClock(RATE).update(0, 0, 1.0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    ppm=st.floats(-500, 500),
    mean_delay=st.floats(0.001, 0.03),
)
def test_fit_stays_below_the_arrivals(seed: int, ppm: float, mean_delay: float) -> None:
    """The envelope never claims a sample happened after its packet arrived (beyond the
    slope change since the packet's window was chosen), and tracks the truth."""
    rng = np.random.default_rng(seed)
    true_rate = RATE * (1 + ppm * 1e-6)
    first = np.arange(600, dtype=np.int64) * PACKET
    t_last = 7.0 + (first + PACKET - 1) / true_rate
    arrival = np.maximum.accumulate(t_last + rng.exponential(mean_delay, first.size))
    clock = SampleClock(RATE)
    for f, a in zip(first, arrival, strict=True):
        clock.update(int(f), PACKET, float(a))
    fitted = clock.times_of(first + PACKET - 1)
    assert np.all(fitted <= arrival + 1e-4)
    assert np.median(np.abs(fitted - t_last)) < max(0.002, mean_delay / 4)
