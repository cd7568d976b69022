"""Median frequency of the EMG power spectrum over a sliding window (fatigue indicator)."""

from __future__ import annotations

import functools

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


def welch_power(x: FloatArray, fs: float, n_segment: int) -> tuple[FloatArray, FloatArray]:
    """Welch power spectral density per column: Hann segments, 50 % overlap, mean removed.

    The same numbers as ``scipy.signal.welch(x, fs, nperseg=n_segment, axis=0)`` (one-sided
    density, segments that do not fit dropped), with all segments transformed in one call:
    SciPy's loop over segments costs about 1 ms per burst, which made the median frequency of
    every rep the largest cost of an offline analysis.

    Parameters
    ----------
    x
        Signal ``(n_samples, n_channels)``, at least ``n_segment`` samples.
    fs
        Sample rate in Hz.
    n_segment
        Segment length in samples.

    Returns
    -------
    freqs, power
        Frequencies ``(n_segment // 2 + 1,)`` and density ``(n_freqs, n_channels)``.
    """
    window = _hann(n_segment)
    step = n_segment - n_segment // 2
    segments = np.lib.stride_tricks.sliding_window_view(
        np.asarray(x, dtype=np.float64), n_segment, axis=0
    )[::step]  # (n_segments, n_channels, n_segment)
    detrended = segments - segments.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(detrended * window, axis=-1)
    power = (spectrum.real**2 + spectrum.imag**2).mean(axis=0).T
    power *= 1.0 / (fs * float(np.sum(window**2)))
    last = -1 if n_segment % 2 == 0 else None  # the Nyquist bin is not doubled
    power[1:last] *= 2
    freqs = np.asarray(np.fft.rfftfreq(n_segment, 1 / fs), dtype=np.float64)
    return freqs, power


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> FloatArray:
    window: FloatArray = signal.get_window("hann", n)
    window.setflags(write=False)
    return window


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
