"""Validate the onset detection on your own annotated recording.

    python examples/validate_on_your_data.py [RECORDING TRUTH.json]

TRUTH.json is in the format ``emg synth`` writes: ``{"reps": [{"glute_onset_s": 3.52,
"hamstring_onset_s": 3.61}, ...]}``, seconds from the start of the recording, e.g. from
onsets marked by eye. Without arguments it scores a synthetic set against its own truth, at
two signal-to-noise ratios and with each onset refinement.
"""

from __future__ import annotations

import sys

import pandas as pd

import emg


def main(argv: list[str]) -> int:
    if len(argv) == 2:
        scoring = emg.score(emg.analyze(argv[0]), argv[1])
        print(scoring.reps.to_string(index=False))
        onset = scoring.summary["onset"]
        print(f"median |onset error| {onset['median']} ms, missed {onset['missed']}")
        return 0
    rows = []
    for snr_db in (20, 5):
        leads = [80, -80, 120, -120, 20, -20, 150, -150, 100, -100]
        recording, truth = emg.simulate(reps=10, lead_ms=leads, snr_db=snr_db, seed=11)
        for refinement in ("cusum", "edge"):
            summary = emg.score(emg.analyze(recording, refinement=refinement), truth).summary
            rows.append(
                {
                    "SNR (dB)": snr_db,
                    "refinement": refinement,
                    "median |onset error| (ms)": summary["onset"]["median"],
                    "signed median (ms)": summary["onset"]["signed_median"],
                    "lead error (ms)": summary["lead"]["median"],
                    "order right": summary["order"]["accuracy"],
                }
            )
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
