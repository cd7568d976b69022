"""ASCII decimal values, one per notification: the MyoWare 2.0 Wireless Shield stock firmware.

Source (public): AdvancerTechnologies ``MyoWare-Arduino-Library`` (``MyoWare.h``,
``MyoWare.cpp`` and the ``MyoWareBLEPeripheral`` / ``MyoWareBLEUART`` examples).

The peripheral example writes ``String(myoware.readSensorOutput(outputType))`` to a
``BLEStringCharacteristic`` on every pass of ``loop()``, so each notification is one number
printed by Arduino's ``String(double)``: two decimals, e.g. ``"1234.00"`` or ``"-17.00"``. The
UART example sends ``"<env>,<raw>\\n"`` instead; :attr:`AsciiValuesDecoder.parameters` ``field``
and ``separator`` pick one value out of such a record. A notification holding several complete
lines gives one sample per non-empty line (bytes are not carried over between notifications: a
line split across two notifications is not reassembled).

There is no counter and no timestamp: ``lost`` is always 0, ``sequence`` and
``device_time_s`` are ``None``; times come from arrival.

Units: the numbers are ADC counts (the library's ``setConvertOutput(false)``, the examples'
setting; 12-bit ADC at 3.3 V on the Wireless Shield). ``readSensorOutput(RAW)`` already
subtracts the REF pin (``RAW - REF``), so RAW values are centred on 0 and need no mid-scale
offset; microvolts at the electrodes are ``(value - offset) * scale_uv`` with
``scale_uv = 3.3 / 4095 / 200 * 1e6`` (the library divides by ``2**12 - 1``; RAW gain 200).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from emg.devices.decoding import DecodedPacket, Decoder, MalformedPacket, register

#: A plain decimal number as Arduino prints it (an exponent is accepted too).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Longest payload read; BLE string characteristics are at most a few hundred bytes.
MAX_PAYLOAD = 512
#: Largest magnitude accepted, in counts (a 12-bit ADC gives at most 4095).
MAX_COUNTS = 1e9


@register
class AsciiValuesDecoder(Decoder):
    """One ASCII decimal value per notification (or per line), in ADC counts.

    Parameters
    ----------
    params
        ``field``: which ``separator``-separated field of a record is the sample (0 = first,
        the default). ``separator``: the field separator (``","``). ``offset``: counts
        subtracted before scaling (0; RAW - REF is already centred).
    channels
        Must be 1: one value per record.
    scale_uv
        Microvolts per count.
    sample_rate
        Nominal samples per second (the firmware has no rate; see the profile).
    """

    kind: ClassVar[str] = "ascii-values"
    parameters: ClassVar[Mapping[str, Any]] = {"field": 0, "separator": ",", "offset": 0.0}

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        super().__init__(params, channels, scale_uv, sample_rate)
        if channels != 1:
            raise ValueError(f"the ascii-values decoder gives 1 channel, not {channels}")
        field, separator, offset = (self.params[k] for k in ("field", "separator", "offset"))
        if isinstance(field, bool) or not isinstance(field, int) or field < 0:
            raise ValueError(f"field must be a field index 0, 1, ..., not {field!r}")
        if not isinstance(separator, str) or not separator or separator.isspace():
            raise ValueError(f"separator must be a non-blank string, not {separator!r}")
        if (
            isinstance(offset, bool)
            or not isinstance(offset, (int, float))
            or not math.isfinite(offset)
        ):
            raise ValueError(f"offset must be a number, not {offset!r}")
        self.field, self.separator, self.offset = field, separator, float(offset)

    def parse(self, line: str) -> float:
        """The value of one record in counts.

        Parameters
        ----------
        line
            One record, e.g. ``"512"`` or ``"300,512"``.

        Returns
        -------
        float
            The chosen field as a number.

        Raises
        ------
        MalformedPacket
            When the field is missing or not a decimal number.
        """
        fields = line.split(self.separator)
        if self.field >= len(fields):
            raise MalformedPacket(
                f"record {line!r} has {len(fields)} field(s), field {self.field} wanted"
            )
        text = fields[self.field].strip()
        if not _NUMBER.fullmatch(text):
            raise MalformedPacket(f"field {self.field} of {line!r} is not a decimal number")
        value = float(text)
        if not abs(value) <= MAX_COUNTS:
            raise MalformedPacket(f"field {self.field} of {line!r} is out of range")
        return value

    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        if len(payload) > MAX_PAYLOAD:
            raise MalformedPacket(f"{len(payload)} bytes is too long for one ASCII value")
        try:
            text = payload.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedPacket("not ASCII text") from None
        text = text.rstrip("\x00")  # some firmwares send C strings with their terminator
        lines = [line for line in text.replace("\r", "\n").split("\n") if line.strip()]
        if not lines:
            raise MalformedPacket("empty payload")
        values = np.array([self.parse(line) for line in lines], dtype=np.float64)
        samples = ((values - self.offset) * self.scale_uv).astype(np.float32).reshape(-1, 1)
        return [DecodedPacket(samples=samples)]
