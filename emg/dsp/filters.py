"""Causal band-pass and mains notch filters with carried state (scipy.signal SOS)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import signal

from emg.dsp.spectral import welch_power

try:  # the compiled loop behind signal.sosfilt: same arithmetic, without its per-call checks
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_rows
except ImportError:  # pragma: no cover - layout of scipy's private modules changed
    _sosfilt_rows = None

FloatArray = npt.NDArray[np.float64]

#: The band-pass upper edge is at most this fraction of the sample rate (below Nyquist).
UPPER_EDGE_FRACTION = 0.45


def bandpass_edges(fs: float, low_hz: float, high_hz: float) -> tuple[float, float]:
    """Band-pass edges actually used at a sample rate.

    The upper edge follows Nyquist: ``min(high_hz, 0.45 * fs)``.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    low_hz, high_hz
        Requested lower and upper edges in Hz.

    Returns
    -------
    tuple of float
        The (low, high) edges in Hz.

    Raises
    ------
    ValueError
        If the band is empty at this sample rate.
    """
    high = min(high_hz, UPPER_EDGE_FRACTION * fs)
    if not 0 < low_hz < high:
        raise ValueError(
            f"band-pass {low_hz:g}-{high_hz:g} Hz is empty at {fs:g} Hz sampling "
            f"(upper edge limited to {high:g} Hz)"
        )
    return low_hz, high


def design_bandpass(fs: float, low_hz: float, high_hz: float, order: int) -> FloatArray:
    """Butterworth band-pass as second-order sections.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    low_hz, high_hz
        Edges in Hz; the upper one is limited to ``0.45 * fs``.
    order
        Order of the whole band-pass (number of poles), even; scipy's design order is half.

    Returns
    -------
    ndarray
        SOS array shaped ``(order // 2, 6)``.
    """
    if order < 2 or order % 2:
        raise ValueError(f"band-pass order must be an even number >= 2, got {order}")
    low, high = bandpass_edges(fs, low_hz, high_hz)
    sos: FloatArray = signal.butter(order // 2, [low, high], btype="bandpass", fs=fs, output="sos")
    return sos


def design_notch(fs: float, mains_hz: float, upper_hz: float, quality: float = 30.0) -> FloatArray:
    """IIR notches at the mains frequency and its harmonics below ``upper_hz``.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    mains_hz
        Mains frequency, 50 or 60 Hz.
    upper_hz
        Highest frequency kept by the band-pass; harmonics above it are not notched.
    quality
        Quality factor of each notch (centre frequency / -3 dB bandwidth).

    Returns
    -------
    ndarray
        SOS array, one section per notched harmonic.
    """
    sections = []
    harmonic = mains_hz
    while harmonic < min(upper_hz, fs / 2):
        b, a = signal.iirnotch(harmonic, quality, fs=fs)
        sections.append(np.concatenate([b, a]))
        harmonic += mains_hz
    return np.array(sections, dtype=np.float64).reshape(-1, 6)


class SosFilter:
    """A causal SOS filter over several channels that carries its state between blocks.

    The state is initialised on the first sample to the filter's step response steady state,
    so a DC offset at the start of a stream does not ring through the band-pass.

    With an even number of channels, sample-major blocks are filtered two channels at a time:
    each pair of adjacent channels is viewed as one complex signal and run through the same
    (real) sections, so SciPy's loop serves both channels at once (the loop is bound by the
    latency of its recursion, not by arithmetic). The real and imaginary parts go through the
    arithmetic of a real filter (a real coefficient times a complex value multiplies each part
    by it, and the zero imaginary part adds exact zeros), so the result is the same, bit for
    bit, as filtering each channel on its own; the tests check this on the installed SciPy.

    Parameters
    ----------
    sos
        Second-order sections, shape ``(n_sections, 6)``.
    n_channels
        Number of channels filtered independently.
    """

    def __init__(self, sos: FloatArray, n_channels: int) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.n_channels = n_channels
        self._sos_pairs = self.sos.astype(np.complex128)
        # the state, per channel (n_channels, n_sections, 2), or per channel pair as complex
        # numbers (n_channels // 2, n_sections, 2), whichever the last block used
        self._zi: FloatArray | None = None
        self._zi_pairs: npt.NDArray[np.complex128] | None = None

    def process(self, x: FloatArray) -> FloatArray:
        """Filter one block.

        Parameters
        ----------
        x
            Array shaped ``(n_samples, n_channels)``, any float dtype.

        Returns
        -------
        ndarray
            The filtered block, same shape: the transpose of a new channel-major array.
        """
        if len(self.sos) == 0 or len(x) == 0:
            return x
        rows = np.array(x.T, dtype=np.float64, order="C")
        out: FloatArray = self.filter_rows(rows).T
        return out

    def filter_samples(self, x: FloatArray) -> FloatArray:
        """Filter one sample-major block in place.

        Parameters
        ----------
        x
            C-contiguous float64 array ``(n_samples, n_channels)``; overwritten.

        Returns
        -------
        ndarray
            ``x``, now filtered (the same numbers as :meth:`process` and :meth:`filter_rows`).
        """
        n, n_channels = x.shape
        if len(self.sos) == 0 or n == 0:
            return x
        if n_channels == 1 and x.flags.c_contiguous:
            return self.filter_rows(x.T).T  # the transposed view is one contiguous row
        if n_channels % 2 or _sosfilt_rows is None or not x.flags.c_contiguous:
            x[...] = self.filter_rows(np.ascontiguousarray(x.T)).T
            return x
        pairs = x.view(np.complex128)  # (n, n_channels // 2): channel 2k real, 2k + 1 imaginary
        state = self._pair_state(x[0])
        if pairs.shape[1] == 1:
            _sosfilt_rows(self._sos_pairs, pairs.T, state)
        else:
            rows = np.ascontiguousarray(pairs.T)
            _sosfilt_rows(self._sos_pairs, rows, state)
            pairs[...] = rows.T
        return x

    def filter_rows(self, rows: FloatArray) -> FloatArray:
        """Filter one channel-major block in place.

        Parameters
        ----------
        rows
            float64 array ``(n_channels, n_samples)`` whose rows are contiguous; overwritten.

        Returns
        -------
        ndarray
            ``rows``, now filtered (the same result as :meth:`process` on ``rows.T``).
        """
        if len(self.sos) == 0 or rows.shape[1] == 0:
            return rows
        state = self._channel_state(rows[:, 0])
        if _sosfilt_rows is not None:
            _sosfilt_rows(self.sos, rows, state)
            return rows
        filtered, zf = signal.sosfilt(  # pragma: no cover - fallback
            self.sos, rows, axis=-1, zi=np.moveaxis(state, 0, 1)
        )
        self._zi = np.ascontiguousarray(np.moveaxis(zf, 1, 0))  # pragma: no cover
        rows[...] = filtered  # pragma: no cover
        return rows  # pragma: no cover

    def _channel_state(self, first: FloatArray) -> FloatArray:
        """The state per channel, started from the first samples ``first`` if new."""
        if self._zi_pairs is not None:
            pairs, self._zi_pairs = self._zi_pairs, None
            self._zi = np.empty((self.n_channels, *pairs.shape[1:]))
            self._zi[0::2], self._zi[1::2] = pairs.real, pairs.imag
        if self._zi is None:
            unit = signal.sosfilt_zi(self.sos)  # (n_sections, 2)
            self._zi = unit[None, :, :] * first[:, None, None]
        return self._zi

    def _pair_state(self, first: FloatArray) -> npt.NDArray[np.complex128]:
        """The state per channel pair as complex numbers, started from ``first`` if new."""
        if self._zi_pairs is None:
            channels = self._channel_state(first)
            self._zi_pairs = np.empty((self.n_channels // 2, *channels.shape[1:]), np.complex128)
            self._zi_pairs.real, self._zi_pairs.imag = channels[0::2], channels[1::2]
            self._zi = None
        return self._zi_pairs


def detect_mains(x: FloatArray, fs: float, min_ratio: float = 10.0) -> float | None:
    """Pick the mains frequency from a rest recording, if mains hum is present.

    Compares the Welch power at 50 and at 60 Hz with the median power 10-25 Hz away; the
    fundamental that stands out more is returned when it stands out by at least ``min_ratio``.
    (Harmonics are not compared: 300 Hz is a harmonic of both.)

    Parameters
    ----------
    x
        Rest signal, shape ``(n_samples,)`` or ``(n_samples, n_channels)``; at least 1 s.
    fs
        Sample rate in Hz.
    min_ratio
        Minimum peak-to-neighbourhood power ratio (10 = 10 dB) to report mains.

    Returns
    -------
    float or None
        50.0, 60.0 or None when no mains hum stands out.
    """
    x2 = x.reshape(len(x), -1)
    nperseg = int(min(len(x2), round(fs)))  # 1 Hz resolution
    freqs, pxx = welch_power(x2, fs, nperseg)
    pxx = pxx.mean(axis=1)
    best: tuple[float, float | None] = (min_ratio, None)
    for mains in (50.0, 60.0):
        distance = np.abs(freqs - mains)
        near, neighbours = pxx[distance <= 1.0], pxx[(distance >= 10) & (distance <= 25)]
        if not len(near) or not len(neighbours):
            continue  # too short to resolve the mains from its neighbourhood
        peak = float(near.max())
        ratio = peak / max(float(np.median(neighbours)), 1e-30)
        if ratio >= best[0]:
            best = (ratio, mains)
    return best[1]
