"""Pure rules of registration: seats, waitlist promotion, deadlines. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class WaitingRegistration:
    registration_id: uuid.UUID
    seats: int
    share_key: str = ""  # whose share of seats it counts against (share_key below)


def within_share(*, share: int | None, held: int, seats: int) -> bool:
    """Whether the seats fit the municipality's share (None: there is no share)."""
    return share is None or held + seats <= share


def seats_for(companions: int) -> int:
    """A registration takes one seat for the member and one per companion."""
    return 1 + companions


def fits(*, capacity: int, seats_taken: int, seats: int) -> bool:
    return seats_taken + seats <= capacity


def select_promotions(
    *,
    capacity: int,
    seats_taken: int,
    waitlist: list[WaitingRegistration],
    share: int | None = None,
    held: dict[str, int] | None = None,
) -> list[WaitingRegistration]:
    """Who moves from the waitlist to confirmed: in registration order, each one that fits.

    A party too large for the free seats keeps its place, and smaller parties behind it may take
    the seats meanwhile; it is promoted as soon as enough seats are free. With a share per
    municipality (`held`: confirmed seats per share key), a party also has to fit its
    municipality's share: one whose municipality holds its share waits, and the next one that
    fits (from a municipality with room) goes ahead.
    """
    free = capacity - seats_taken
    held = dict(held or {})
    promoted = []
    for waiting in waitlist:
        mine = held.get(waiting.share_key, 0)
        if waiting.seats <= free and within_share(share=share, held=mine, seats=waiting.seats):
            promoted.append(waiting)
            free -= waiting.seats
            held[waiting.share_key] = mine + waiting.seats
        if free <= 0:
            break
    return promoted
