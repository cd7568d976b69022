"""Loss accounting from a packet sequence number cross-checked against the device clock.

emg-stream v1 (``firmware_configs/emg-stream-v1/SPEC.md``, section 5) sends in every packet a
16-bit sequence number and the 32-bit device time (µs) of its first sample. Either field can
arrive corrupted, so neither is trusted blindly:

- the sequence gap and the time since the last accepted packet agree (to within half a packet,
  also across the 16-bit and the 32-bit wraps): the loss is exact;
- they disagree: the packet is **suspect**. It is dropped as malformed and the state stays at
  the last accepted packet, so one corrupt sequence number costs its own packet only; the next
  good packet then counts the dropped one as lost (both of its fields agree on that);
- a suspect packet is **confirmed** when the next packet follows it (the next sequence number,
  or sequence and time agreeing from it): the jump was real (a new stream whose start packet
  was lost, a profile whose ``sample_rate`` is not the device's, a corrupt reference packet).
  The loss before it is then decided as the protocol says, and its own samples count as lost;
- the packet that merely comes next by sequence while the clock disagrees is accepted once the
  clock has been seen to disagree on two packets in a row (a wrong ``sample_rate``), and is
  suspect before that.
"""

from __future__ import annotations

from dataclasses import dataclass

from emg.devices.decoding import LOG, MalformedPacket

#: Sequence numbers wrap at this value (u16).
SEQUENCE_SPAN = 1 << 16
#: Device timestamps wrap at this value (u32 microseconds).
TIME_SPAN = 1 << 32


@dataclass(frozen=True)
class Mark:
    """The header facts of one packet.

    Attributes
    ----------
    sequence
        Packet sequence number (u16).
    timestamp
        Device time of the first sample as sent (u32 µs).
    n
        Samples per channel in the packet.
    time_us
        Device time of the first sample, unwrapped.
    """

    sequence: int
    timestamp: int
    n: int
    time_us: int


def elapsed_us(earlier: Mark, timestamp: int) -> int:
    """Microseconds from ``earlier`` to ``timestamp``, modulo the 32-bit wrap."""
    return (timestamp - earlier.timestamp) % TIME_SPAN


