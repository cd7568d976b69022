"""Compare two sessions: did the glutes start more reps this time?

    python examples/compare_two_sessions.py [BEFORE] [AFTER]

Each argument is any recording the toolkit reads (a session folder, BDF, CSV ...). Without
arguments it compares two synthetic sets: one where the hamstrings led most reps, one after a
block of glute activation work where the glutes lead.
"""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd

import emg


def session_table(data: Any, name: str) -> pd.Series:
    """The figures a coach compares, for one session."""
    reps = emg.analyze(data).reps
    decided = reps[reps["order"].notna()]
    return pd.Series(
        {
            "reps": len(reps),
            "glute-first": int((decided["order"] == "glute-first").sum()),
            "hamstring-first": int((decided["order"] == "hamstring-first").sum()),
            "median lead (ms)": round(float(decided["lead_ms"].median()), 1),
            "median glute:hamstring ratio": round(float(decided["ratio"].median()), 2),
        },
        name=name,
        dtype=object,
    )


def main(argv: list[str]) -> int:
    if len(argv) == 2:
        before, after = argv
    else:
        before, _ = emg.simulate(reps=8, lead_ms=[-90, -100, 60, -110, -80, -120, 70, -90], seed=5)
        after, _ = emg.simulate(reps=8, lead_ms=[90, 110, 80, -60, 100, 120, 90, 85], seed=6)
    table = pd.concat([session_table(before, "before"), session_table(after, "after")], axis=1)
    print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
