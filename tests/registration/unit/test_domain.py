"""The pure rules of registration."""

from __future__ import annotations

import uuid

from registration.domain import (
    WaitingRegistration,
    fits,
    seats_for,
    select_promotions,
)


def waiting(seats: int) -> WaitingRegistration:
    return WaitingRegistration(uuid.uuid4(), seats)


def test_a_member_with_one_companion_takes_two_seats() -> None:
    assert seats_for(1) == 2


def test_a_party_fits_only_within_the_free_seats() -> None:
    assert fits(capacity=20, seats_taken=18, seats=2)
    assert not fits(capacity=20, seats_taken=19, seats=2)


def test_promotion_follows_registration_order_skipping_parties_too_large() -> None:
    big, small, later = waiting(2), waiting(1), waiting(1)

    promoted = select_promotions(capacity=10, seats_taken=9, waitlist=[big, small, later])

    assert promoted == [small]


def test_promotion_fills_every_free_seat_it_can() -> None:
    queue = [waiting(2), waiting(1), waiting(2), waiting(1)]

    promoted = select_promotions(capacity=10, seats_taken=5, waitlist=queue)

    assert promoted == queue[:3]
    assert sum(w.seats for w in promoted) == 5


def test_nothing_is_promoted_into_a_full_meeting() -> None:
    assert select_promotions(capacity=3, seats_taken=3, waitlist=[waiting(1)]) == []
