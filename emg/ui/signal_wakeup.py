"""Python signal handlers while Qt's event loop waits.

Python runs a signal handler only when the interpreter gets control; while Qt waits for events
(in C++) it does not, so Ctrl-C would go unnoticed until the next mouse move (or surface as a
``KeyboardInterrupt`` inside some pyqtgraph callback). :class:`SignalWakeup` hands Python's
wake-up byte to a socket that Qt watches, so Qt calls into Python at once and the handler
(:class:`emg.session.StopSignals`) runs.
"""

from __future__ import annotations

import signal
import socket

from PySide6 import QtCore


class SignalWakeup:
    """Wake Qt's event loop on every signal, for as long as it is open (main thread only).

    Parameters
    ----------
    parent
        The Qt object that owns the socket notifier (the window).
    """

    def __init__(self, parent: QtCore.QObject) -> None:
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self._previous = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self.notifier = QtCore.QSocketNotifier(
            self._read.fileno(), QtCore.QSocketNotifier.Type.Read, parent
        )
        self.notifier.activated.connect(self._drain)
        self.closed = False

    def _drain(self) -> None:
        """Read the wake-up bytes (the handlers have run by the time Python gets here)."""
        try:
            while self._read.recv(512):
                pass
        except OSError:  # BlockingIOError: nothing more to read
            pass

    def close(self) -> None:
        """Give the wake-up back to whoever had it, and close the sockets."""
        if self.closed:
            return
        self.closed = True
        self.notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous)
        self.notifier.deleteLater()
        self._read.close()
        self._write.close()
