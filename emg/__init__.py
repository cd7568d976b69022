"""emg: wearable surface EMG for glute/hamstring recruitment in the hip thrust.

A training aid, not a medical device.
"""

__version__ = "0.1.0"
