"""Parties through HTTP: the problems a client meets (422, 409), what the public list hides,
erasure of a contact, and the events each change leaves in the outbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from registration.municipalities import ID_NAMESPACE
from tests.builders import ORGANISER, PERSONAL_DATA, member
from tests.registration.api.conftest import Api

RODOVRE = str(uuid.uuid5(ID_NAMESPACE, "DK:175"))
ALBERTSLUND = str(uuid.uuid5(ID_NAMESPACE, "DK:165"))


def application(municipality_id: str | None = RODOVRE, **more: Any) -> dict[str, Any]:
    contact = {
        "name": "Lise Kontaktperson",
        "email": f"{uuid.uuid4().hex[:10]}@kommune.example",
        "role": "Kulturchef",
        "language": "da",
    }
    PERSONAL_DATA.update((contact["name"], contact["email"]))
    where = {"municipality_id": municipality_id} if municipality_id else {}
    return {**where, "contact": contact, **more}


async def network_of_municipalities(api: Api, **overrides: Any) -> str:
    network = await api.network(membership="municipalities", **overrides)
    assert (network["membership"], network["admission"]) == (
        "municipalities",
        overrides.get("admission", "open"),
    )
    return str(network["network_id"])


async def _outbox(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope::text AS text FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = $1 ORDER BY id",
            event_type,
        )
        return [json.loads(row["text"]) for row in rows]
    finally:
        await conn.close()


async def test_an_unknown_municipality_id_or_name_is_invalid_input(api: Api) -> None:
    network_id = await network_of_municipalities(api)

    unknown = await api.client.post(
        f"/networks/{network_id}/parties", json=application(str(uuid.uuid4()))
    )
    ambiguous = await api.client.post(
        f"/networks/{network_id}/parties", json=application(None, municipality="Herøy")
    )
    neither = await api.client.post(f"/networks/{network_id}/parties", json=application(None))

    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"] == "municipality_id"
    assert ambiguous.status_code == 422
    assert "more than one" in ambiguous.json()["detail"]
    assert neither.status_code == 422


async def test_a_municipality_twice_is_a_conflict_naming_its_party(api: Api) -> None:
    network_id = await network_of_municipalities(api)
    first = await api.client.post(f"/networks/{network_id}/parties", json=application())
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "joined"
    assert first.json()["municipality_id"] == RODOVRE

    again = await api.client.post(
        f"/networks/{network_id}/parties", json=application(None, municipality="Rødovre Kommune")
    )

    assert again.status_code == 409
    assert again.json()["type"].endswith("/already-a-party")
    assert again.json()["party_id"] == first.json()["party_id"]


async def test_a_decision_on_a_withdrawn_application_is_a_conflict(api: Api) -> None:
    network_id = await network_of_municipalities(api, admission="application")
    applied = await api.client.post(f"/networks/{network_id}/parties", json=application())
    assert applied.json()["status"] == "applied"
    party_id, token = applied.json()["party_id"], applied.json()["withdraw_token"]

    withdrawn = await api.client.post(f"/parties/{party_id}/withdraw", json={"token": token})
    accepted = await api.client.post(f"/parties/{party_id}/accept", headers=ORGANISER)
    declined = await api.client.post(
        f"/parties/{party_id}/decline", json={"reason": "For sent"}, headers=ORGANISER
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert (accepted.status_code, declined.status_code) == (409, 409)
    assert accepted.json()["type"].endswith("/not-awaiting-decision")


async def test_deciding_takes_an_organiser_and_withdrawing_a_token(api: Api) -> None:
    network_id = await network_of_municipalities(api, admission="application")
    applied = await api.client.post(f"/networks/{network_id}/parties", json=application())
    party_id = applied.json()["party_id"]

    assert (await api.client.post(f"/parties/{party_id}/accept")).status_code == 401
    no_token = await api.client.post(f"/parties/{party_id}/withdraw", json={"token": "1.x"})
    assert no_token.status_code == 403

    accepted = await api.client.post(f"/parties/{party_id}/accept", headers=ORGANISER)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "joined"
    assert accepted.json()["joined_at"] is not None


async def test_only_people_from_a_joined_party_enrol(api: Api) -> None:
    network_id = await network_of_municipalities(api)
    await api.client.post(f"/networks/{network_id}/parties", json=application(ALBERTSLUND))

    inside = await api.client.post(
        f"/networks/{network_id}/enrolments",
        json={"member": member(municipality="Albertslund Kommune"), "consent": True},
    )
    outside = await api.client.post(
        f"/networks/{network_id}/enrolments",
        json={"member": member(municipality="Rødovre"), "consent": True},
    )

    assert inside.status_code == 201, inside.text
    assert outside.status_code == 409
    assert outside.json()["type"].endswith("/municipality-not-party")


async def test_the_public_list_shows_joined_parties_without_contacts(api: Api) -> None:
    network_id = await network_of_municipalities(api, admission="application")
    joined = await api.client.post(f"/networks/{network_id}/parties", json=application())
    body = application(ALBERTSLUND, statement="Vi søger om at deltage.")
    await api.client.post(f"/networks/{network_id}/parties", json=body)
    await api.client.post(f"/parties/{joined.json()['party_id']}/accept", headers=ORGANISER)

    public = await api.client.get(f"/networks/{network_id}/parties")
    organisers = await api.client.get(f"/networks/{network_id}/parties", headers=ORGANISER)
    applied_only = await api.client.get(
        f"/networks/{network_id}/parties?status=applied", headers=ORGANISER
    )

    assert public.status_code == 200
    [only] = public.json()["items"]
    assert (only["municipality"], only["status"]) == ("Rødovre", "joined")
    assert only["contact"] is None and only["statement"] is None
    assert body["contact"]["email"] not in public.text
    assert [p["status"] for p in organisers.json()["items"]] == ["joined", "applied"]
    assert organisers.json()["items"][1]["contact"]["email"] == body["contact"]["email"]
    assert organisers.json()["items"][1]["statement"] == "Vi søger om at deltage."
    assert [p["municipality"] for p in applied_only.json()["items"]] == ["Albertslund"]


async def test_erasing_the_contact_keeps_the_party(api: Api, database_url: str) -> None:
    network_id = await network_of_municipalities(api)
    body = application()
    joined = await api.client.post(f"/networks/{network_id}/parties", json=body)
    listed = await api.client.get(f"/networks/{network_id}/parties", headers=ORGANISER)
    contact = listed.json()["items"][0]["contact"]
    assert contact["email"] == body["contact"]["email"]
    # The contact's member id travels in the events (never their name or address).
    [event] = await _outbox(database_url, "PartyJoined")
    member_id = event["payload"]["contact_member_id"]

    erased = await api.client.delete(f"/members/{member_id}", headers=ORGANISER)

    assert erased.status_code in (200, 202, 204), erased.text
    after = await api.client.get(f"/networks/{network_id}/parties", headers=ORGANISER)
    [party] = after.json()["items"]
    assert party["party_id"] == joined.json()["party_id"]
    assert (party["status"], party["municipality"]) == ("joined", "Rødovre")
    assert party["contact"] == {"name": None, "email": None, "role": None, "language": "da"}


async def test_each_change_is_an_event_with_the_contact_sealed(api: Api, database_url: str) -> None:
    network_id = await network_of_municipalities(
        api, admission="application", contact={"name": "KS", "email": "kultur@ks.example"}
    )
    body = application()
    applied = await api.client.post(f"/networks/{network_id}/parties", json=body)
    party_id = applied.json()["party_id"]
    await api.client.post(
        f"/parties/{party_id}/decline", json={"reason": "Piloten er fuld"}, headers=ORGANISER
    )

    [applied_event] = await _outbox(database_url, "PartyApplied")
    [declined_event] = await _outbox(database_url, "PartyDeclined")
    for envelope in (applied_event, declined_event):
        text = str(envelope)
        assert body["contact"]["email"] not in text and body["contact"]["name"] not in text
        assert envelope["aggregate_id"] == party_id
        assert envelope["payload"]["personal_sealed"]["member_id"]
        assert envelope["payload"]["municipality"] == "Rødovre"
        assert envelope["payload"]["network_contact_email"] == "kultur@ks.example"
    assert declined_event["payload"]["previous_status"] == "applied"
    assert declined_event["payload"]["reason"] == "Piloten er fuld"
    assert [e["aggregate_version"] for e in (applied_event, declined_event)] == [1, 2]


async def test_a_retry_with_the_same_key_applies_once(api: Api) -> None:
    network_id = await network_of_municipalities(api)
    body = application()
    headers = {"Idempotency-Key": "party-1"}

    first = await api.client.post(f"/networks/{network_id}/parties", json=body, headers=headers)
    retry = await api.client.post(f"/networks/{network_id}/parties", json=body, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert first.json() == retry.json()


async def test_the_api_document_describes_the_party_routes(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()

    operations = {
        (path, method): operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }

    assert operations[("/api/v1/networks/{network_id}/parties", "post")] == "apply_as_party"
    assert operations[("/api/v1/networks/{network_id}/parties", "get")] == "list_parties"
    for action in ("accept", "decline", "withdraw"):
        assert operations[(f"/api/v1/parties/{{party_id}}/{action}", "post")] == (f"{action}_party")
    network = document["components"]["schemas"]["NetworkIn"]["properties"]
    assert network["membership"]["enum"] == ["people", "municipalities"]
