"""Analysis on top of the signal chain: offline runs, reps and recruitment."""
