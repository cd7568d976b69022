"""What the signal chain accepts: the range of every setting and the sample rates it runs at.

The limits are physical ones a user of surface EMG would accept (the README's table gives the
defaults and their sources): a band-pass inside 0-50 kHz with its lower edge below its upper
one, an RMS window of 25-250 ms, thresholds above zero, hold and refinement times of a few
seconds at most, small even filter orders. Every setting is checked when a
:class:`~emg.dsp.chain.ChainConfig` is made, so a notebook, a recorded session and the command
line refuse the same values with the same message; the callers only say where the value came
from (an option, a field of ``session.json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emg.block import MAX_SAMPLE_RATE_HZ
from emg.dsp.onset import REFINEMENTS
from emg.errors import EmgInputError
from emg.errors import SettingError as SettingError  # re-exported: imported from here too

#: Lowest sample rate the analysis runs at: the slowest supported sensors (Myo, Ganglion) run
#: at 200 Hz; below it the band-pass (20 Hz up to 0.45 x the rate) and the mains check (50/60
#: Hz and their neighbourhood) no longer fit.
MIN_SAMPLE_RATE_HZ = 200.0


@dataclass(frozen=True)
class Limit:
    """The range of one numeric setting.

    Attributes
    ----------
    low, high
        Smallest and largest value accepted.
    what
        What the setting is, for messages.
    unit
        ``"s"`` (shown in ms below a second), ``"Hz"``, ``"ms"`` or ``""``.
    above
        True if ``low`` itself is not accepted (the value must be above it).
    integer
        True for a whole number.
    optional
        True if None is accepted too (the setting then has a derived value).
    """

    low: float
    high: float
    what: str
    unit: str = ""
    above: bool = False
    integer: bool = False
    optional: bool = False

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`SettingError` naming ``name`` unless ``value`` is in range."""
        if value is None and self.optional:
            return
        kind = "a whole number" if self.integer else "a number"
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (self.integer and not isinstance(value, int)):
            raise SettingError(name, f"{self.what} must be {kind}, got {value!r}")
        too_low = value <= self.low if self.above else value < self.low
        if not math.isfinite(value) or too_low or value > self.high:
            low = "above " if self.above else "from "
            span = f"{low}{self.show(self.low)} {'and at most' if self.above else 'to'}"
            raise SettingError(
                name, f"{self.what} must be {span} {self.show(self.high)}, got {self.show(value)}"
            )

    def show(self, value: float) -> str:
        """``value`` with its unit (seconds below one as milliseconds)."""
        if self.unit == "s" and math.isfinite(value) and 0 < abs(value) < 1:
            return f"{value * 1000:g} ms"
        return f"{value:g} {self.unit}".strip()


#: The range of every numeric setting of the chain (``rest`` and the band edges' order are
#: checked on their own).
CHAIN_LIMITS: dict[str, Limit] = {
    "highpass_hz": Limit(0.0, MAX_SAMPLE_RATE_HZ / 2, "the band-pass lower edge", "Hz", True),
    "lowpass_hz": Limit(0.0, MAX_SAMPLE_RATE_HZ / 2, "the band-pass upper edge", "Hz", True),
    "bandpass_order": Limit(2, 12, "the band-pass order", integer=True),
    "envelope_s": Limit(0.025, 0.25, "the RMS envelope window", "s"),
    "k": Limit(0.0, 50.0, "the onset threshold (baseline SDs)", above=True),
    "offset_k": Limit(0.0, 50.0, "the offset threshold (baseline SDs)"),
    "hold_s": Limit(0.001, 5.0, "the onset hold time", "s"),
    "offset_hold_s": Limit(0.001, 5.0, "the offset hold time", "s"),
    "refine_s": Limit(0.0, 2.0, "the onset refinement span", "s"),
    "refine_rho": Limit(1.0, 1e4, "the refinement variance ratio", above=True),
    "baseline_window_s": Limit(0.01, 10.0, "the baseline window", "s"),
    "baseline_warmup_s": Limit(0.0, 60.0, "the baseline warm-up", "s", above=True),
    "baseline_horizon_s": Limit(0.01, 3600.0, "the baseline horizon", "s"),
    "baseline_update_s": Limit(0.0, 600.0, "the baseline update interval", "s", above=True),
    "mdf_window_s": Limit(0.05, 10.0, "the median-frequency window", "s"),
    "mdf_hop_s": Limit(0.0, 10.0, "the median-frequency hop", "s", above=True),
    "settle_s": Limit(0.0, 3600.0, "the filter settling time", "s", optional=True),
}

