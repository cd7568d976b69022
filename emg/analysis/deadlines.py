"""The rep tracker's deadlines: moments in stream time at which something must be looked at.

A rep's order must be decided once no onset of the other muscle can still arrive within the
margin (``decide``); a rep that goes on too long is closed (``max``); hamstring activity that
outlasts the glutes by a set time is reported (``tonic``). Deadlines fire in stream order, so
the result depends only on the signal, never on how it was split into blocks.
"""

from __future__ import annotations

import heapq
from typing import Literal, NamedTuple

#: What a deadline is for.
DeadlineKind = Literal["decide", "max", "tonic"]


class Deadline(NamedTuple):
    """A moment to look at the rep again.

    Attributes
    ----------
    at
        Stream sample.
    kind
        ``decide``, ``max`` or ``tonic``.
    seconds
        For ``tonic``: how long the hamstrings will then have stayed on after the glutes.
    """

    at: int
    kind: DeadlineKind
    seconds: float = 0.0


class DeadlineQueue:
    """Deadlines in stream order (ties: ``decide``, then ``max``, then ``tonic``)."""

    def __init__(self) -> None:
        self._heap: list[Deadline] = []

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, deadline: Deadline) -> None:
        """Queue ``deadline``."""
        heapq.heappush(self._heap, deadline)

    def pop_due(self, now: int, inclusive: bool) -> Deadline | None:
        """The earliest deadline before ``now`` (or at it, when ``inclusive``), removed; None
        when none is due."""
        if self._heap and (self._heap[0].at < now or (inclusive and self._heap[0].at == now)):
            return heapq.heappop(self._heap)
        return None

    def keep_only(self, kind: DeadlineKind) -> None:
        """Drop every deadline but those of ``kind`` (a rep closed: only ``tonic`` stays)."""
        self._heap = [d for d in self._heap if d.kind == kind]
        heapq.heapify(self._heap)
