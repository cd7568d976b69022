"""Causal band-pass and mains notch filters with carried state (scipy.signal SOS)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import signal

try:  # the compiled loop behind signal.sosfilt: same arithmetic, without its per-call checks
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_rows
except ImportError:  # pragma: no cover - layout of scipy's private modules changed
    _sosfilt_rows = None

FloatArray = npt.NDArray[np.float64]


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
    high = min(high_hz, 0.45 * fs)
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
        self._zi: FloatArray | None = None  # (n_channels, n_sections, 2)

    def process(self, x: FloatArray) -> FloatArray:
        """Filter one block.

        Parameters
        ----------
        x
            float64 array shaped ``(n_samples, n_channels)``.

        Returns
        -------
        ndarray
            The filtered block, same shape.
        """
        if len(self.sos) == 0 or len(x) == 0:
            return x
        rows = np.array(x.T, dtype=np.float64, order="C")
        out: FloatArray = self.filter_rows(rows).T
        return out

    def filter_rows(self, rows: FloatArray) -> FloatArray:
        """Filter one channel-major block in place.

        Parameters
        ----------
        rows
            C-contiguous float64 array ``(n_channels, n_samples)``; overwritten.

        Returns
        -------
        ndarray
            ``rows``, now filtered (the same result as :meth:`process` on ``rows.T``).
        """
        if len(self.sos) == 0 or rows.shape[1] == 0:
            return rows
        if self._zi is None:
            unit = signal.sosfilt_zi(self.sos)  # (n_sections, 2)
            self._zi = unit[None, :, :] * rows[:, 0][:, None, None]
        if _sosfilt_rows is not None:
            _sosfilt_rows(self.sos, rows, self._zi)
            return rows
        filtered, zf = signal.sosfilt(  # pragma: no cover - fallback
            self.sos, rows, axis=-1, zi=np.moveaxis(self._zi, 0, 1)
        )
        self._zi = np.ascontiguousarray(np.moveaxis(zf, 1, 0))  # pragma: no cover
        rows[...] = filtered  # pragma: no cover
        return rows  # pragma: no cover


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
    freqs, pxx = signal.welch(x2, fs=fs, nperseg=nperseg, axis=0, detrend="constant")
    pxx = pxx.mean(axis=1)
    best: tuple[float, float | None] = (min_ratio, None)
    for mains in (50.0, 60.0):
        distance = np.abs(freqs - mains)
        peak = float(pxx[distance <= 1.0].max())
        neighbours = pxx[(distance >= 10) & (distance <= 25)]
        ratio = peak / max(float(np.median(neighbours)), 1e-30)
        if ratio >= best[0]:
            best = (ratio, mains)
    return best[1]
