"""Crash-safe session recorder: metadata first, then samples and events flushed as they come.

What reaches the disk: ``session.json`` before the first sample (written to a temporary file
and renamed, so it is never half written), then samples and events appended and flushed to
the operating system at least every ``flush_interval_s`` (and ``fsync``-ed to the disk), so a
crash or ``kill -9`` loses at most that much. Memory stays flat: nothing is kept but one
pending loss run per channel. See :mod:`emg.io.session_format` for the layout.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from emg import __version__
from emg.block import Block, Channel
from emg.events import Event, loss_events
from emg.io.session_format import (
    EVENTS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_FILE,
    SAMPLE_DTYPE,
    SAMPLES_FILE,
)

#: Longest time between flushes, in seconds (the most a crash can lose).
FLUSH_INTERVAL_S = 0.5


def session_folder(parent: str | Path, exercise: str, when: datetime) -> Path:
    """A new, unused ``<parent>/<date>-<time>-<exercise>`` folder name (not created)."""
    base = Path(parent) / f"{when:%Y%m%d-%H%M%S}-{exercise}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def write_json_atomic(path: Path, values: Mapping[str, Any]) -> None:
    """Write JSON to a temporary file, sync it, and rename it over ``path``."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=2, allow_nan=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SessionWriter:
    """Writes one session folder while it happens.

    Parameters
    ----------
    folder
        The session folder to create (must not exist yet).
    channels
        The stream's channels.
    sample_rate
        Samples per second.
    metadata
        Anything else to keep in ``session.json``: sensors, exercise, subject, analysis
        settings, calibration, start time (``started_at``) ...
    flush_interval_s
        Longest time between flushes.
    clock
        Monotonic clock in seconds (for tests).
    """

    def __init__(
        self,
        folder: str | Path,
        channels: tuple[Channel, ...],
        sample_rate: float,
        metadata: Mapping[str, Any] | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = Path(folder)
        self.channels, self.sample_rate = channels, sample_rate
        self.flush_interval_s, self._clock = flush_interval_s, clock
        self.folder.mkdir(parents=True, exist_ok=False)
        self.metadata: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "software": f"emg-toolkit {__version__}",
            "status": "recording",
            "started_at": datetime.now().astimezone().isoformat(),
            **dict(metadata or {}),
            "sample_rate": sample_rate,
            "samples": {
                "file": SAMPLES_FILE,
                "dtype": "float32",
                "byte_order": "little",
                "layout": "one row of n_channels values per sample",
                "unit": "uV",
            },
            "events": {"file": EVENTS_FILE, "layout": "one JSON object per line"},
            "channels": [
                {
                    "label": c.label,
                    "muscle": c.muscle,
                    "side": c.side,
                    "device": c.device,
                    "unit": "uV",
                }
                for c in channels
            ],
        }
        write_json_atomic(self.folder / METADATA_FILE, self.metadata)
        self._samples: IO[bytes] = (self.folder / SAMPLES_FILE).open("ab")
        self._events: IO[str] = (self.folder / EVENTS_FILE).open("a", encoding="utf-8")
        self._labels = [c.label for c in channels]
        self._pending_loss: dict[str, Event] = {}
        self._last_flush = clock()
        self.n_samples = 0
        self.n_events = 0
        self.closed = False

    def write_block(self, block: Block) -> None:
        """Append a block's samples (and a ``loss`` event for each run of lost samples)."""
        if block.start != self.n_samples:
            raise ValueError(
                f"block starts at sample {block.start}, the session is at {self.n_samples}: "
                "blocks must be contiguous (gaps are filled and masked by the source)"
            )
        self._samples.write(np.ascontiguousarray(block.data, dtype=SAMPLE_DTYPE).tobytes())
        self.n_samples += block.n_samples
        if block.lost.any():
            for event in loss_events(block.lost, self._labels, self.sample_rate, block.start):
                self._add_loss(event)
        self._maybe_flush()

    def write_events(self, events: Iterable[Event]) -> None:
        """Append events (in the order given)."""
        for event in events:
            if event.kind == "loss" and event.channel in self._labels:
                self._add_loss(event)
            else:
                self._write_event(event)
        self._maybe_flush()

    def _write_event(self, event: Event) -> None:
        self._events.write(json.dumps(event.to_dict(), allow_nan=False) + "\n")
        self.n_events += 1

    def _add_loss(self, event: Event) -> None:
        """Merge a loss run with the pending one of its channel when they touch."""
        label = event.channel or ""
        pending = self._pending_loss.get(label)
        if pending is not None and pending.data["stop"] == event.data["start"]:
            start, stop = pending.data["start"], event.data["stop"]
            self._pending_loss[label] = Event(
                pending.time_s,
                "loss",
                f"{label} {stop - start} samples",
                (stop - start) / self.sample_rate,
                channel=label,
                data={"start": start, "stop": stop},
            )
            return
        if pending is not None:
            self._write_event(pending)
        self._pending_loss[label] = event

    def _maybe_flush(self) -> None:
        if self._clock() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Push everything written so far to the disk."""
        for label in list(self._pending_loss):
            self._write_event(self._pending_loss.pop(label))
        for handle in (self._samples, self._events):
            handle.flush()
            os.fsync(handle.fileno())
        self._last_flush = self._clock()

    def tick(self) -> None:
        """Flush if it is time (call while no blocks arrive, e.g. during a sensor drop-out)."""
        self._maybe_flush()

    def close(self, **final: Any) -> None:
        """Flush, close the files and mark the session complete in ``session.json``.

        Parameters
        ----------
        **final
            More metadata to keep (e.g. ``stopped_by="interrupt"``, a summary).
        """
        if self.closed:
            return
        self.flush()
        self._samples.close()
        self._events.close()
        self.metadata.update(
            final,
            status="complete",
            n_samples=self.n_samples,
            n_events=self.n_events,
            duration_s=self.n_samples / self.sample_rate,
            ended_at=datetime.now().astimezone().isoformat(),
        )
        write_json_atomic(self.folder / METADATA_FILE, self.metadata)
        self.closed = True
