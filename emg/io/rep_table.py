"""Writing and reading the tables of a batch analysis (reps, failures) as Parquet or CSV."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from emg.errors import EmgInputError

#: File endings of the tables, by format.
TABLE_SUFFIXES = {".parquet": "parquet", ".csv": "csv"}

#: Columns where an empty cell is empty text, not a missing value (no flag raised).
TEXT_COLUMNS = ("raised_flags",)

#: What to install for Parquet.
PARQUET_HINT = "python -m pip install -e '.[batch]' in the toolkit's checkout (or pyarrow)"


#: pandas 3 parses floats round-trip by default and deprecates asking for it; pandas 2 must ask.
_PANDAS_PARSES_ROUND_TRIP = int(pd.__version__.split(".")[0]) >= 3


def table_format(path: Path) -> str:
    """``parquet`` or ``csv``, from the file ending.

    Raises
    ------
    EmgInputError
        For another ending, or Parquet without pyarrow installed.
    """
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise EmgInputError(
            f"the table is written as Parquet or CSV: name it .parquet or .csv, not "
            f"'{path.suffix or path.name}'",
            source=str(path),
        )
    if kind == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise EmgInputError(
            f"writing Parquet needs pyarrow: {PARQUET_HINT}; or write --out {path.stem}.csv",
            source=str(path),
        )
    return kind


def failures_path(path: Path) -> Path:
    """The failures table beside a reps table: ``reps.parquet`` -> ``reps.failures.parquet``."""
    return path.with_name(f"{path.stem}.failures{path.suffix}")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` without its index, as Parquet or CSV by the file ending.

    Floats are written so that they read back exactly (CSV: shortest round-trip text).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if table_format(path) == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table`.

    From CSV, empty cells are missing values (NaN), except in the columns of
    :data:`TEXT_COLUMNS`, where they are the empty text they were written from.
    """
    if table_format(path) == "parquet":
        return pd.read_parquet(path)
    text = dict.fromkeys(TEXT_COLUMNS, str)  # pandas' text dtype (object before pandas 3)
    if _PANDAS_PARSES_ROUND_TRIP:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text)
    else:
        frame = pd.read_csv(
            path, keep_default_na=False, na_values=[""], dtype=text, float_precision="round_trip"
        )
    for column in TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].fillna("")
    for column in frame.columns:  # text as pandas' "string", as the table was built
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("string")
    return frame
