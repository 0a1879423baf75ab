"""Pure rules of registration: seats, waitlist promotion, deadlines. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WaitingRegistration:
    registration_id: uuid.UUID
    seats: int


def seats_for(companions: int) -> int:
    """A registration takes one seat for the member and one per companion."""
    return 1 + companions


def fits(*, capacity: int, seats_taken: int, seats: int) -> bool:
    return seats_taken + seats <= capacity


def select_promotions(
    *, capacity: int, seats_taken: int, waitlist: list[WaitingRegistration]
) -> list[WaitingRegistration]:
    """Who moves from the waitlist to confirmed: in registration order, each one that fits.

    A party too large for the free seats keeps its place, and smaller parties behind it may take
    the seats meanwhile; it is promoted as soon as enough seats are free.
    """
    free = capacity - seats_taken
    promoted = []
    for waiting in waitlist:
        if waiting.seats <= free:
            promoted.append(waiting)
            free -= waiting.seats
        if free <= 0:
            break
    return promoted


def registration_closed(
    *, now: datetime, starts_at: datetime, registration_deadline: datetime | None
) -> bool:
    """Registration closes at the deadline, or when the meeting starts if there is none."""
    return now >= (registration_deadline or starts_at)
