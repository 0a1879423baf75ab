"""Municipalities as parties of a network: joining, applying, the organiser's decision,
withdrawal, the list, erasure of the contact, and who may enrol in a network of municipalities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from registration.municipalities import ID_NAMESPACE
from registration.service import erasure, parties
from registration.service.commands import EnrolmentIn, MemberIn, PartyIn
from registration.service.parties import Applied
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import PERSONAL_DATA, member
from tests.registration.service.conftest import PLATFORM, Given, outbox
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.events import PartyApplied, PartyJoined, PartyWithdrew
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound

RODOVRE = uuid.uuid5(ID_NAMESPACE, "DK:175")
KOGE = uuid.uuid5(ID_NAMESPACE, "DK:259")


def party_body(
    municipality_id: uuid.UUID | None = RODOVRE, *, name: str | None = None, **more: Any
) -> PartyIn:
    contact = {
        "name": "Henning Elmelund",
        "email": f"{uuid.uuid4().hex[:10]}@rk.example",
        "role": "Kulturchef",
    }
    PERSONAL_DATA.update((contact["name"], contact["email"]))
    where: dict[str, Any] = {"municipality": name} if name else {"municipality_id": municipality_id}
    return PartyIn.model_validate({**where, "contact": contact, **more})


async def municipalities_network(given: Given, **overrides: Any) -> uuid.UUID:
    return await given.network(
        membership="municipalities",
        contact={"name": "KL", "email": "kultur@kl.example"},
        **overrides,
    )


async def apply(
    tx: Transactions, ctx: ServiceContext, network_id: uuid.UUID, body: PartyIn
) -> Applied:
    return await parties.apply(tx, ctx, network_id, body, once=as_is())


async def payloads(pool: asyncpg.Pool, party_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT envelope FROM outbox WHERE aggregate_id = $1 ORDER BY id", party_id
    )
    return [row["envelope"] for row in rows]


async def test_an_open_network_takes_a_municipality_in_at_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await municipalities_network(given)

    joined = await apply(tx, ctx, network_id, party_body())

    assert joined.party["status"] == "joined"
    assert joined.party["joined_at"] is not None
    [envelope] = await payloads(pool, joined.party["id"])
    event = PartyJoined.model_validate(envelope["payload"])
    assert envelope["event_type"] == "PartyJoined"
    assert (event.previous_status, event.municipality, event.country) == (None, "Rødovre", "DK")
    assert event.municipality_code == "175"
    assert event.network_contact_email == "kultur@kl.example"
    assert event.personal is None and event.personal_sealed is not None
    opened = ctx.vault.open(event.personal_sealed, await _key(pool, event.contact_member_id))
    assert opened is not None and opened.cancel_url is not None
    assert f"/cancel/parties/{joined.party['id']}?token=" in opened.cancel_url
    # The contact is a member of the party's municipality, resolved: they may enrol.
    resolved = await pool.fetchval(
        "SELECT municipality_id FROM members WHERE id = $1", event.contact_member_id
    )
    assert resolved == RODOVRE


async def _key(pool: asyncpg.Pool, member_id: uuid.UUID | None) -> bytes | None:
    return await pool.fetchval("SELECT data_key FROM members WHERE id = $1", member_id)


async def test_an_application_waits_for_the_organisers_acceptance(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await municipalities_network(given, admission="application")
    applied = await apply(tx, ctx, network_id, party_body(statement="Vi vil gerne være med."))
    assert applied.party["status"] == "applied"

    accepted = await parties.decide(
        tx, ctx, applied.party["id"], accept=True, reason=None, organiser=PLATFORM, once=as_is()
    )

    assert accepted["status"] == "joined"
    assert await outbox(pool, aggregate_id=applied.party["id"]) == ["PartyApplied", "PartyJoined"]
    first, second = await payloads(pool, applied.party["id"])
    assert PartyApplied.model_validate(first["payload"]).previous_status is None
    assert PartyJoined.model_validate(second["payload"]).previous_status == "applied"
    assert (first["aggregate_version"], second["aggregate_version"]) == (1, 2)


async def test_a_decision_on_a_withdrawn_application_is_a_conflict(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await municipalities_network(given, admission="application")
    applied = await apply(tx, ctx, network_id, party_body())
    party_id = applied.party["id"]

    await parties.withdraw(
        tx,
        ctx,
        party_id,
        token=applied.withdraw_token,
        reason=None,
        organiser=None,
        once=as_is(),
    )

    for accept in (True, False):
        with pytest.raises(Conflict):
            await parties.decide(
                tx, ctx, party_id, accept=accept, reason=None, organiser=PLATFORM, once=as_is()
            )
    [*_, envelope] = await payloads(pool, party_id)
    withdrew = PartyWithdrew.model_validate(envelope["payload"])
    assert (withdrew.previous_status, withdrew.withdrawn_by) == ("applied", "contact")


async def test_a_declined_application_cannot_be_accepted_after_all(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await municipalities_network(given, admission="application")
    applied = await apply(tx, ctx, network_id, party_body())
    party_id = applied.party["id"]

    declined = await parties.decide(
        tx,
        ctx,
        party_id,
        accept=False,
        reason="Piloten er fuld.",
        organiser=PLATFORM,
        once=as_is(),
    )

    assert (declined["status"], declined["reason"]) == ("declined", "Piloten er fuld.")
    with pytest.raises(Conflict):
        await parties.decide(
            tx, ctx, party_id, accept=True, reason=None, organiser=PLATFORM, once=as_is()
        )
    [*_, envelope] = await payloads(pool, party_id)
    assert envelope["payload"]["reason"] == "Piloten er fuld."


async def test_a_municipality_is_a_party_once_and_may_apply_again_after_withdrawing(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await municipalities_network(given)
    first = await apply(tx, ctx, network_id, party_body())

    with pytest.raises(Conflict) as twice:
        await apply(tx, ctx, network_id, party_body())
    assert twice.value.extensions["party_id"] == str(first.party["id"])

    await parties.withdraw(
        tx,
        ctx,
        first.party["id"],
        token=None,
        reason="Ny kontakt",
        organiser=PLATFORM,
        once=as_is(),
    )
    again = await apply(tx, ctx, network_id, party_body())
    assert again.party["status"] == "joined"


async def test_a_wrong_withdraw_token_withdraws_nothing(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await municipalities_network(given)
    first = await apply(tx, ctx, network_id, party_body())
    other = await apply(tx, ctx, network_id, party_body(KOGE))

    with pytest.raises(Forbidden):
        await parties.withdraw(
            tx,
            ctx,
            first.party["id"],
            token=other.withdraw_token,
            reason=None,
            organiser=None,
            once=as_is(),
        )


async def test_a_name_resolves_to_the_register_and_an_unknown_one_is_invalid(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await municipalities_network(given)

    by_name = await apply(tx, ctx, network_id, party_body(name="Rødovre Kommune"))
    assert by_name.party["municipality_id"] == RODOVRE
    with pytest.raises(Invalid, match="No municipality in the register"):
        await apply(tx, ctx, network_id, party_body(name="Atlantis"))
    with pytest.raises(Invalid, match="more than one"):
        await apply(tx, ctx, network_id, party_body(name="Herøy"))
    with pytest.raises(Invalid):
        await apply(tx, ctx, network_id, party_body(uuid.uuid4()))


async def test_applications_close_at_their_time_and_people_networks_take_no_parties(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    closed = await municipalities_network(
        given,
        admission="application",
        applications_close_at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
    )
    of_people = await given.network()

    with pytest.raises(Conflict, match="closed"):
        await apply(tx, ctx, closed, party_body())
    with pytest.raises(Conflict):
        await apply(tx, ctx, of_people, party_body())


async def test_anyone_sees_the_joined_parties_and_the_organisers_see_all_with_contacts(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await municipalities_network(given, admission="application")
    accepted = await apply(tx, ctx, network_id, party_body())
    await apply(tx, ctx, network_id, party_body(KOGE))
    await parties.decide(
        tx, ctx, accepted.party["id"], accept=True, reason=None, organiser=PLATFORM, once=as_is()
    )
    stranger = Principal(Role.ORGANISER, organisation_id=uuid.uuid4())

    public = await parties.list_parties(
        tx, network_id, caller=None, status=None, limit=10, cursor=None
    )
    theirs = await parties.list_parties(
        tx, network_id, caller=stranger, status=None, limit=10, cursor=None
    )
    organisers = await parties.list_parties(
        tx, network_id, caller=PLATFORM, status=None, limit=10, cursor=None
    )

    assert [row["municipality"] for row in public.rows] == ["Rødovre"]
    assert public.in_full is False and theirs.in_full is False
    assert [row["status"] for row in organisers.rows] == ["joined", "applied"]
    assert organisers.in_full is True


async def test_erasing_the_contact_keeps_the_party_without_the_person(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await municipalities_network(given)
    joined = await apply(tx, ctx, network_id, party_body(statement="Kontakt: Henning"))
    contact_id = joined.party["contact_member_id"]

    await erasure.forget_member(tx, ctx, contact_id)

    party = await parties.get_party(tx, joined.party["id"])
    assert party is not None
    assert (party["status"], party["municipality"]) == ("joined", "Rødovre")
    assert (party["contact_name"], party["contact_email"], party["statement"]) == (None,) * 3
    sealed_left = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE envelope -> 'payload' ->> 'contact_member_id' = $1 "
        "AND envelope -> 'payload' ? 'personal_sealed'",
        str(contact_id),
    )
    assert sealed_left == 0


async def test_another_organisations_organiser_cannot_decide(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await municipalities_network(given, admission="application")
    applied = await apply(tx, ctx, network_id, party_body())
    stranger = Principal(Role.ORGANISER, organisation_id=uuid.uuid4())

    with pytest.raises(NotFound):
        await parties.decide(
            tx,
            ctx,
            applied.party["id"],
            accept=True,
            reason=None,
            organiser=stranger,
            once=as_is(),
        )


async def test_in_a_network_of_municipalities_only_people_of_a_joined_party_enrol(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    from registration.service import enrolments

    network_id = await municipalities_network(given, admission="application")
    applied = await apply(tx, ctx, network_id, party_body(KOGE))
    await apply(tx, ctx, network_id, party_body(RODOVRE))
    await parties.decide(
        tx, ctx, applied.party["id"], accept=True, reason=None, organiser=PLATFORM, once=as_is()
    )

    def person(municipality: str) -> EnrolmentIn:
        return EnrolmentIn(
            member=MemberIn.model_validate(member(municipality=municipality)), consent=True
        )

    enrolled = await enrolments.enrol(tx, ctx, network_id, person("Køge Kommune"), once=as_is())
    assert enrolled.enrolment["status"] == "active"
    for outsider in ("Rødovre", "Atlantis"):  # applied, not joined; not in the register
        with pytest.raises(Conflict) as refused:
            await enrolments.enrol(tx, ctx, network_id, person(outsider), once=as_is())
        assert refused.value.slug == "municipality-not-party"


async def test_the_contacts_export_names_the_parties_they_speak_for(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    from registration.service.members import export_member_within

    network_id = await municipalities_network(given)
    joined = await apply(tx, ctx, network_id, party_body(statement="Rødovre vil være med."))

    exported = await tx.read(
        lambda conn: export_member_within(conn, joined.party["contact_member_id"])
    )

    [party] = exported["parties"]
    assert (party["municipality"], party["status"]) == ("Rødovre", "joined")
    assert party["statement"] == "Rødovre vil være med."
