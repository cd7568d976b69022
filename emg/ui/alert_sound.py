"""The audible cue of the hamstring-first warning.

A short rising two-tone chime, repeated once, loud enough to be heard over a gym but not a
siren. It is played through the first way this machine offers: Qt Multimedia's
``QSoundEffect`` (with the PySide6-Addons package), else the platform's own player
(``paplay`` or ``aplay`` on Linux, ``afplay`` on macOS, ``winsound`` on Windows), else the
window system's bell. Playing never blocks the window.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: Tones of the cue (Hz) and how long each sounds (s).
CUE_TONES_HZ = (880.0, 1320.0)
CUE_TONE_S = 0.14
CUE_REPEATS = 2
CUE_RATE = 22050


def cue_waveform(rate: int = CUE_RATE) -> npt.NDArray[np.int16]:
    """The cue as 16-bit mono samples: the tones in turn, each with 10 ms fades, repeated."""
    n = round(CUE_TONE_S * rate)
    t = np.arange(n) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.010)
    tones = [np.sin(2 * np.pi * f * t) * fade for f in CUE_TONES_HZ]
    gap = np.zeros(round(0.08 * rate))
    one = np.concatenate([tones[0], tones[1], gap])
    cue = np.tile(one, CUE_REPEATS) * 0.6
    return np.round(cue * 32767).astype(np.int16)


def cue_wav() -> bytes:
    """The cue as a WAV file's bytes."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(CUE_RATE)
        wav.writeframes(cue_waveform().tobytes())
    return out.getvalue()


class AlertSound:
    """Plays the cue on request.

    Parameters
    ----------
    enabled
        False (``--no-sound``): requests are counted, nothing is played.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.requested = 0
        self.played = 0
        self._file: Path | None = None
        self._effect: Any = None
        self.backend = self._choose_backend() if enabled else "off"

    def _wav_file(self) -> Path:
        if self._file is None:
            handle = tempfile.NamedTemporaryFile(prefix="emg-cue-", suffix=".wav", delete=False)
            with handle:
                handle.write(cue_wav())
            self._file = Path(handle.name)
        return self._file

    def _choose_backend(self) -> str:
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect  # PySide6-Addons

            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(self._wav_file())))
            self._effect = effect
            return "qt-multimedia"
        except ImportError:
            pass
        if sys.platform == "win32":
            return "winsound"
        for player in ("paplay", "aplay", "afplay"):
            if shutil.which(player):
                return player
        return "bell"

    def play(self) -> bool:
        """Play the cue (without waiting); whether a sound was started."""
        self.requested += 1
        if not self.enabled:
            return False
        try:
            started = self._start()
        except OSError:
            started = False
        self.played += started
        return started

    def _start(self) -> bool:
        if self.backend == "qt-multimedia":
            self._effect.play()
            return True
        if self.backend == "winsound":
            import winsound  # type: ignore[import-not-found,unused-ignore]

            flags = winsound.SND_FILENAME | winsound.SND_ASYNC  # type: ignore[attr-defined,unused-ignore]
            winsound.PlaySound(str(self._wav_file()), flags)  # type: ignore[attr-defined,unused-ignore]
            return True
        if self.backend in ("paplay", "aplay", "afplay"):
            quiet = ["-q"] if self.backend == "aplay" else []
            subprocess.Popen(
                [self.backend, *quiet, str(self._wav_file())],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return True
        from PySide6.QtWidgets import QApplication

        QApplication.beep()
        return True

    def close(self) -> None:
        """Remove the cue's temporary file."""
        if self._file is not None:
            self._file.unlink(missing_ok=True)
            self._file = None