#: Longest time an explicit rest period may end at (seconds into the recording).
MAX_REST_END_S = 3600.0
#: Shortest explicit rest period (seconds): its envelope's mean and spread need many 50 ms
#: windows, and the mains is looked for in it at no coarser than 2 Hz
MIN_REST_S = 0.5


def check_chain_settings(config: Any) -> None:
    """Check every field of a :class:`~emg.dsp.chain.ChainConfig`.

    Raises
    ------
    SettingError
        Naming the first field out of range, and the range.
    """
    for name, limit in CHAIN_LIMITS.items():
        limit.check(name, getattr(config, name))
    if config.highpass_hz >= config.lowpass_hz:
        raise SettingError(
            "highpass_hz",
            f"the band-pass lower edge ({config.highpass_hz:g} Hz) must be below its upper "
            f"edge (lowpass_hz, {config.lowpass_hz:g} Hz)",
        )
    if config.bandpass_order % 2:
        raise SettingError(
            "bandpass_order",
            f"the band-pass order must be even (a band-pass has pole pairs), got "
            f"{config.bandpass_order}",
        )
    if config.refinement not in REFINEMENTS:
        raise SettingError(
            "refinement", f"must be one of {', '.join(REFINEMENTS)}, got {config.refinement!r}"
        )
    if config.detector not in ("rms", "tkeo"):
        raise SettingError("detector", f"must be 'rms' or 'tkeo', got {config.detector!r}")
    for name in ("remove_crosstalk", "mains_bridge"):
        if not isinstance(getattr(config, name), bool):
            raise SettingError(name, f"must be true or false, got {getattr(config, name)!r}")
    if config.offset_k > config.k:
        raise SettingError(
            "offset_k",
            f"the offset threshold ({config.offset_k:g}) must not exceed the onset one "
            f"(k, {config.k:g})",
        )
    if config.mains_hz is not None and config.mains_hz not in (50.0, 60.0):
        raise SettingError(
            "mains_hz", f"mains must be 50 or 60 Hz or None (no notch), got {config.mains_hz!r}"
        )
    if config.baseline_horizon_s < config.baseline_window_s:
        raise SettingError(
            "baseline_horizon_s",
            f"the baseline horizon ({config.baseline_horizon_s:g} s) must be at least one "
            f"baseline window ({config.baseline_window_s:g} s)",
        )
    _check_rest(config.rest)


def _check_rest(rest: Any) -> None:
    if rest is None:
        return
    numbers = (
        isinstance(rest, tuple)
        and len(rest) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rest)
    )
    if not numbers:
        raise SettingError("rest", f"the rest period must be (start, end) in seconds, got {rest!r}")
    start, end = rest
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end <= MAX_REST_END_S):
        raise SettingError(
            "rest",
            f"the rest period must start at 0 s or later and end after its start, at most "
            f"{MAX_REST_END_S:g} s in, got {start:g}-{end:g} s",
        )
    if end - start < MIN_REST_S:
        raise SettingError(
            "rest",
            f"the rest period must last at least {MIN_REST_S:g} s, got {start:g}-{end:g} s",
        )


def check_sample_rate(sample_rate: float) -> None:
    """Check that the analysis can run at ``sample_rate``.

    Raises
    ------
    EmgInputError
        Saying what is needed: at least :data:`MIN_SAMPLE_RATE_HZ`, at most
        :data:`~emg.recording.MAX_SAMPLE_RATE_HZ`.
    """
    fs = float(sample_rate)
    if not math.isfinite(fs) or fs > MAX_SAMPLE_RATE_HZ:
        raise EmgInputError(
            f"a sample rate of {fs:g} Hz is not plausible for EMG (at most "
            f"{MAX_SAMPLE_RATE_HZ:g} Hz)"
        )
    if fs < MIN_SAMPLE_RATE_HZ:
        raise EmgInputError(
            f"sampled at {fs:g} Hz; surface EMG analysis needs at least "
            f"{MIN_SAMPLE_RATE_HZ:g} Hz (the band-pass keeps 20 Hz up to 0.45 x the sample "
            "rate, and the muscle's signal lies mostly above 20 Hz)",
        )