class SequenceCheck:
    """Running state of one stream: lost samples per packet, suspects dropped.

    Parameters
    ----------
    sample_rate
        Samples per second per channel, as the profile says.
    kind
        Decoder name used in log messages.

    Attributes
    ----------
    timing_mismatches
        Packets accepted although the clock disagreed with their sequence number.
    resyncs
        Confirmed packets taken as the start of a new stream (sequence went back or stood
        still while the clock advanced).
    suspects
        Packets dropped because their sequence number and device time disagreed.
    """

    def __init__(self, sample_rate: float, kind: str) -> None:
        self.period_us = 1e6 / sample_rate
        self.kind = kind
        self.timing_mismatches = 0
        self.resyncs = 0
        self.suspects = 0
        self.reset()

    def reset(self) -> None:
        """Forget the stream (after a reconnect the firmware restarts at sequence 0)."""
        self.accepted: Mark | None = None
        self.suspect: Mark | None = None
        self.clock_disagrees = False

    @property
    def time_us(self) -> int:
        """Unwrapped device time (µs) of the first sample of the last accepted packet."""
        return self.accepted.time_us if self.accepted is not None else 0

    def by_time(self, earlier: Mark, elapsed: int) -> int:
        """Samples per channel missing between ``earlier`` and a packet ``elapsed`` µs later."""
        return round(elapsed / self.period_us) - earlier.n

    def agreed_loss(self, earlier: Mark, sequence: int, n: int, elapsed: int) -> int | None:
        """The loss when sequence and clock agree (counter wraps resolved), else None."""
        by_time = self.by_time(earlier, elapsed)
        gap = (sequence - earlier.sequence) % SEQUENCE_SPAN
        wraps = max(0, round((by_time - (gap - 1) * n) / (SEQUENCE_SPAN * n)))
        if gap == 0:
            wraps = max(wraps, 1)
        by_sequence = (gap - 1 + SEQUENCE_SPAN * wraps) * n
        return by_sequence if abs(by_time - by_sequence) <= n / 2 else None

    def first(self, sequence: int, timestamp: int, n: int) -> None:
        """Take the first packet of a stream as the reference (nothing lost)."""
        self.accepted, self.suspect = Mark(sequence, timestamp, n, timestamp), None

    def advance(self, sequence: int, timestamp: int, n: int, *, start: bool, gap_flag: bool) -> int:
        """Check one packet against the stream and return the samples lost just before it.

        Parameters
        ----------
        sequence, timestamp, n
            The packet's header fields.
        start
            The packet is flagged *stream start*: nothing lost.
        gap_flag
            The packet is flagged *discontinuity*: the loss comes from the clock.

        Returns
        -------
        int
            Samples per channel lost just before the packet (including a suspect packet that
            was dropped in between).

        Raises
        ------
        MalformedPacket
            For a duplicate, a packet older than the last one, or a suspect packet; the state
            stays at the last accepted packet.
        """
        accepted = self.accepted
        if accepted is None:
            self.first(sequence, timestamp, n)
            return 0
        elapsed = elapsed_us(accepted, timestamp)
        if elapsed == 0:
            raise MalformedPacket(
                f"duplicate: sequence {sequence} after {accepted.sequence},"
                f" same timestamp {timestamp}"
            )
        if elapsed >= TIME_SPAN // 2:
            raise MalformedPacket(
                f"out of order: sequence {sequence} after {accepted.sequence}, timestamp went"
                f" back by {TIME_SPAN - elapsed} us"
            )
        mark = Mark(sequence, timestamp, n, accepted.time_us + elapsed)
        if start:
            return self._accept(mark, 0)
        if gap_flag:
            return self._accept(mark, max(self.by_time(accepted, elapsed), 0))
        lost = self.agreed_loss(accepted, sequence, n, elapsed)
        if lost is not None:
            return self._accept(mark, lost)
        gap = (sequence - accepted.sequence) % SEQUENCE_SPAN
        if gap == 1 and self.clock_disagrees:
            self._mismatch(accepted, mark, 0, self.by_time(accepted, elapsed))
            return self._accept(mark, 0)
        confirmed = self._confirmed(mark)
        if confirmed is not None:
            return self._accept(confirmed[0], confirmed[1])
        return self._drop(accepted, mark, elapsed)

    def _confirmed(self, mark: Mark) -> tuple[Mark, int] | None:
        """``(mark, lost)`` if ``mark`` follows the suspect packet, else None."""
        suspect, accepted = self.suspect, self.accepted
        if suspect is None or accepted is None:
            return None
        elapsed = elapsed_us(suspect, mark.timestamp)
        if elapsed == 0 or elapsed >= TIME_SPAN // 2:
            return None
        after = self.agreed_loss(suspect, mark.sequence, mark.n, elapsed)
        gap = (mark.sequence - suspect.sequence) % SEQUENCE_SPAN
        if after is None and gap != 1:
            return None
        mark = Mark(mark.sequence, mark.timestamp, mark.n, suspect.time_us + elapsed)
        jump = (suspect.sequence - accepted.sequence) % SEQUENCE_SPAN
        before_elapsed = suspect.time_us - accepted.time_us
        if jump == 0 or jump > SEQUENCE_SPAN // 2:
            self.resyncs += 1
            LOG.warning(
                "%s: sequence went back from %d to %d while the device clock advanced %d us:"
                " taken as a new stream",
                self.kind,
                accepted.sequence,
                suspect.sequence,
                before_elapsed,
            )
            before = 0
        elif after is not None:  # the clock agrees from the suspect on: it is right
            before = max(self.by_time(accepted, before_elapsed), 0)
        else:  # the clock disagrees twice in a row: trust the sequence
            before = (jump - 1) * suspect.n
            self.clock_disagrees = True
            self._mismatch(accepted, suspect, before, self.by_time(accepted, before_elapsed))
        return mark, before + suspect.n + (after if after is not None else 0)

    def _mismatch(self, earlier: Mark, mark: Mark, by_sequence: int, by_time: int) -> None:
        self.timing_mismatches += 1
        log = LOG.warning if self.timing_mismatches == 1 else LOG.debug
        log(
            "%s: sequence %d after %d says %d samples lost, the device clock says %d"
            " (is the profile's sample_rate %g Hz the device's?)",
            self.kind,
            mark.sequence,
            earlier.sequence,
            by_sequence,
            by_time,
            1e6 / self.period_us,
        )

    def _accept(self, mark: Mark, lost: int) -> int:
        self.accepted, self.suspect = mark, None
        return lost

    def _drop(self, accepted: Mark, mark: Mark, elapsed: int) -> int:
        self.suspect = mark
        self.suspects += 1
        gap = (mark.sequence - accepted.sequence) % SEQUENCE_SPAN
        says = (
            "went back"
            if gap == 0 or gap > SEQUENCE_SPAN // 2
            else f"says {(gap - 1) * mark.n} samples lost"
        )
        raise MalformedPacket(
            f"suspect: sequence {mark.sequence} after {accepted.sequence} {says}, the device"
            f" clock says {self.by_time(accepted, elapsed)} lost; dropped (state kept at"
            f" sequence {accepted.sequence})"
        )
