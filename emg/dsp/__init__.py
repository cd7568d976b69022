"""Streaming signal chain: causal filters, envelopes, baselines, onsets, median frequency.

Every stage is a small stateful object with ``process(...)``; none does I/O or looks ahead, so
feeding a recording in blocks of any size gives the same result as feeding it whole.
"""
