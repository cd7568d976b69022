"""Analyse a CSV recording and plot each rep's lead.

    python examples/analyse_a_csv.py [RECORDING.csv] [OUT.png]

Without arguments it analyses a synthetic set written by ``emg.simulate``. The plot shows, per
rep, how many milliseconds the hamstrings started after the glutes (negative: before), with
the simultaneity margin shaded.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

import emg
from emg.io.csv_format import write_emg_csv


def main(argv: list[str]) -> int:
    folder = Path(tempfile.mkdtemp())
    if argv:
        csv = Path(argv[0])
    else:
        recording, _ = emg.simulate(reps=8, lead_ms=[90, 80, 100, 60, -40, -90, -110, -120], seed=3)
        csv = folder / "set.csv"
        write_emg_csv(csv, recording)
    out = Path(argv[1]) if len(argv) > 1 else folder / "leads.png"

    analysis = emg.analyze(csv)
    reps = analysis.reps
    print(reps[["index", "start_s", "order", "lead_ms", "ratio"]].to_string(index=False))

    margin = analysis.settings.exercise.margin_ms
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.axhspan(-margin, margin, color="0.9", label="simultaneous")
    colours = ["tab:red" if order == "hamstring-first" else "tab:green" for order in reps["order"]]
    axes.bar(reps["index"], reps["lead_ms"], color=colours)
    axes.set_xlabel("rep")
    axes.set_ylabel("hamstring minus glute onset (ms)")
    axes.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
