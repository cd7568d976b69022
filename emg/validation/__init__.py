"""Validation of the analysis against known ground truth.

Synthetic sessions (the project's own generator and the independent simulator families) are
analysed exactly as a recording would be, and the detected onsets, leads and orders are scored
against the truth. This sits above both :mod:`emg.analysis` and :mod:`emg.sources`.
"""
