"""Which muscle switched on first: the vocabulary of onset order.

The lead is the hamstring onset minus the glute onset, in milliseconds: positive when the
glute started first. A rep's order is decided from it with a margin within which the two
onsets are too close to tell apart.
"""

from __future__ import annotations

from typing import Literal, get_args

#: The order of a rep: which muscle switched on first, or neither by more than the margin.
Order = Literal["glute-first", "hamstring-first", "simultaneous"]
#: The order an exercise expects: ``any`` means no order is flagged.
ExpectedOrder = Literal["glute-first", "hamstring-first", "any"]

#: The order a flag is raised for: one muscle clearly first.
CalledOrder = Literal["glute-first", "hamstring-first"]

ORDERS: tuple[Order, ...] = get_args(Order)
EXPECTED_ORDERS: tuple[ExpectedOrder, ...] = get_args(ExpectedOrder)


def classify_order(lead_ms: float, margin_ms: float = 50.0) -> Order:
    """``hamstring-first`` when lead < -margin, ``glute-first`` when lead > margin.

    Parameters
    ----------
    lead_ms
        Hamstring onset minus glute onset, milliseconds.
    margin_ms
        Differences within +-margin are ``simultaneous``.

    Returns
    -------
    Order
        One of :data:`ORDERS`.
    """
    if lead_ms < -margin_ms:
        return "hamstring-first"
    if lead_ms > margin_ms:
        return "glute-first"
    return "simultaneous"
