"""The audible cue: what it sounds like, and that --no-sound only counts."""

from __future__ import annotations

import io
import wave

import numpy as np

from emg.ui.alert_sound import (
    CUE_RATE,
    CUE_REPEATS,
    CUE_TONE_S,
    CUE_TONES_HZ,
    AlertSound,
    cue_wav,
    cue_waveform,
)


def test_cue_is_two_rising_tones_repeated() -> None:
    samples = cue_waveform().astype(float) / 32767
    n = round(CUE_TONE_S * CUE_RATE)
    period = len(samples) // CUE_REPEATS
    for repeat in range(CUE_REPEATS):
        for k, tone in enumerate(CUE_TONES_HZ):
            part = samples[repeat * period + k * n : repeat * period + (k + 1) * n]
            spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
            peak = np.fft.rfftfreq(len(part), 1 / CUE_RATE)[np.argmax(spectrum)]
            assert abs(peak - tone) < CUE_RATE / len(part)
    assert 0.5 < np.abs(samples).max() <= 0.61  # loud, never clipped
    assert abs(samples[0]) < 0.01 and abs(samples[-1]) < 0.01  # fades: no click


def test_wav_file_reads_back() -> None:
    with wave.open(io.BytesIO(cue_wav())) as wav:
        assert wav.getframerate() == CUE_RATE and wav.getnchannels() == 1
        frames = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    np.testing.assert_array_equal(frames, cue_waveform())


def test_no_sound_counts_requests_without_playing() -> None:
    sound = AlertSound(enabled=False)
    assert sound.backend == "off"
    assert sound.play() is False and sound.requested == 1 and sound.played == 0
