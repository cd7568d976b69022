"""Crash-safe session recorder: metadata first, then samples and events flushed as they come.

What reaches the disk: ``session.json`` before the first sample (written to a temporary file
and renamed, so it is never half written), then samples and events appended with unbuffered
writes and ``fsync``-ed at least every ``flush_interval_s``, so a crash or ``kill -9`` loses at
most that much. Memory stays flat: nothing is kept but one pending loss run per channel. See
:mod:`emg.io.session_format` for the layout.

When a write fails (the disk is full, the drive went away), the recorder stops cleanly
(:class:`RecordingStopped`): the files are cut back to their last whole sample row and event
line, and ``session.json`` is finished (``status`` ``complete``, ``cut_short`` saying why). So
that this last rewrite fits even on a full disk, ``session.json`` carries
:data:`METADATA_RESERVE` bytes of trailing blanks (which JSON ignores) while the session
records, and is overwritten in place when a new file cannot be written. A session that ends
before its first whole sample is removed with its folder: nothing was recorded.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from emg.block import Block, Channel
from emg.errors import EmgInputError
from emg.events import Event, loss_events
from emg.io.session_format import (
    EVENTS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_FILE,
    SAMPLE_DTYPE,
    SAMPLES_FILE,
)
from emg.version import __version__

#: Longest time between flushes, in seconds (the most a crash can lose).
FLUSH_INTERVAL_S = 0.5
#: Trailing blanks kept in ``session.json`` while recording: room for its final rewrite.
METADATA_RESERVE = 2048
#: Every write of the recorder goes through this system call (a test swaps in a disk that
#: fills up).
os_write: Callable[[int, bytes | memoryview], int] = os.write


class RecordingStopped(EmgInputError):
    """The recorder could not write and stopped; what reached the disk is a finished session.

    Parameters
    ----------
    message
        What failed and what was kept.
    source
        The file that could not be written.
    folder
        The session folder (gone when ``removed``).
    n_samples
        Whole samples kept.
    removed
        True when no sample was recorded and the folder was removed.
    """

    def __init__(
        self, message: str, *, source: str, folder: Path, n_samples: int, removed: bool
    ) -> None:
        super().__init__(message, source=source)
        self.folder, self.n_samples, self.removed = folder, n_samples, removed


def session_folder(parent: str | Path, exercise: str, when: datetime) -> Path:
    """A new, unused ``<parent>/<date>-<time>-<exercise>`` folder name (not created)."""
    base = Path(parent) / f"{when:%Y%m%d-%H%M%S}-{exercise}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


#: How many numbered variants of a session folder's name are tried before giving up.
MAX_FOLDER_VARIANTS = 1000


def claim_folder(folder: Path) -> Path:
    """Create ``folder``, or the first free ``folder-2``, ``folder-3`` ... when another
    recording took it meanwhile (two recordings on one machine started within the same
    second). Creating a folder is atomic, so two processes never share one.

    Returns
    -------
    Path
        The folder created.

    Raises
    ------
    OSError
        When the folder cannot be created (other than by being taken).
    """
    for n in range(1, MAX_FOLDER_VARIANTS + 1):
        candidate = folder if n == 1 else folder.with_name(f"{folder.name}-{n}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{folder} and {MAX_FOLDER_VARIANTS - 1} numbered variants exist")


def describe_write_error(error: OSError, where: Path) -> str:
    """Why a write failed, in words: a full disk is called so, with the space left.

    Parameters
    ----------
    error
        What the write raised (pyedflib raises an OSError without an errno).
    where
        A path on the disk written to (for the space left).
    """
    try:
        free: int | None = shutil.disk_usage(
            next(p for p in (where, *where.parents) if p.exists())
        ).free
    except (OSError, StopIteration):
        free = None
    # the space left decides only for an error without its reason (pyedflib's): a folder that
    # cannot be made on a file system with no space to give (/proc) is not a full disk
    full = error.errno in (errno.ENOSPC, errno.EDQUOT) or (
        error.errno is None and free is not None and free < 1 << 20
    )
    detail = error.strerror or str(error)
    if full:
        left = f", {free // 1024} kB free" if free is not None else ""
        return f"the disk is full ({detail}{left})"
    return f"cannot write ({detail})"


def _non_finite(value: Any, path: str = "") -> str | None:
    """Where a value holds a float that is not finite (JSON cannot hold it), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path or 'value'} = {value!r}"
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, Any]] = (
            (f"{path}.{k}" if path else str(k), v) for k, v in value.items()
        )
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, item in items:
        found = _non_finite(item, where)
        if found is not None:
            return found
    return None


