"""Joint meetings: co-hosts are networks of the meeting's own organisation; members of any host
may register; the meeting is listed (and in the public calendar) under each host."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from registration.service import calendar_feeds, meetings, organisations
from registration.service.commands import MeetingIn, MeetingPatch, MemberIn, OrganisationIn
from registration.unit_of_work import Transactions, as_is
from tests.builders import meeting_body, member
from tests.registration.service.conftest import Given, outbox
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound


async def organisation(tx: Transactions, name: str) -> uuid.UUID:
    row = await organisations.create_organisation(tx, OrganisationIn(name=name))
    return uuid.UUID(str(row["id"]))


async def test_a_co_host_of_another_organisation_or_unknown_is_refused_and_nothing_written(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    kl = await organisation(tx, f"KL {uuid.uuid4().hex[:6]}")
    ks = await organisation(tx, f"KS {uuid.uuid4().hex[:6]}")
    green = await given.network(organisation_id=str(kl))
    norwegian = await given.network(organisation_id=str(ks))
    organiser = Principal(Role.ORGANISER, kl)
    before = await outbox(pool)

    for co_hosts in ([norwegian], [uuid.uuid4()]):
        command = MeetingIn.model_validate(meeting_body(co_hosts=[str(c) for c in co_hosts]))
        with pytest.raises(Forbidden) as refused:
            await meetings.schedule_meeting(tx, green, command, organiser=organiser, once=as_is())
        assert refused.value.extensions["errors"][0]["field"] == "co_hosts"
    itself = MeetingIn.model_validate(meeting_body(co_hosts=[str(green)]))
    with pytest.raises(Invalid):
        await meetings.schedule_meeting(tx, green, itself, organiser=organiser, once=as_is())

    assert await outbox(pool) == before
    assert await pool.fetchval("SELECT count(*) FROM meetings") == 0


async def test_a_patch_naming_a_foreign_co_host_is_refused(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    kl = await organisation(tx, f"KL {uuid.uuid4().hex[:6]}")
    ks = await organisation(tx, f"KS {uuid.uuid4().hex[:6]}")
    green = await given.network(organisation_id=str(kl))
    climate = await given.network(organisation_id=str(kl))
    norwegian = await given.network(organisation_id=str(ks))
    meeting_id = await given.meeting(green)
    organiser = Principal(Role.ORGANISER, kl)

    with pytest.raises(Forbidden):
        await meetings.update_meeting(
            tx,
            given.ctx,
            meeting_id,
            MeetingPatch.model_validate({"co_hosts": [str(climate), str(norwegian)]}),
            organiser=organiser,
        )
    row = await meetings.update_meeting(
        tx,
        given.ctx,
        meeting_id,
        MeetingPatch.model_validate({"co_hosts": [str(climate)]}),
        organiser=organiser,
    )

    assert list(row["co_hosts"]) == [climate]


async def test_members_of_any_host_may_register_and_others_may_not(
    given: Given, tx: Transactions
) -> None:
    kl = await organisation(tx, f"KL {uuid.uuid4().hex[:6]}")
    green = await given.network(organisation_id=str(kl))
    climate = await given.network(organisation_id=str(kl))
    elsewhere = await given.network(organisation_id=str(kl))
    joint = await given.meeting(green, co_hosts=[str(climate)])

    from_green = await given.register(joint, await given.member(green))
    from_climate = await given.register(joint, await given.member(climate))
    outsider = await given.member(elsewhere)
    with pytest.raises(Conflict) as refused:
        await given.register(joint, outsider)
    stranger = MemberIn.model_validate(member())
    with pytest.raises(Conflict):
        await given.register(joint, stranger)

    assert from_green.registration["status"] == from_climate.registration["status"] == "confirmed"
    assert refused.value.slug == "not-enrolled"


async def test_a_joint_meeting_is_listed_under_each_host_and_in_each_public_calendar(
    given: Given, tx: Transactions
) -> None:
    kl = await organisation(tx, f"KL {uuid.uuid4().hex[:6]}")
    green = await given.network(organisation_id=str(kl))
    climate = await given.network(organisation_id=str(kl))
    own = await given.meeting(green, days_ahead=10)
    joint = await given.meeting(
        green, days_ahead=20, co_hosts=[str(climate)], open_to_public=True, title="Fælles møde"
    )

    green_rows, _, _ = await meetings.read_meetings(tx, green, None, limit=10, cursor=None)
    climate_rows, _, _ = await meetings.read_meetings(tx, climate, None, limit=10, cursor=None)
    feed = await calendar_feeds.network_feed(tx, climate)

    assert [row["id"] for row in green_rows] == [own, joint]
    assert [row["id"] for row in climate_rows] == [joint]
    assert f"UID:{joint}@tilmeld" in feed.body and "Fælles møde" in feed.body


async def test_another_organisations_organiser_cannot_read_a_co_hosted_meeting(
    given: Given, tx: Transactions
) -> None:
    kl = await organisation(tx, f"KL {uuid.uuid4().hex[:6]}")
    ks = await organisation(tx, f"KS {uuid.uuid4().hex[:6]}")
    green = await given.network(organisation_id=str(kl))
    climate = await given.network(organisation_id=str(kl))
    joint = await given.meeting(green, co_hosts=[str(climate)])

    with pytest.raises(NotFound):
        await meetings.cancel_meeting(
            tx, joint, organiser=Principal(Role.ORGANISER, ks), once=as_is()
        )
