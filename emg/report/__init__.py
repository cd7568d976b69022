"""The session report (``emg report``): one self-contained HTML file about one recording.

``content`` turns an offline analysis into plain data (the athlete's summary, per-channel
signal-quality and packet-loss notes, calibration, the rep table); ``figures`` draws it with
Matplotlib (Agg, no display) into PNG bytes; ``html`` assembles the page. None of them reads or
writes files: :mod:`emg.commands.report` does.
"""
