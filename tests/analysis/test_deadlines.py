"""The deadline queue: stream order, ties by kind, due before (or at) now, a closed rep's
deadlines dropped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from emg.analysis.deadlines import Deadline, DeadlineQueue


def _drain(queue: DeadlineQueue, now: int, inclusive: bool) -> list[Deadline]:
    out = []
    while (deadline := queue.pop_due(now, inclusive)) is not None:
        out.append(deadline)
    return out


def test_due_in_stream_order_and_ties_by_kind() -> None:
    queue = DeadlineQueue()
    for deadline in (
        Deadline(300, "tonic", 2.0),
        Deadline(100, "max"),
        Deadline(100, "decide"),
        Deadline(300, "tonic", 1.0),
        Deadline(500, "decide"),
    ):
        queue.add(deadline)
    assert _drain(queue, 300, inclusive=False) == [Deadline(100, "decide"), Deadline(100, "max")]
    assert _drain(queue, 300, inclusive=True) == [
        Deadline(300, "tonic", 1.0),
        Deadline(300, "tonic", 2.0),
    ]
    assert len(queue) == 1 and queue.pop_due(499, inclusive=True) is None


def test_keep_only_drops_the_other_kinds() -> None:
    queue = DeadlineQueue()
    for deadline in (Deadline(50, "decide"), Deadline(70, "tonic", 1.0), Deadline(60, "max")):
        queue.add(deadline)
    queue.keep_only("tonic")
    assert _drain(queue, 1000, inclusive=True) == [Deadline(70, "tonic", 1.0)]


@given(
    st.lists(
        st.tuples(st.integers(0, 1000), st.sampled_from(["decide", "max", "tonic"])),
        max_size=30,
    ),
    st.integers(0, 1000),
)
def test_pops_exactly_the_due_ones_sorted(items: list[tuple[int, str]], now: int) -> None:
    queue = DeadlineQueue()
    deadlines = [Deadline(at, kind) for at, kind in items]  # type: ignore[arg-type]
    for deadline in deadlines:
        queue.add(deadline)
    assert _drain(queue, now, inclusive=False) == sorted(d for d in deadlines if d.at < now)
    assert len(queue) == sum(d.at >= now for d in deadlines)
