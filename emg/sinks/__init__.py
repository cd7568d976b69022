"""Sinks: consumers of a live session's blocks and events (besides the recorder and window)."""
