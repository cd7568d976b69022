"""Convert the public recordings kept here into the toolkit's CSV format.

Run once from this folder with the original files beside it (they are not needed afterwards):
``python convert.py emg_1.txt 5Nmar.txt 3Amar.txt``. BioSPPy's text format: ``#`` header lines,
one ADC value per line, 1000 Hz. UCI "EMG dataset in Lower Limb": a 7-line header, then
tab-separated RF, BF, VM, ST in mV and the knee goniometer in degrees (which runs longer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FS = 1000


def _write(path: Path, header: list[str], columns: list[np.ndarray], formats: list[str]) -> None:
    table = np.column_stack([np.arange(len(columns[0])) / FS, *columns])
    np.savetxt(
        path, table, fmt=["%.3f", *formats], delimiter=",", header=",".join(header), comments=""
    )


def convert_biosppy(path: Path) -> None:
    values = np.array(
        [
            float(line)
            for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    )
    _write(path.with_name(f"biosppy_{path.stem}.csv"), ["time", "emg"], [values], ["%.0f"])


def convert_uci(path: Path) -> None:
    rows = [line.split("\t") for line in path.read_text().splitlines()[7:] if line.strip()]
    emg = np.array([[float(v) for v in row[:4]] for row in rows if row[0].strip()]) * 1000
    knee = np.array([float(row[4]) for row in rows if len(row) > 4 and row[4].strip()])
    names = ["rectus_femoris", "biceps_femoris", "vastus_medialis", "semitendinosus"]
    _write(path.with_name(f"uci_{path.stem}.csv"), ["time", *names], list(emg.T), ["%.1f"] * 4)
    _write(path.with_name(f"uci_{path.stem}_knee.csv"), ["time", "knee_deg"], [knee], ["%.1f"])


if __name__ == "__main__":
    for name in sys.argv[1:]:
        source = Path(name)
        (
            convert_biosppy
            if source.suffix == ".txt" and source.stem.startswith("emg")
            else convert_uci
        )(source)
