"""emg: wearable surface EMG for glute/hamstring recruitment in the hip thrust.

A training aid, not a medical device.

>>> import emg
>>> analysis = emg.analyze("session.csv")  # doctest: +SKIP
>>> analysis.reps  # doctest: +SKIP

The calls (``read``, ``analyze``, ``score``, ``simulate``) are loaded on first use, so
``import emg`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "DEMO_SET",
    "Analysis",
    "Scoring",
    "__version__",
    "analyze",
    "read",
    "score",
    "simulate",
]

if TYPE_CHECKING:
    from emg.api import DEMO_SET, Analysis, Scoring, analyze, read, score, simulate


def __getattr__(name: str) -> Any:
    if name in __all__:
        from emg import api

        return getattr(api, name)
    raise AttributeError(f"module 'emg' has no attribute {name!r}")
