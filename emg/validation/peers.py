"""Onset detectors of other toolkits, for side-by-side validation (optional ``bench`` extra).

Each peer gets the raw signal, its own documented cleaning, and the same rest period and
threshold rule as ``emg`` (rest mean + 3 SD, 50 ms window); nothing is tuned for the test
signals. They are offline (non-causal) methods: they may look ahead, ``emg`` never does.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import numpy.typing as npt

from emg.validation.grid import PeerDetector

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def neurokit_onsets(x: FloatArray, fs: float, rest: tuple[int, int]) -> IntArray:
    """NeuroKit2: ``emg_clean`` -> ``emg_amplitude`` -> ``emg_activation`` (threshold method)."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = nk.emg_clean(x, sampling_rate=round(fs))
        amplitude = np.asarray(nk.emg_amplitude(cleaned))
        quiet = amplitude[rest[0] : rest[1]]
        _, info = nk.emg_activation(
            emg_amplitude=amplitude,
            sampling_rate=round(fs),
            method="threshold",
            threshold=float(quiet.mean() + 3 * quiet.std()),
        )
    return np.asarray(info["EMG_Onsets"], dtype=np.int64)


def biosppy_onsets(x: FloatArray, fs: float, rest: tuple[int, int]) -> IntArray:
    """BioSPPy: ``emg`` filtering, then ``hodges_bui_onset_detector`` (k = 3, 50 ms window).

    The detector returns every threshold crossing; activity is kept as in ``emg`` (at least
    100 ms above threshold, dips under 50 ms bridged).
    """
    from biosppy.signals import emg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filtered = np.asarray(emg.emg(signal=x, sampling_rate=fs, show=False)["filtered"])
        size = round(0.05 * fs)
        # Hodges & Bui: mean and SD of the rectified, moving-averaged rest signal (BioSPPy
        # takes them as a dict; from a rest segment it would use the raw signal's)
        quiet = filtered[rest[0] : rest[1]]
        averaged = np.convolve(np.abs(quiet - quiet.mean()), np.ones(size) / size, mode="valid")
        result = emg.hodges_bui_onset_detector(
            signal=filtered,
            rest={"mean": float(averaged.mean()), "std_dev": float(averaged.std())},
            sampling_rate=fs,
            size=size,
            threshold=3,
        )
    active = np.zeros(len(x), dtype=bool)
    test = np.asarray(result["processed"]) >= 3
    active[size // 2 : size // 2 + len(test)] = test
    return activity_onsets(active, round(0.1 * fs), round(0.05 * fs))


def activity_onsets(active: npt.NDArray[np.bool_], min_on: int, max_gap: int) -> IntArray:
    """Starts of runs of ``active`` lasting ``min_on`` samples, gaps up to ``max_gap`` bridged."""
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) > 1:
        keep = np.concatenate([[True], starts[1:] - stops[:-1] > max_gap])
        starts = starts[keep]
        stops = np.concatenate([stops[:-1][keep[1:]], stops[-1:]])
    return starts[stops - starts >= min_on].astype(np.int64)


def available_peers() -> dict[str, PeerDetector]:
    """The peer detectors whose library is installed."""
    peers: dict[str, PeerDetector] = {}
    if importlib.util.find_spec("neurokit2") is not None:
        peers["neurokit2"] = neurokit_onsets
    if importlib.util.find_spec("biosppy") is not None:
        peers["biosppy"] = biosppy_onsets
    return peers
