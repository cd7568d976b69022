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
least squares over its samples so far, and the fit is subtracted. The fit a sample is
corrected with was solved from earlier samples only (every :data:`GROUP` samples), so it is
causal and the same for any block size. A fit is used once the samples determine it
(:data:`MAX_CONDITION`); it stops once every mode has decayed below :data:`DECAYED` of its
start.

A sample is never in the fit it is corrected with, so the fit does not take its own value out;
on noise at rest the power after the settling time (0.09 s) is within about 2 % of the
unfitted one.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: a mode counts as decayed once its amplitude is below this share of its start
DECAYED = 1e-6
#: ridge added to the fit's normal equations (the modes are of order 1 at the start): keeps the
#: first samples' fits, with fewer samples than modes, well defined
RIDGE = 1e-6
#: fits are used from the first whose Gram matrix's condition number is below this on: before,
#: the first samples do not tell the modes apart (fewer samples than modes, or modes still
#: alike over so short a span), the ridge picks one of many fits, and its extrapolation to the
#: next samples was up to 750 µV against 15 µV of mains ringing (2 kHz, notch at 50 Hz, the
#: first 32 samples). Those samples are left as filtered. Undetermined, the matrix is near
#: 1e7 here; determined, a few hundred, rising slowly as the modes decay (which does not make
#: the fit less determined: later fits are used whatever their condition)
MAX_CONDITION = 1e3
#: samples fitted at once (bounds the memory of a long first block)
CHUNK = 1024
#: the fit is solved every this many samples (at stream indices ``GROUP - 1``, ``2 GROUP -
#: 1``, ...), and a sample is corrected with the last fit solved before it. Solving at every
#: sample, each chain for itself, made an 8 s set with a notch cost 68 ms instead of 3 ms at
#: 2 kHz; solved every 16 samples from Gram matrices shared by chains with the same filters,
#: 11 ms
GROUP = 16


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
        sections = np.ascontiguousarray(np.atleast_2d(sos), dtype=np.float64)
        self._modes, self._inverses = _design(sections.tobytes(), sections.shape)
        self.n_modes = self._modes.shape[1]
        #: first sample at which every mode has decayed (the fit stops there)
        self.stop = len(self._modes)
        self._moment = np.zeros((self.n_modes, n_channels))
        self._fit = np.zeros((self.n_modes, n_channels))  # the last one solved
        self._position = 0

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
            index = np.arange(self._position, self._position + n)
            modes = self._modes[index]
            rows = filtered[done : done + n]
            # the running sum, added in stream order from the previous one: the same numbers
            # for any block size
            moment = np.cumsum(
                np.concatenate([self._moment[None], modes[:, :, None] * rows[:, None, :]]), axis=0
            )[1:]
            # the fit is solved at the end of each group; a sample uses the last one before it
            ends = np.flatnonzero((index + 1) % GROUP == 0)
            inverses = self._inverses[(index[ends] + 1) // GROUP - 1]
            which = np.searchsorted(ends, np.arange(n), side="left")
            for channel in range(rows.shape[1]):  # each on its own: the same numbers alone
                solved = np.einsum("gij,gj->gi", inverses, moment[ends, :, channel])
                fits = np.concatenate([self._fit[None, :, channel], solved])
                rows[:, channel] -= (modes * fits[which]).sum(axis=1)
                if len(ends):
                    self._fit[:, channel] = solved[-1]
            self._moment = moment[-1]
            self._position += n
            done += n
        self._position += len(filtered) - done
        return filtered


@functools.lru_cache(maxsize=32)
def _design(sections: bytes, shape: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
    """The modes of a cascade (``sections``: its SOS array's bytes and shape) at every sample
    until they have decayed, ``(stop, n_modes)``, and the inverse of their Gram matrix (plus
    the ridge) at the end of each group, ``(stop // GROUP, n_modes, n_modes)``. They depend on
    the filters only, so every chain with the same filters shares them."""
    sos = np.frombuffer(sections, dtype=np.float64).reshape(shape)
    poles = np.concatenate([np.roots(section[3:]) for section in sos])
    # one of each conjugate pair (its real and imaginary parts give both modes)
    kept = poles[poles.imag >= 0]
    kept = kept[np.abs(kept) > 0]
    real = np.abs(kept.imag) == 0
    stop = int(np.ceil(np.max(np.log(DECAYED) / np.log(np.abs(kept)), initial=0.0)))
    powers = kept[None, :] ** np.arange(stop)[:, None]
    modes: FloatArray = np.concatenate([powers.real, powers.imag[:, ~real]], axis=1)
    n_modes = modes.shape[1]
    ends = np.arange(GROUP - 1, stop, GROUP)
    grams = np.empty((len(ends), n_modes, n_modes))
    total = RIDGE * np.eye(n_modes)
    for k, group in enumerate(np.split(modes[: len(ends) * GROUP], len(ends))):
        total = total + group.T @ group
        grams[k] = total
    inverses = np.asarray(np.linalg.inv(grams) if len(ends) else grams, dtype=np.float64)
    if len(ends):  # fits before the first determined one are not used: samples as filtered
        determined = np.linalg.cond(grams) < MAX_CONDITION
        inverses[: int(np.argmax(determined)) if determined.any() else len(ends)] = 0.0
    modes.setflags(write=False)
    inverses.setflags(write=False)
    return modes, inverses
