"""Myo armband encoder: raw EMG notifications, two int8 samples of 8 sensors, four characteristics.

As the armband sends them in raw EMG mode (thalmiclabs ``myohw.h``, ``myohw_emg_data_t``):
every notification is 16 bytes, sample 1 (sensors 1-8, one signed byte each) then sample 2,
and the notifications go out on the four EMG data characteristics in rotation
(``d5060105`` .. ``d5060405``), the only loss signal the receiver has
(:mod:`emg.devices.decoders.myo`).

Values are ``clip(round(µV / scale_uv), -128, 127)``: with the profile's ``scale_uv = 1.0`` the
"microvolts" given are the armband's unitless counts, and anything beyond the int8 range is
clipped as the armband's own output is.

The rotation is not restarted by :meth:`MyoEncoder.start`: which characteristic the armband
uses first is not documented, and going on where it stopped never makes a receiver that kept its
state across a stop and start report a loss that did not happen.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoders.myo import (
    CHANNELS,
    EMG_CHARACTERISTICS,
    SAMPLES_PER_NOTIFICATION,
)
from emg.devices.encoding import Encoder, Notification, quantise, register_encoder
from emg.devices.profiles import SensorProfile


@register_encoder
class MyoEncoder(Encoder):
    """Myo raw EMG notifications in characteristic rotation.

    Parameters
    ----------
    profile
        The Myo profile: 8 channels, ``scale_uv``, and the four EMG characteristics in rotation
        order as ``gatt.notify``.

    Raises
    ------
    ValueError
        For a profile without 8 channels or without the four EMG characteristics.
    """

    kind: ClassVar[str] = "myo"

    def __init__(self, profile: SensorProfile) -> None:
        super().__init__(profile)
        if profile.channels != CHANNELS:
            raise ValueError(
                f"a Myo has {CHANNELS} EMG channels, the profile says {profile.channels}"
            )
        if tuple(u.lower() for u in profile.notify) != EMG_CHARACTERISTICS:
            raise ValueError("the profile must notify on the four Myo EMG characteristics in order")
        self._characteristics = profile.notify
        self._index = 0  # the characteristic of the next notification
        self._held: npt.NDArray[np.int8] | None = None

    @property
    def samples_per_notification(self) -> int:
        """Two samples per notification."""
        return SAMPLES_PER_NOTIFICATION

    def start(self, device_time_us: int) -> None:
        """A new stream; the rotation goes on where it stopped (see the module docs).

        Parameters
        ----------
        device_time_us
            Unused: the Myo sends no device time.
        """
        self._held = None

    def counts(self, samples_uv: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
        """int8 values: ``clip(round(µV / scale_uv), -128, 127)``.

        Parameters
        ----------
        samples_uv
            Any shape (NaN is taken as 0).

        Returns
        -------
        numpy.ndarray
            int8, same shape.
        """
        return quantise(samples_uv, self.profile.scale_uv, -128, 127).astype(np.int8)

    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """One 16-byte notification per two samples, on the next characteristic of the rotation.

        Parameters
        ----------
        samples_uv
            ``(n, 8)``, normally two samples; an odd last sample waits for the next call.
        device_time_us
            Unused: the Myo sends no device time.

        Returns
        -------
        list of Notification
            Normally one.
        """
        values = np.asarray(samples_uv, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != CHANNELS:
            raise ValueError(f"samples must be (n, {CHANNELS}), got {values.shape}")
        rows = self.counts(values)
        if self._held is not None:
            rows = np.concatenate([self._held, rows])
        whole = len(rows) - len(rows) % SAMPLES_PER_NOTIFICATION
        self._held = rows[whole:] if whole < len(rows) else None
        out = []
        for first in range(0, whole, SAMPLES_PER_NOTIFICATION):
            payload = rows[first : first + SAMPLES_PER_NOTIFICATION].tobytes()
            out.append(Notification(self._characteristics[self._index], payload))
            self._index = (self._index + 1) % len(self._characteristics)
        return out
