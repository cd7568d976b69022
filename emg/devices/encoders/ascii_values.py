"""ASCII values encoder: one number per notification, as the MyoWare 2.0 Wireless Shield sends.

The stock ``MyoWareBLEPeripheral`` example of the AdvancerTechnologies MyoWare Arduino Library
writes ``String(myoware.readSensorOutput(...))`` to a string characteristic on every pass of
``loop()``: one ADC reading (an integer, e.g. ``RAW - REF``) printed by Arduino's
``String(double)``, i.e. with two decimals: ``"1234.00"``, ``"-17.00"``. There is no counter, no
timestamp and no rate.

The value is ``round(µV / scale_uv + offset)``: whole ADC counts, as the sensor reads them,
clipped to what a difference of two 12-bit readings can be (``profile.extra.adc_bits``,
default 12: ±4095), so the receiver gets every sample back to within half a count. The
profile's ``field`` and ``separator`` pick one value out of a record: the encoder sends the
value as field 0 alone, which is what the peripheral example sends (the decoder's default); for
another ``field`` it pads the record with zero fields before it, joined by the separator.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoders.ascii_values import AsciiValuesDecoder
from emg.devices.encoding import Encoder, Notification, quantise, register_encoder
from emg.devices.profiles import SensorProfile

#: ADC resolution assumed when the profile's ``extra.adc_bits`` does not say.
ADC_BITS = 12


def arduino_string(value: float, decimals: int = 2) -> str:
    """Arduino's ``String(double, decimals)``: fixed point, ``decimals`` places (``dtostrf``).

    Parameters
    ----------
    value
        The number.
    decimals
        Places after the point (Arduino's default: 2).

    Returns
    -------
    str
        E.g. ``"1234.00"`` or ``"-17.00"``.
    """
    return f"{value:.{decimals}f}"


@register_encoder
class AsciiValuesEncoder(Encoder):
    """One ASCII decimal value per notification (Arduino ``String(double)``).

    Parameters
    ----------
    profile
        A one-channel profile with ``scale_uv`` and the decoder's ``offset``, ``field`` and
        ``separator``; its ``extra.adc_bits`` (12 if absent) bounds the values.

    Raises
    ------
    ValueError
        For a profile the ascii-values decoder does not accept.
    """

    kind: ClassVar[str] = "ascii-values"

    def __init__(self, profile: SensorProfile) -> None:
        super().__init__(profile)
        decoder = profile.decoder()  # validates channels, field, separator and offset
        if not isinstance(decoder, AsciiValuesDecoder):
            raise ValueError(f"profile '{profile.name}' does not use the ascii-values decoder")
        self.offset = decoder.offset
        self._prefix = (f"0{decoder.separator}" * decoder.field) if decoder.field else ""
        bits = profile.extra.get("adc_bits", ADC_BITS)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32:
            raise ValueError(f"extra.adc_bits must be a whole number of bits, not {bits!r}")
        self.limit = (1 << bits) - 1

    @property
    def samples_per_notification(self) -> int:
        """One value per notification."""
        return 1

    def values(self, samples_uv: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The ADC counts the sensor prints: ``round(µV / scale_uv + offset)``, clipped.

        Parameters
        ----------
        samples_uv
            Microvolts, any shape (NaN is taken as 0).

        Returns
        -------
        numpy.ndarray
            Whole counts as float64, same shape.
        """
        counts = quantise(samples_uv, self.profile.scale_uv, -self.limit, self.limit, self.offset)
        return counts + 0.0  # a whole count, never "-0.00"

    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """One notification per sample.

        Parameters
        ----------
        samples_uv
            ``(n, 1)`` microvolts, normally one sample.
        device_time_us
            Unused: the firmware sends no time.

        Returns
        -------
        list of Notification
            One ASCII number per sample, e.g. ``b"-17.00"``.
        """
        values = np.asarray(samples_uv, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != 1:
            raise ValueError(f"samples must be (n, 1), got {values.shape}")
        characteristic = self.profile.notify[0]
        return [
            Notification(characteristic, (self._prefix + arduino_string(v)).encode("ascii"))
            for v in self.values(values[:, 0]).tolist()
        ]