def _finite_or_none(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def json_bytes(values: Mapping[str, Any], path: Path) -> bytes:
    """``values`` as indented JSON text ending in a newline.

    Raises
    ------
    EmgInputError
        Naming ``path`` and the field that holds a number JSON cannot (NaN, infinity).
    """
    try:
        return (json.dumps(values, indent=2, allow_nan=False) + "\n").encode("utf-8")
    except ValueError:
        where = _non_finite(values) or "a value"
        raise EmgInputError(f"{where} is not a finite number", source=str(path)) from None


def _write_all(fd: int, data: bytes | memoryview) -> int:
    """Write all of ``data``; returns the bytes written (a short count only by raising)."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os_write(fd, view[done:])
    return done


def write_json_atomic(path: Path, values: Mapping[str, Any], reserve: int = 0) -> None:
    """Write JSON to a temporary file, sync it, and rename it over ``path``.

    The temporary file never outlives a failure. ``reserve`` blanks follow the JSON text.

    Raises
    ------
    EmgInputError
        A value JSON cannot hold (nothing is written).
    OSError
        The write failed (``path`` is as it was).
    """
    data = json_bytes(values, path)
    if reserve:
        data = data[:-1] + b" " * reserve + b"\n"
    temporary = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json_in_place(path: Path, values: Mapping[str, Any]) -> None:
    """Overwrite an existing JSON file in place (no new file: used when the disk is full and
    the new text fits in the old file's size). Not atomic."""
    data = json_bytes(values, path)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


class _AppendFile:
    """A file appended with unbuffered writes, knowing how many bytes it holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self.fd).st_size

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while len(view):
            n = os_write(self.fd, view)
            self.size += n
            view = view[n:]

    def sync(self) -> None:
        os.fsync(self.fd)

    def cut(self, size: int) -> None:
        """Cut the file back to ``size`` bytes (needs no free space)."""
        if self.size != size:
            os.ftruncate(self.fd, size)
            self.size = size

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


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

    Raises
    ------
    EmgInputError
        A metadata value JSON cannot hold (NaN ...), naming it; nothing is created.
    RecordingStopped
        The folder could not be written (disk full ...); nothing is left behind.
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
        json_bytes(self.metadata, self.folder / METADATA_FILE)  # refused before any file
        self._labels = [c.label for c in channels]
        self._row = SAMPLE_DTYPE.itemsize * len(channels)
        self._pending_loss: dict[str, Event] = {}
        self.n_samples = 0
        self.n_events = 0
        self.closed = False
        self.folder = claim_folder(self.folder)
        try:
            write_json_atomic(self.folder / METADATA_FILE, self.metadata, METADATA_RESERVE)
            self._samples = _AppendFile(self.folder / SAMPLES_FILE)
            self._events = _AppendFile(self.folder / EVENTS_FILE)
        except OSError as error:
            for handle in ("_samples", "_events"):
                if hasattr(self, handle):
                    getattr(self, handle).close()
            self.closed = True
            self._remove()
            raise RecordingStopped(
                f"{describe_write_error(error, self.folder)}: nothing was recorded",
                source=str(self.folder),
                folder=self.folder,
                n_samples=0,
                removed=True,
            ) from None
        self._last_flush = clock()

    def write_block(self, block: Block) -> None:
        """Append a block's samples (and a ``loss`` event for each run of lost samples).

        Raises
        ------
        RecordingStopped
            The samples could not be written; the session was finished with every whole
            sample that reached the disk.
        """
        if self.closed:
            raise ValueError("the session is closed")
        if block.start != self.n_samples:
            raise ValueError(
                f"block starts at sample {block.start}, the session is at {self.n_samples}: "
                "blocks must be contiguous (gaps are filled and masked by the source)"
            )
        data = np.ascontiguousarray(block.data, dtype=SAMPLE_DTYPE)
        try:
            self._samples.write(data.tobytes())
        except OSError as error:
            kept = self._samples.size // self._row - self.n_samples if self._row else 0
            self._note_loss(block, max(0, min(kept, block.n_samples)))
            self._fail(error, self._samples.path)
        self._note_loss(block, block.n_samples)
        self._maybe_flush()

    def _note_loss(self, block: Block, kept: int) -> None:
        """Count the first ``kept`` samples of ``block`` as written, with their loss runs."""
        self.n_samples = block.start + kept
        lost = block.lost[:kept]
        if lost.any():
            for event in loss_events(lost, self._labels, self.sample_rate, block.start):
                self._add_loss(event)

    def write_events(self, events: Iterable[Event]) -> None:
        """Append events (in the order given).

        Raises
        ------
        RecordingStopped
            An event could not be written (the session was finished, see
            :meth:`write_block`).
        """
        if self.closed:
            raise ValueError("the session is closed")
        try:
            for event in events:
                if event.kind == "loss" and event.channel in self._labels:
                    self._add_loss(event)
                else:
                    self._write_event(event)
        except OSError as error:
            self._fail(error, self._events.path)
        self._maybe_flush()

    def _write_event(self, event: Event) -> None:
        values = event.to_dict()
        if _non_finite(values) is not None:  # JSON has no NaN: kept as null
            values = _finite_or_none(values)
        line = json.dumps(values, allow_nan=False) + "\n"
        good = self._events.size
        try:
            self._events.write(line.encode("utf-8"))
        except OSError:
            self._events.cut(good)  # never half a line
            raise
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
        """Push everything written so far to the disk.

        Raises
        ------
        RecordingStopped
            It could not (the session was finished, see :meth:`write_block`).
        """
        if self.closed:
            return
        handle = self._events
        try:
            for label in list(self._pending_loss):
                self._write_event(self._pending_loss[label])
                del self._pending_loss[label]
            for handle in (self._samples, self._events):
                handle.sync()
        except OSError as error:
            self._fail(error, handle.path)
        self._last_flush = self._clock()

    def close(self, **final: Any) -> None:
        """Flush, close the files and mark the session complete in ``session.json``.

        Parameters
        ----------
        **final
            More metadata to keep (e.g. ``stopped_by="interrupt"``, a summary).

        Raises
        ------
        RecordingStopped
            The last writes failed (the session was finished with what reached the disk).
        """
        if self.closed:
            return
        self.flush()
        self._samples.close()
        self._events.close()
        self.closed = True
        self._finish(final)

    def _finish(self, final: Mapping[str, Any]) -> None:
        self.metadata.update(
            final,
            status="complete",
            n_samples=self.n_samples,
            n_events=self.n_events,
            duration_s=self.n_samples / self.sample_rate,
            ended_at=datetime.now().astimezone().isoformat(),
        )
        path = self.folder / METADATA_FILE
        try:
            write_json_atomic(path, self.metadata)
        except OSError as error:
            try:  # no room for a new file: the old one has room for the new text
                write_json_in_place(path, self.metadata)
            except OSError:
                raise RecordingStopped(
                    f"{describe_write_error(error, path)}: the session could not be marked "
                    f"finished; it opens as cut short, with its {self.n_samples} samples",
                    source=str(path),
                    folder=self.folder,
                    n_samples=self.n_samples,
                    removed=False,
                ) from None

    def _fail(self, error: OSError, path: Path) -> None:
        """A write failed: keep every whole sample and event line, finish the session as cut
        short (or remove it when it holds no sample), and raise :class:`RecordingStopped`."""
        reason = describe_write_error(error, path)
        for label in list(self._pending_loss):  # best effort: the events file may have room
            try:
                self._write_event(self._pending_loss.pop(label))
            except OSError:
                break
        try:
            self._samples.cut(self.n_samples * self._row)
        except OSError:
            pass
        self._samples.close()
        self._events.close()
        self.closed = True
        if self.n_samples == 0:
            self._remove()
            raise RecordingStopped(
                f"{reason}: nothing was recorded (the session folder was removed)",
                source=str(path),
                folder=self.folder,
                n_samples=0,
                removed=True,
            ) from None
        self._finish({"stopped_by": "write failed", "cut_short": reason})
        raise RecordingStopped(
            f"{reason}: the recording stopped after {self.n_samples / self.sample_rate:.1f} s; "
            f"the session is finished (marked cut short) with its {self.n_samples} samples",
            source=str(path),
            folder=self.folder,
            n_samples=self.n_samples,
            removed=False,
        ) from None

    def _remove(self) -> None:
        """Remove the folder this writer created and the files it wrote."""
        for name in (METADATA_FILE, METADATA_FILE + ".tmp", SAMPLES_FILE, EVENTS_FILE):
            (self.folder / name).unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:
            pass
