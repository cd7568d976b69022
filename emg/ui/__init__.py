"""The live window (pyqtgraph on Qt) and what it shows.

``live_state`` and ``trace_buffer`` are plain Python and NumPy (tested without Qt);
``acquisition`` runs a source and the live session on an asyncio loop of their own;
``live_window`` draws the state; ``alert_sound`` plays the audible cue.
"""
