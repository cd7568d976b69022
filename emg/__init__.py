"""emg: wearable surface EMG for glute/hamstring recruitment in the hip thrust.

A training aid, not a medical device.

>>> import emg
>>> analysis = emg.analyze("session.csv")  # doctest: +SKIP
>>> analysis.reps  # doctest: +SKIP

The calls (``read``, ``analyze``, ``analyze_many``, ``score``, ``simulate``) load on first use, so
``import emg`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emg.version import __version__

__all__ = [
    "DEMO_SET",
    "Analysis",
    "Scoring",
    "__version__",
    "analyze",
    "analyze_many",
    "read",
    "score",
    "simulate",
    "validate",
]

if TYPE_CHECKING:
    from emg.api import DEMO_SET, Analysis, Scoring, analyze, read, score, simulate, validate
    from emg.batch_analysis import analyze_many


def __getattr__(name: str) -> Any:
    if name == "analyze_many":
        from emg.batch_analysis import analyze_many

        return analyze_many
    if name in __all__:
        from emg import api

        return getattr(api, name)
    raise AttributeError(f"module 'emg' has no attribute {name!r}")
