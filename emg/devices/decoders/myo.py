"""Thalmic Myo armband, raw EMG mode: 8 channels of int8 at 200 Hz on four characteristics.

Sources (public): thalmiclabs ``myo-bluetooth`` ``myohw.h`` (``myohw_emg_data_t``: two samples
``int8_t sample1[8], sample2[8]``; ``MYOHW_EMG_DEFAULT_STREAMING_RATE 200``; the four
``EmgData0..3Characteristic`` UUIDs), the Myo developer blog "#MyoCraft: EMG in the Bluetooth
Protocol" (subscribe to all four notify characteristics; sensor order), and the client
libraries iomz ``dl-myo`` and PerlinWarp ``pyomyo`` (both emit ``sample1`` then ``sample2`` of
each notification, in arrival order).

Notifications
-------------
Every notification is 16 bytes: sample 1 (sensors 1-8, one signed byte each), then sample 2.
The armband sends them on ``d5060105``, ``d5060205``, ``d5060305`` and ``d5060405``
(``-a904-deb9-4748-2c7f4a124842``) in rotation, each at 25 notifications per second:
4 x 25 x 2 = 200 samples per second. :meth:`MyoDecoder.decode` needs the characteristic's UUID
(any case) to follow the rotation; without one (``None``) the samples are still decoded but
loss is not inferred and the rotation starts afresh.

Loss
----
There is no sequence counter and no device clock. The only loss signal is the rotation:
after characteristic ``i`` the next notification should come from ``(i + 1) mod 4``; each
characteristic skipped is one lost notification, i.e. 2 samples per channel, so
``lost = 2 * ((index - previous - 1) mod 4)``. Four or more notifications lost in a row alias
(a whole rotation is invisible); the arrival rate shows those. ``sequence`` is the rotation
index 0-3 (the Myo's only, implicit, 2-bit counter). The first notification after
:meth:`MyoDecoder.reset` has ``lost = 0``: the rotation's starting characteristic is not
documented.

Units
-----
The int8 values are the armband's unitless EMG counts (-128..127). Thalmic never
published a conversion to volts (users asking MyoMex#19 and myo-python#96 got "dimensionless",
"not specified"). The profile therefore sets ``stream.scale_uv = 1.0``: the decoder's output is
in counts, **not microvolts**. Relative measures (ratios, onsets against a baseline, MVC
normalisation) are meaningful; absolute microvolt thresholds are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from emg.devices.decoding import DecodedPacket, Decoder, MalformedPacket, register

#: The four EMG notify characteristics, in rotation order (lower-case 128-bit UUIDs).
EMG_CHARACTERISTICS = tuple(f"d5060{n}05-a904-deb9-4748-2c7f4a124842" for n in range(1, 5))
#: Bytes per notification: two samples of eight int8 values.
NOTIFICATION_BYTES = 16
#: EMG sensors of a Myo.
CHANNELS = 8
#: Samples per notification.
SAMPLES_PER_NOTIFICATION = 2

_INDEX = {uuid: index for index, uuid in enumerate(EMG_CHARACTERISTICS)}


def rotation_index(characteristic: str) -> int | None:
    """The rotation index (0-3) of an EMG characteristic, ``None`` for any other UUID.

    Parameters
    ----------
    characteristic
        A 128-bit UUID string, in any case.

    Returns
    -------
    int or None
        0 for ``d5060105-...`` up to 3 for ``d5060405-...``.
    """
    return _INDEX.get(characteristic.strip().lower())


@register
class MyoDecoder(Decoder):
    """Myo raw EMG notifications, loss inferred from the characteristic rotation.

    Parameters
    ----------
    params
        None.
    channels
        Must be 8.
    scale_uv
        Output units per int8 count; 1.0 in the profile (the counts are not microvolts, see the
        module docs).
    sample_rate
        200 Hz (all four characteristics together).
    """

    kind: ClassVar[str] = "myo"
    parameters: ClassVar[Mapping[str, Any]] = {}

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        super().__init__(params, channels, scale_uv, sample_rate)
        if channels != CHANNELS:
            raise ValueError(f"a Myo has {CHANNELS} EMG channels, the profile says {channels}")
        self._previous: int | None = None

    def reset(self) -> None:
        """Forget the rotation position (after a reconnect)."""
        self._previous = None

    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        if len(payload) != NOTIFICATION_BYTES:
            raise MalformedPacket(
                f"{len(payload)} bytes; Myo EMG notifications have {NOTIFICATION_BYTES}"
            )
        index = None
        if characteristic is not None:
            index = rotation_index(characteristic)
            if index is None:
                raise MalformedPacket(f"{characteristic} is not a Myo EMG characteristic")
        lost = 0
        if index is not None and self._previous is not None:
            lost = SAMPLES_PER_NOTIFICATION * ((index - self._previous - 1) % 4)
        self._previous = index
        counts = np.frombuffer(payload, dtype=np.int8).reshape(SAMPLES_PER_NOTIFICATION, CHANNELS)
        samples = counts.astype(np.float32) * np.float32(self.scale_uv)
        return [DecodedPacket(samples=samples, sequence=index, lost=lost)]
