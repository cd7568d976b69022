"""Median frequency of the EMG power spectrum over a sliding window (fatigue indicator)."""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

from emg.dsp.buffers import StreamBuffer
from emg.dsp.reductions import channel_sums

FloatArray = npt.NDArray[np.float64]


def median_frequency(x: FloatArray, fs: float, axis: int = -1) -> FloatArray:
    """Median frequency of the periodogram (Hann window, mean removed) along ``axis``.

    The median frequency splits the power spectrum into two halves of equal power.

    Parameters
    ----------
    x
        Signal segments; the spectrum is taken along ``axis``.
    fs
        Sample rate in Hz.
    axis
        Axis holding time.

    Returns
    -------
    ndarray
        Median frequency in Hz, with ``axis`` removed.
    """
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    window = signal.windows.hann(n, sym=False)
    power = np.abs(np.fft.rfft((x - x.mean(axis=-1, keepdims=True)) * window, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / fs)
    cumulative = np.cumsum(power, axis=-1)
    half = cumulative[..., -1:] / 2
    index = np.argmax(cumulative >= half, axis=-1)
    mdf: FloatArray = freqs[index]
    return mdf


class MedianFrequencyTracker:
    """Median frequency over a trailing window, every ``hop`` samples.

    Windows end at fixed stream positions (multiples of ``hop``), so the output does not depend
    on how the stream was blocked.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    window, hop
        Window length and spacing in samples.
    n_channels
        Number of channels.
    """

    def __init__(self, fs: float, window: int, hop: int, n_channels: int) -> None:
        if window < 8 or hop < 1:
            raise ValueError("median-frequency window must be >= 8 samples and hop >= 1")
        self.fs, self.window, self.hop = fs, window, hop
        self.n_channels = n_channels
        self._history = StreamBuffer(n_channels, keep=window)
        self._first_end = -(-window // hop) * hop  # windows end at multiples of hop >= window
        self._taper = signal.windows.hann(window, sym=False)
        self._freqs = np.fft.rfftfreq(window, 1 / fs)

    def process(self, x: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Median frequencies of the windows that end in this block.

        Parameters
        ----------
        x
            Filtered signal ``(n_samples, n_channels)``.

        Returns
        -------
        ends : ndarray of int
            Stream index one past the last sample of each window.
        mdf : ndarray
            Median frequency in Hz, ``(n_windows, n_channels)``.
        """
        return self.process_rows(np.asarray(x, dtype=np.float64).T)

    def process_rows(self, x: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """As :meth:`process`, for a channel-major block ``(n_channels, n_samples)``."""
        n = x.shape[1]
        start = self._history.end
        held = self._history.extend(n)
        held[:, held.shape[1] - n :] = x
        stop = start + n
        first_end = max(self._first_end, (start // self.hop + 1) * self.hop)
        if first_end > stop:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.n_channels))
        ends = np.arange(first_end, stop + 1, self.hop, dtype=np.int64)
        held_start = stop - held.shape[1]
        first = first_end - self.window - held_start
        if self.hop == self.window:
            segments = held[:, first : first + len(ends) * self.window].reshape(
                self.n_channels, len(ends), self.window
            )
        else:
            windows = np.lib.stride_tricks.sliding_window_view(held, self.window, axis=1)
            segments = windows[:, first + (ends - first_end)]
        return ends, self._median_frequency(segments)

    def _median_frequency(self, segments: FloatArray) -> FloatArray:
        """:func:`median_frequency` of channel-major windows ``(c, n_windows, window)``.

        Returns ``(n_windows, c)``, rounded exactly as the function on the sample-major windows
        of a stream (see :mod:`emg.dsp.reductions`).
        """
        mean = channel_sums(segments).T[:, :, None] / self.window
        tapered = np.subtract(segments, mean)
        tapered *= self._taper
        spectrum = np.fft.rfft(tapered, axis=-1)
        cumulative = np.abs(spectrum)
        cumulative **= 2  # power
        np.cumsum(cumulative, axis=-1, out=cumulative)
        half = cumulative[..., -1:] / 2
        index = np.argmax(cumulative >= half, axis=-1)
        mdf: FloatArray = self._freqs[index].T
        return mdf


def welch_power(
    x: FloatArray, fs: float, n_segment: int, detrend: Literal["constant", "linear"] = "constant"
) -> tuple[FloatArray, FloatArray]:
    """Welch power spectral density per column: Hann segments, 50 % overlap, each segment's
    mean (or linear trend) removed. The toolkit's one Welch estimator.

    The same numbers as ``scipy.signal.welch(x, fs, nperseg=n_segment, detrend=detrend,
    axis=0)`` (one-sided density, segments that do not fit dropped), with all segments
    transformed in one call: SciPy's loop over segments costs about 1 ms per burst, which made
    the median frequency of every rep the largest cost of an offline analysis.

    Parameters
    ----------
    x
        Signal ``(n_samples, n_channels)``, at least ``n_segment`` samples.
    fs
        Sample rate in Hz.
    n_segment
        Segment length in samples.
    detrend
        What is removed from each segment: its mean, or its least-squares line (slow drift
        stays out of the lowest bins).

    Returns
    -------
    freqs, power
        Frequencies ``(n_segment // 2 + 1,)`` and density ``(n_freqs, n_channels)``.
    """
    window, window_power = _hann(n_segment), _hann_power(n_segment)
    step = n_segment - n_segment // 2
    x = np.asarray(x, dtype=np.float64)
    if len(x) < n_segment:
        raise ValueError(f"{len(x)} samples, a Welch segment needs {n_segment}")
    # the segments as a view (n_segments, n_channels, n_segment): the same memory layout
    # as sliding_window_view(...)[::step], hence the same sums, without its checks' cost
    rows, columns = x.strides
    segments = np.lib.stride_tricks.as_strided(
        x,
        shape=(1 + (len(x) - n_segment) // step, x.shape[1], n_segment),
        strides=(step * rows, columns, rows),
        writeable=False,
    )
    if detrend == "linear":
        detrended = signal.detrend(segments, axis=-1, type="linear")
    else:
        # sum / n: the numbers of .mean(), without its per-call overhead (a hot loop)
        detrended = segments - segments.sum(axis=-1, keepdims=True) / n_segment
    spectrum = np.fft.rfft(detrended * window, axis=-1)
    power = ((spectrum.real**2 + spectrum.imag**2).sum(axis=0) / len(spectrum)).T
    power *= 1.0 / (fs * window_power)
    last = -1 if n_segment % 2 == 0 else None  # the Nyquist bin is not doubled
    power[1:last] *= 2
    return _rfft_freqs(n_segment, fs), power


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> FloatArray:
    window: FloatArray = signal.get_window("hann", n)
    window.setflags(write=False)
    return window


@functools.lru_cache(maxsize=8)
def _hann_power(n: int) -> float:
    return float(np.sum(_hann(n) ** 2))


@functools.lru_cache(maxsize=8)
def _rfft_freqs(n: int, fs: float) -> FloatArray:
    freqs = np.asarray(np.fft.rfftfreq(n, 1 / fs), dtype=np.float64)
    freqs.setflags(write=False)
    return freqs


def welch_median_frequency(x: FloatArray, fs: float, segment_s: float = 0.128) -> FloatArray:
    """Median frequency of a Welch-averaged spectrum, per column of ``x``.

    Averaging short overlapping segments (Welch 1967) makes the estimate over a whole burst far
    steadier than single windows, which is what a rep-by-rep fatigue trend needs.

    Parameters
    ----------
    x
        Signal ``(n_samples, n_channels)``.
    fs
        Sample rate in Hz.
    segment_s
        Welch segment length (Hann window, 50 % overlap).

    Returns
    -------
    ndarray
        Median frequency in Hz per column (NaN for a column without power or too few samples).
    """
    n_segment = max(8, round(segment_s * fs))
    if len(x) < n_segment:
        return np.full(x.shape[1], np.nan)
    freqs, power = welch_power(x, fs, n_segment)
    cumulative = np.cumsum(power, axis=0)
    total = cumulative[-1]
    half = total / 2
    index = np.argmax(cumulative >= half, axis=0)
    # interpolate inside the bin, between the cumulative powers on either side
    columns = np.arange(x.shape[1])
    below = np.where(index > 0, cumulative[np.maximum(index - 1, 0), columns], 0.0)
    above = cumulative[index, columns]
    step = freqs[1] - freqs[0]
    fraction = np.divide(half - below, above - below, out=np.zeros_like(half), where=above > below)
    mdf: FloatArray = np.where(
        total > 0, freqs[np.maximum(index - 1, 0)] + fraction * step * (index > 0), np.nan
    )
    return mdf


def welch_segment(fs: float, segment_s: float = 0.128) -> int:
    """Welch segment length in samples, as :func:`welch_median_frequency` sets it.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    segment_s
        Segment length in seconds.

    Returns
    -------
    int
        Segment length in samples (at least 8).
    """
    return max(8, round(segment_s * fs))


def spectrum_median_frequency(freqs: FloatArray, power: FloatArray) -> FloatArray:
    """Median frequency of power spectral densities, interpolated inside the median's bin.

    Bin ``i`` holds the power from ``freqs[i] - step / 2`` to ``freqs[i] + step / 2`` (half
    bins at 0 Hz and at the last frequency), and the power is taken as spread evenly across
    it. (:func:`welch_median_frequency` interpolates from ``freqs[i - 1]`` to ``freqs[i]``
    instead, which puts its median half a bin low.)

    Parameters
    ----------
    freqs
        Equally spaced frequencies ``(n_freqs,)`` from 0 Hz.
    power
        Density ``(n_freqs, n_channels)``, not negative.

    Returns
    -------
    ndarray
        Median frequency in Hz per column (NaN for a column without power).
    """
    cumulative = np.cumsum(power, axis=0)
    total = cumulative[-1]
    half = total / 2
    index = np.argmax(cumulative >= half, axis=0)
    columns = np.arange(power.shape[1])
    below = np.where(index > 0, cumulative[np.maximum(index - 1, 0), columns], 0.0)
    above = cumulative[index, columns]
    fraction = np.divide(half - below, above - below, out=np.zeros_like(half), where=above > below)
    step = freqs[1] - freqs[0]
    lower = np.maximum(freqs[index] - step / 2, 0.0)
    upper = np.minimum(freqs[index] + step / 2, freqs[-1])
    mdf: FloatArray = np.where(total > 0, lower + fraction * (upper - lower), np.nan)
    return mdf


def band_density(
    freqs: FloatArray, power: FloatArray, centre_hz: FloatArray, half_width_hz: float
) -> FloatArray:
    """Mean density over ``centre_hz +- half_width_hz``, per column.

    The slope of the cumulative power across the band, which is steadier than one bin.

    Parameters
    ----------
    freqs
        Equally spaced frequencies ``(n_freqs,)`` from 0 Hz; bin ``i`` covers
        ``freqs[i] +- step / 2``.
    power
        Density ``(n_freqs, n_channels)``.
    centre_hz
        Centre of the band per column.
    half_width_hz
        Half the width of the band.

    Returns
    -------
    ndarray
        Mean density per column (NaN where the centre is NaN).
    """
    step = float(freqs[1] - freqs[0])
    edges = np.append(freqs - step / 2, freqs[-1] + step / 2)
    cumulative = np.vstack([np.zeros((1, power.shape[1])), np.cumsum(power, axis=0) * step])
    density = np.full(power.shape[1], np.nan)
    for column, centre in enumerate(np.asarray(centre_hz, dtype=np.float64)):
        if np.isfinite(centre):
            lo, hi = np.interp(
                [centre - half_width_hz, centre + half_width_hz], edges, cumulative[:, column]
            )
            density[column] = (hi - lo) / (2 * half_width_hz)
    return density


def effective_duration(x: FloatArray, fs: float, block: int) -> FloatArray:
    """Duration of steady power that carries as much information as ``x``, per column.

    ``x`` is cut into blocks of ``block`` samples (a partial last block is left out); with
    ``P_j`` the power of block ``j``, the effective duration is
    ``block / fs * (sum P_j)^2 / sum P_j^2``: the whole length for a steady signal, less when
    the power is concentrated in part of it (an amplitude-modulated burst).

    Parameters
    ----------
    x
        Signal ``(n_samples, n_channels)``.
    fs
        Sample rate in Hz.
    block
        Block length in samples.

    Returns
    -------
    ndarray
        Seconds per column (0 for a column without power or shorter than a block).
    """
    n_blocks = len(x) // block
    blocks = np.asarray(x[: n_blocks * block], dtype=np.float64).reshape(
        n_blocks, block, x.shape[1]
    )
    power = (blocks**2).sum(axis=1)
    total, squares = power.sum(axis=0), (power**2).sum(axis=0)
    count = np.divide(total**2, squares, out=np.zeros_like(total), where=squares > 0)
    duration: FloatArray = count * block / fs
    return duration


def median_frequency_error(
    freqs: FloatArray,
    power: FloatArray,
    signal_power: FloatArray,
    mdf: FloatArray,
    duration_s: FloatArray,
    half_width_hz: float = 15.0,
) -> FloatArray:
    """Standard error of median frequencies estimated from a stochastic signal, per column.

    For a Gaussian signal observed for ``T`` seconds, spectral estimates ``1 / T`` apart are
    nearly independent, each with a standard deviation equal to its density. The share of power
    below the median then has variance ``integral(P^2) / (4 T (integral S)^2)``, and the median
    frequency, through the slope ``S(mdf) / integral(S)`` of that share,
    ``se^2 = integral(P^2) / (4 T S(mdf)^2)``, where ``P`` is the density of what was measured
    (signal and noise) and ``S`` that of the signal alone.

    Parameters
    ----------
    freqs
        Equally spaced frequencies ``(n_freqs,)`` from 0 Hz.
    power
        Density of the measured signal ``(n_freqs, n_channels)``.
    signal_power
        Density of the signal alone (``power`` when no noise was removed), same shape.
    mdf
        Median frequency of ``signal_power`` per column.
    duration_s
        (Effective) duration of the measurement per column, see :func:`effective_duration`.
    half_width_hz
        Half-width of the band over which ``S(mdf)`` is averaged.

    Returns
    -------
    ndarray
        Standard error in Hz per column (NaN where it cannot be told).
    """
    step = float(freqs[1] - freqs[0])
    spread = (power**2).sum(axis=0) * step
    slope = band_density(freqs, signal_power, mdf, half_width_hz)
    denominator = 4 * np.asarray(duration_s, dtype=np.float64) * slope**2
    valid = np.isfinite(denominator) & (denominator > 0)
    variance = np.divide(spread, denominator, out=np.full_like(spread, np.nan), where=valid)
    error: FloatArray = np.sqrt(variance)
    return error


def noise_corrected_median_frequency(
    x: FloatArray,
    fs: float,
    noise_power: FloatArray | None = None,
    segment_s: float = 0.128,
) -> tuple[FloatArray, FloatArray]:
    """Median frequency of a Welch spectrum with the noise's spectrum taken out, and its error.

    The noise density (from rest, with the same segment length, see :func:`welch_power`) is
    subtracted from the signal's Welch density, negative values clipped to zero, before the
    median is taken: a flat noise floor otherwise pulls the median up, the more so the smaller
    the signal's share of the power.

    Parameters
    ----------
    x
        Signal ``(n_samples, n_channels)``.
    fs
        Sample rate in Hz.
    noise_power
        Noise density ``(n_freqs, n_channels)`` on the frequencies of
        ``welch_power(x, fs, welch_segment(fs, segment_s))``; None: no correction.
    segment_s
        Welch segment length (Hann window, 50 % overlap).

    Returns
    -------
    mdf, standard_error
        Median frequency and its standard error (:func:`median_frequency_error`) in Hz per
        column; NaN for a column without power or too few samples.
    """
    n_segment = welch_segment(fs, segment_s)
    if len(x) < n_segment:
        nan = np.full(x.shape[1], np.nan)
        return nan, nan.copy()
    freqs, power = welch_power(x, fs, n_segment)
    signal_power = power if noise_power is None else np.clip(power - noise_power, 0.0, None)
    mdf = spectrum_median_frequency(freqs, signal_power)
    duration = effective_duration(x, fs, n_segment - n_segment // 2)
    return mdf, median_frequency_error(freqs, power, signal_power, mdf, duration)
