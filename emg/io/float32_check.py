"""Temporary: the CSV reader's old name for :mod:`emg.io.sample_range_check`."""

from emg.io.sample_range_check import refuse_beyond_sample_range as refuse_beyond_float32

__all__ = ["refuse_beyond_float32"]
