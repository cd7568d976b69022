"""The filters' start-up transient, fitted and taken out of the first moments of a stream.

The chain's filters start from the steady state of the stream's first sample
(:class:`~emg.dsp.filters.SosFilter`), so a DC offset leaves no transient; what the signal did
before the stream began does. Mains interference is most of it: the notch's stop band is
narrow, so its response to the mains that was there before the first sample rings at the mains
frequency and its harmonics for about ``Q / (pi f0)`` (0.19 s at 50 Hz). With mains 30 dB above
the noise that ringing still crossed the onset threshold half a second into the stream.

Whatever the input, the filters' output minus the output they would have given had they been
running all along is a free response of the cascade: a sum of its own modes, ``r^n cos(w n)``
and ``r^n sin(w n)`` for each pole pair ``r e^(+-i w)`` (``p^n`` for a real pole), ``n`` counted
from the stream's first sample. Each channel's filtered signal is fitted with those modes by
least squares over its samples so far, and the fit is subtracted. The fit at sample ``n`` uses
samples up to ``n`` only, so it is causal and the same for any block size. It stops once every
mode has decayed below :data:`DECAYED` of its start.

The fit also takes out the part of the signal itself that looks like the modes: at sample
``n`` about ``2 x (pole pairs still ringing) / n`` of its power, a few per cent 50 ms into the
stream, and nothing once the modes have decayed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: a mode counts as decayed once its amplitude is below this share of its start
DECAYED = 1e-6
#: ridge added to the fit's normal equations (the modes are of order 1 at the start): keeps the
#: first samples' fits, with fewer samples than modes, well defined
RIDGE = 1e-6
#: samples fitted at once (bounds the memory of a long first block)
CHUNK = 1024


class StartupTransient:
    """Takes the free response of a filter cascade out of its output, sample by sample.

    Parameters
    ----------
    sos
        The cascade, as second-order sections (scipy's ``sos`` layout).
    n_channels
        Channels of the output.

    Examples
    --------
    >>> from scipy import signal
    >>> sos = np.concatenate(signal.iirnotch(50.0, 30.0, fs=1000.0))[None, :]
    >>> t = np.arange(2000) / 1000.0
    >>> x = 100 * np.sin(2 * np.pi * 50 * t + 1.0)  # mains from before the first sample
    >>> y, _ = signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])
    >>> round(float(abs(y[100:200]).max()))  # the notch still rings 0.1-0.2 s in
    59
    >>> cleaned = StartupTransient(sos, 1).process(y[:, None].copy())[:, 0]
    >>> bool(abs(cleaned[100:200]).max() < 1e-3)
    True
    """

    def __init__(self, sos: FloatArray, n_channels: int) -> None:
        poles = np.concatenate([np.roots(section[3:]) for section in np.atleast_2d(sos)])
        # one of each conjugate pair (its real and imaginary parts give both modes)
        kept = poles[poles.imag >= 0]
        self._poles = kept[np.abs(kept) > 0]
        self._real = np.abs(self._poles.imag) == 0
        self.n_modes = int(2 * len(self._poles) - self._real.sum())
        radius = np.abs(self._poles)
        #: first sample at which every mode has decayed (the fit stops there)
        self.stop = int(np.ceil(np.max(np.log(DECAYED) / np.log(radius), initial=0.0)))
        self._gram = RIDGE * np.eye(self.n_modes)
        self._moment = np.zeros((self.n_modes, n_channels))
        self._position = 0

    def _modes(self, index: npt.NDArray[np.int64]) -> FloatArray:
        """The modes at stream samples ``index``, ``(len(index), n_modes)``."""
        powers = self._poles[None, :] ** index[:, None]
        out: FloatArray = np.concatenate([powers.real, powers.imag[:, ~self._real]], axis=1)
        return out

    def process(self, filtered: FloatArray) -> FloatArray:
        """Take the fitted transient out of the next filtered samples, in place.

        Parameters
        ----------
        filtered
            The cascade's output, ``(n_samples, n_channels)``, float64; the stream's next
            samples.

        Returns
        -------
        ndarray
            ``filtered``, corrected.
        """
        done = 0
        while self._position < self.stop and done < len(filtered):
            n = min(len(filtered) - done, self.stop - self._position, CHUNK)
            modes = self._modes(np.arange(self._position, self._position + n))
            rows = filtered[done : done + n]
            # running sums, added in stream order from the previous ones: the same numbers
            # for any block size
            gram = np.cumsum(
                np.concatenate([self._gram[None], modes[:, :, None] * modes[:, None, :]]), axis=0
            )[1:]
            moment = np.cumsum(
                np.concatenate([self._moment[None], modes[:, :, None] * rows[:, None, :]]), axis=0
            )[1:]
            for channel in range(rows.shape[1]):  # each on its own: the same numbers alone
                fit = np.linalg.solve(gram, moment[:, :, channel, None])[:, :, 0]
                rows[:, channel] -= (modes * fit).sum(axis=1)
            self._gram, self._moment = gram[-1], moment[-1]
            self._position += n
            done += n
        self._position += len(filtered) - done
        return filtered
