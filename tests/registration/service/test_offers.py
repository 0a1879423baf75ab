"""Waitlist offers through the use cases: a freed seat is held for the next person, who accepts
or lets it lapse; never two people in one seat, whatever runs at the same moment."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg
import pytest

from registration.service import meetings, offer_expiry, offers, registrations
from registration.service.commands import MeetingPatch
from registration.service.history import PinnedClock
from registration.service.registrations import Registered
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import PLATFORM, Given, outbox
from tilmeld_shared.events import SealedPersonalData
from tilmeld_shared.problems import Conflict, Forbidden


def at(ctx: ServiceContext, moment: datetime) -> ServiceContext:
    return replace(ctx, clock=PinnedClock(moment))


async def offer_meeting(
    given: Given, *, capacity: int = 1, network_rule: str = "offer", **meeting: object
) -> uuid.UUID:
    network_id = await given.network(waitlist=network_rule, offer_hours=24)
    meeting_id = await given.meeting(network_id, capacity=capacity, **meeting)
    given.network_id = network_id  # type: ignore[attr-defined]
    return meeting_id


async def newcomer(given: Given, meeting_id: uuid.UUID, *, companions: int = 0) -> Registered:
    person = await given.member(given.network_id)  # type: ignore[attr-defined]
    return await given.register(meeting_id, person, companions=companions)


async def cancel(tx: Transactions, ctx: ServiceContext, registered: Registered) -> None:
    await registrations.cancel_registration(
        tx,
        ctx,
        registered.registration["id"],
        token=registered.cancel_token,
        organiser=None,
        once=as_is(),
    )


async def accept(tx: Transactions, ctx: ServiceContext, registered: Registered) -> asyncpg.Record:
    registration_id = registered.registration["id"]
    return await offers.accept_offer(
        tx, ctx, registration_id, token=offers.offer_token(ctx, registration_id), once=as_is()
    )


async def row(pool: asyncpg.Pool, registered: Registered) -> asyncpg.Record:
    found = await pool.fetchrow(
        "SELECT * FROM registrations WHERE id = $1", registered.registration["id"]
    )
    assert found is not None
    return found


async def seats(pool: asyncpg.Pool, meeting_id: uuid.UUID) -> tuple[int, int, int]:
    """(capacity, seats confirmed, seats on offer): confirmed + on offer never above capacity."""
    found = await pool.fetchrow(
        """
        SELECT m.capacity,
               (SELECT coalesce(sum(seats), 0) FROM registrations
                WHERE meeting_id = m.id AND status = 'confirmed') AS confirmed,
               (SELECT coalesce(sum(seats), 0) FROM registrations
                WHERE meeting_id = m.id AND offer_state = 'open') AS on_offer,
               m.seats_taken
        FROM meetings m WHERE m.id = $1
        """,
        meeting_id,
    )
    assert found is not None
    assert found["seats_taken"] == found["confirmed"]
    assert found["confirmed"] + found["on_offer"] <= found["capacity"], dict(found)
    return found["capacity"], found["confirmed"], found["on_offer"]


async def last_payload(pool: asyncpg.Pool, event_type: str) -> dict[str, object]:
    envelope = await pool.fetchval(
        "SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id DESC LIMIT 1", event_type
    )
    envelope = json.loads(envelope) if isinstance(envelope, str) else envelope
    payload: dict[str, object] = envelope["payload"]
    return payload


async def test_a_freed_seat_is_offered_to_the_next_person_not_given(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    before = ctx.clock.now()

    await cancel(tx, ctx, seated)

    offered = await row(pool, waiting)
    assert (offered["status"], offered["offer_state"]) == ("waitlisted", "open")
    assert before + timedelta(hours=24) <= offered["offer_expires_at"]
    assert offered["offer_expires_at"] <= ctx.clock.now() + timedelta(hours=24)
    assert (await outbox(pool, aggregate_id=meeting_id))[-2:] == [
        "RegistrationCancelled",
        "SeatOffered",
    ]
    payload = await last_payload(pool, "SeatOffered")
    assert payload["status"] == "waitlisted"
    assert payload["offer_expires_at"] is not None
    assert payload["personal"] is None and payload["personal_sealed"] is not None
    assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_the_sealed_offer_carries_the_accept_link(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)

    await cancel(tx, ctx, seated)

    payload = await last_payload(pool, "SeatOffered")
    sealed = payload["personal_sealed"]
    assert isinstance(sealed, dict)
    member_id = waiting.registration["member_id"]
    data_key = await pool.fetchval("SELECT data_key FROM members WHERE id = $1", member_id)
    personal = ctx.vault.open(SealedPersonalData.model_validate(sealed), data_key)
    assert personal is not None
    registration_id = waiting.registration["id"]
    assert personal.action_url == offers.offer_url(ctx, registration_id)
    assert f"/offer/registrations/{registration_id}?token=" in personal.action_url


async def test_accepting_confirms_and_takes_the_seat(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)

    accepted = await accept(tx, ctx, waiting)

    assert (accepted["status"], accepted["offer_state"]) == ("confirmed", "accepted")
    assert (await outbox(pool, aggregate_id=meeting_id))[-1] == "RegistrationPromoted"
    assert await seats(pool, meeting_id) == (1, 1, 0)


async def test_accepting_twice_changes_nothing_the_second_time(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)
    await accept(tx, ctx, waiting)
    events = await outbox(pool, aggregate_id=meeting_id)

    again = await accept(tx, ctx, waiting)

    assert again["status"] == "confirmed"
    assert await outbox(pool, aggregate_id=meeting_id) == events
    assert await seats(pool, meeting_id) == (1, 1, 0)


async def test_a_wrong_token_is_refused_and_changes_nothing(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)
    events = await outbox(pool)
    registration_id = waiting.registration["id"]

    with pytest.raises(Forbidden):
        await offers.accept_offer(tx, ctx, registration_id, token="0.nope", once=as_is())
    with pytest.raises(Forbidden):  # the cancel link's token is not the offer's
        await offers.accept_offer(
            tx, ctx, registration_id, token=waiting.cancel_token, once=as_is()
        )

    assert (await row(pool, waiting))["offer_state"] == "open"
    assert await outbox(pool) == events


async def test_a_newcomer_waits_behind_a_seat_on_offer(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)

    late = await newcomer(given, meeting_id)

    assert (late.registration["status"], late.waitlist_position) == ("waitlisted", 2)
    assert (await row(pool, waiting))["offer_state"] == "open"
    assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_an_expired_offer_cancels_and_passes_the_seat_on(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    first = await newcomer(given, meeting_id)
    second = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)
    lapsed = (await row(pool, first))["offer_expires_at"]

    early = await offer_expiry.expire_lapsed_offers(tx, at(ctx, lapsed - timedelta(seconds=1)))
    expired = await offer_expiry.expire_lapsed_offers(tx, at(ctx, lapsed))

    assert (early, expired) == (0, 1)
    gone = await row(pool, first)
    assert (gone["status"], gone["offer_state"]) == ("cancelled", "expired")
    assert (await row(pool, second))["offer_state"] == "open"
    assert (await outbox(pool, aggregate_id=meeting_id))[-3:] == [
        "SeatOfferExpired",
        "RegistrationCancelled",
        "SeatOffered",
    ]
    cancelled = await last_payload(pool, "RegistrationCancelled")
    assert cancelled["cancelled_by"] == "offer_expired"
    assert (await last_payload(pool, "SeatOfferExpired"))["status"] == "cancelled"
    with pytest.raises(Conflict) as late:
        await accept(tx, at(ctx, lapsed), first)
    assert late.value.slug == "offer-expired"
    assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_accepting_after_the_time_is_refused_before_the_scheduler_comes(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)
    lapsed = (await row(pool, waiting))["offer_expires_at"]

    with pytest.raises(Conflict) as refused:
        await accept(tx, at(ctx, lapsed), waiting)

    assert refused.value.slug == "offer-expired"
    assert (await row(pool, waiting))["status"] == "waitlisted"
    assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_cancelling_while_on_offer_passes_the_seat_on(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    seated = await newcomer(given, meeting_id)
    first = await newcomer(given, meeting_id)
    second = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)

    await cancel(tx, ctx, first)

    assert (await row(pool, first))["offer_state"] == "declined"
    assert (await row(pool, second))["offer_state"] == "open"
    with pytest.raises(Conflict) as refused:
        await accept(tx, ctx, first)
    assert refused.value.slug == "already-cancelled"
    assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_two_freed_seats_make_two_offers_and_a_third_cancellation_a_third(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given, capacity=3)
    seated = [await newcomer(given, meeting_id) for _ in range(3)]
    waiting = [await newcomer(given, meeting_id) for _ in range(4)]

    await asyncio.gather(cancel(tx, ctx, seated[0]), cancel(tx, ctx, seated[1]))
    states = [(await row(pool, w))["offer_state"] for w in waiting]
    assert states == ["open", "open", None, None]
    assert await seats(pool, meeting_id) == (3, 1, 2)

    # A confirmed seat freed while offers are out goes to the next person, not the same one.
    await cancel(tx, ctx, seated[2])
    states = [(await row(pool, w))["offer_state"] for w in waiting]
    assert states == ["open", "open", "open", None]
    assert await seats(pool, meeting_id) == (3, 0, 3)


async def test_more_capacity_offers_the_new_seats(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given)
    await newcomer(given, meeting_id)
    waiting = [await newcomer(given, meeting_id) for _ in range(3)]

    await meetings.update_meeting(tx, ctx, meeting_id, MeetingPatch(capacity=3), organiser=PLATFORM)

    states = [(await row(pool, w))["offer_state"] for w in waiting]
    assert states == ["open", "open", None]
    assert await seats(pool, meeting_id) == (3, 1, 2)


async def test_the_meetings_own_rule_wins_over_the_networks(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    automatic_here = await offer_meeting(given, waitlist="automatic")
    seated = await newcomer(given, automatic_here)
    waiting = await newcomer(given, automatic_here)

    await cancel(tx, ctx, seated)

    assert ((await row(pool, waiting))["status"], (await row(pool, waiting))["offer_state"]) == (
        "confirmed",
        None,
    )

    network_id = await given.network()  # automatic
    offer_here = await given.meeting(network_id, capacity=1, waitlist="offer", offer_hours=2)
    first = await given.register(offer_here, await given.member(network_id))
    second = await given.register(offer_here, await given.member(network_id))
    await cancel(tx, ctx, first)
    offered = await row(pool, second)
    assert offered["offer_state"] == "open"
    assert offered["offer_expires_at"] <= ctx.clock.now() + timedelta(hours=2)


async def test_an_offer_never_outlasts_the_meetings_start(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given, days_ahead=14)
    seated = await newcomer(given, meeting_id)
    waiting = await newcomer(given, meeting_id)
    starts_at = await pool.fetchval("SELECT starts_at FROM meetings WHERE id = $1", meeting_id)

    await cancel(tx, at(ctx, starts_at - timedelta(hours=3)), seated)

    assert (await row(pool, waiting))["offer_expires_at"] == starts_at


async def test_a_municipalitys_share_counts_its_seat_on_offer(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given, capacity=3, seats_per_municipality=1)
    seated = await newcomer(given, meeting_id)  # all from Roskilde (the builders' default)
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated)
    assert (await row(pool, waiting))["offer_state"] == "open"

    # Roskilde's one seat is on offer: another from Roskilde waits, though seats are free.
    late = await newcomer(given, meeting_id)

    assert late.registration["status"] == "waitlisted"
    assert await seats(pool, meeting_id) == (3, 0, 1)


# --- at the same moment -------------------------------------------------------------------------


async def test_accept_and_expiry_at_the_same_moment_give_the_seat_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    for _ in range(5):
        meeting_id = await offer_meeting(given)
        seated = await newcomer(given, meeting_id)
        first = await newcomer(given, meeting_id)
        second = await newcomer(given, meeting_id)
        await cancel(tx, ctx, seated)
        lapsed = (await row(pool, first))["offer_expires_at"]

        accepted, expired = await asyncio.gather(
            accept(tx, at(ctx, lapsed - timedelta(milliseconds=1)), first),
            offer_expiry.expire_lapsed_offers(tx, at(ctx, lapsed)),
            return_exceptions=True,
        )

        mine, next_one = await row(pool, first), await row(pool, second)
        if isinstance(accepted, Conflict):  # the scheduler came first
            assert accepted.slug == "offer-expired"
            assert expired == 1
            assert (mine["status"], mine["offer_state"]) == ("cancelled", "expired")
            assert next_one["offer_state"] == "open"
        else:  # the person came first; the scheduler found nothing lapsed, or left it
            assert not isinstance(accepted, BaseException), accepted
            assert expired == 0
            assert (mine["status"], mine["offer_state"]) == ("confirmed", "accepted")
            assert next_one["offer_state"] is None
        expected = (1, 0) if mine["status"] == "confirmed" else (0, 1)
        assert (await seats(pool, meeting_id))[1:] == expected


async def test_accept_and_cancel_by_the_same_person_at_once_leave_one_outcome(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    for _ in range(5):
        meeting_id = await offer_meeting(given)
        seated = await newcomer(given, meeting_id)
        first = await newcomer(given, meeting_id)
        second = await newcomer(given, meeting_id)
        await cancel(tx, ctx, seated)

        accepted, cancelled = await asyncio.gather(
            accept(tx, ctx, first), cancel(tx, ctx, first), return_exceptions=True
        )

        assert not isinstance(cancelled, BaseException), cancelled
        mine, next_one = await row(pool, first), await row(pool, second)
        assert mine["status"] == "cancelled"
        if isinstance(accepted, Conflict):  # cancelled first: the offer was declined
            assert mine["offer_state"] == "declined"
        else:  # accepted first, then cancelled: the seat was taken, then freed
            assert mine["offer_state"] == "accepted"
        # Either way the seat is free again and offered to the next person.
        assert next_one["offer_state"] == "open"
        assert await seats(pool, meeting_id) == (1, 0, 1)


async def test_registrations_racing_an_offer_never_take_the_held_seat(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given, capacity=2)
    seated = [await newcomer(given, meeting_id) for _ in range(2)]
    waiting = await newcomer(given, meeting_id)
    people = [await given.member(given.network_id) for _ in range(6)]  # type: ignore[attr-defined]

    results = await asyncio.gather(
        cancel(tx, ctx, seated[0]),
        *(given.register(meeting_id, person) for person in people),
    )

    newcomers = [r for r in results[1:] if isinstance(r, Registered)]
    assert all(r.registration["status"] == "waitlisted" for r in newcomers)
    assert (await row(pool, waiting))["offer_state"] == "open"
    assert await seats(pool, meeting_id) == (2, 1, 1)


async def test_capacity_cannot_shrink_below_the_seats_on_offer(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id = await offer_meeting(given, capacity=2)
    seated = [await newcomer(given, meeting_id) for _ in range(2)]
    waiting = await newcomer(given, meeting_id)
    await cancel(tx, ctx, seated[0])
    events = await outbox(pool, aggregate_id=meeting_id)

    with pytest.raises(Conflict) as refused:
        await meetings.update_meeting(
            tx, ctx, meeting_id, MeetingPatch(capacity=1), organiser=PLATFORM
        )

    assert refused.value.slug == "capacity-below-held"
    assert await outbox(pool, aggregate_id=meeting_id) == events
    accepted = await accept(tx, ctx, waiting)
    assert accepted["status"] == "confirmed"
    assert await seats(pool, meeting_id) == (2, 2, 0)
