"""Amplitude normalisation: %MVC from a calibration, or multiples of the rest RMS.

Raw microvolts cannot be compared between muscles or sensors (skin, fat, electrode distance);
the standard is to divide each muscle's envelope by its envelope during a maximal voluntary
contraction (MVC). Without an MVC the envelope is divided by its own rest level, and every
output says which was used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from emg.analysis.signal_quality import FLAT_SD_UV

FloatArray = npt.NDArray[np.float64]

#: moving-average window over the RMS envelope for the MVC value (SENIAM-style 0.5 s plateau)
MVC_WINDOW_S = 0.5

#: An MVC amplitude (µV) below this was taken from a channel with no signal (all zeros, stuck,
#: or its electrode off), not from a contraction: the flat-channel bound of the signal-quality
#: check (:data:`~emg.analysis.signal_quality.FLAT_SD_UV`), an order of magnitude below the
#: input noise of any EMG front end the toolkit supports.
MIN_MVC_UV = FLAT_SD_UV


@dataclass(frozen=True)
class Normalisation:
    """Per-muscle-group reference amplitudes.

    Attributes
    ----------
    mvc_uv
        MVC amplitude (RMS envelope, microvolts) per muscle group (``glute``,
        ``hamstring``); groups missing here are normalised to their rest RMS.
    """

    mvc_uv: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for group, value in self.mvc_uv.items():
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"MVC amplitude of {group} must be > 0 uV, got {value:g}")

    def method(self, groups: tuple[str, ...] = ("glute", "hamstring")) -> str:
        """``mvc`` if every group has an MVC, ``rest`` if none, otherwise an error.

        Raises
        ------
        ValueError
            If only some of ``groups`` have an MVC: a ratio of %MVC to multiples of rest
            would be meaningless.
        """
        have = [g in self.mvc_uv for g in groups]
        if all(have):
            return "mvc"
        if not any(have):
            return "rest"
        missing = [g for g, h in zip(groups, have, strict=True) if not h]
        raise ValueError(
            f"an MVC is given for some muscles but not for {', '.join(missing)}: give one for "
            "every muscle, or none (then everything is relative to rest)"
        )

    def unit(self, groups: tuple[str, ...] = ("glute", "hamstring")) -> str:
        """``%MVC`` or ``x rest``."""
        return "%MVC" if self.method(groups) == "mvc" else "x rest"

    def reference(self, group: str, rest_uv: float) -> float:
        """The amplitude that ``group``'s envelope is divided by (``unit`` applied)."""
        if group in self.mvc_uv:
            return self.mvc_uv[group] / 100.0
        return rest_uv


def mvc_amplitude(envelope: FloatArray, fs: float, window_s: float = MVC_WINDOW_S) -> float:
    """MVC value of an RMS envelope: the largest mean over any ``window_s`` stretch.

    Parameters
    ----------
    envelope
        RMS envelope (microvolts) of the MVC trial, 1-D.
    fs
        Sample rate in Hz.
    window_s
        Averaging window; a plateau of this length is the usual MVC reference.

    Returns
    -------
    float
        The MVC amplitude in microvolts.

    Raises
    ------
    ValueError
        If the trial is shorter than the window.
    """
    n = max(1, round(window_s * fs))
    if len(envelope) < n:
        raise ValueError(
            f"the MVC trial is {len(envelope) / fs:.2f} s long, shorter than the "
            f"{window_s:g} s averaging window"
        )
    sums = np.cumsum(np.concatenate([[0.0], envelope.astype(np.float64)]))
    return float(np.max(sums[n:] - sums[:-n]) / n)
