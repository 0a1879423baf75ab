"""Series enrolment and joint meetings over HTTP: enrolling registers for the year, a meeting
scheduled later registers every member, the renew link enrols again for the next term; co-hosts
are the organisation's own (else 403, nothing written), members of any host register, and the
meeting is listed under each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from registration.service import series_enrolment
from registration.service.history import PinnedClock
from registration.unit_of_work import Transactions
from tests.builders import ORGANISER, meeting_body, member, network_body
from tests.registration.api.conftest import Api


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def post(
    client: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers or {})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def organisation_key(client: httpx.AsyncClient, name: str) -> str:
    organisation = await post(client, "/organisations", {"name": name}, ORGANISER)
    issued = await post(
        client,
        f"/organisations/{organisation['organisation_id']}/api-keys",
        {"name": "organiser"},
        ORGANISER,
    )
    return str(issued["key"])


async def registrations(database_url: str, meeting_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(
            await conn.fetch(
                "SELECT * FROM registration.registrations WHERE meeting_id = $1 ORDER BY position",
                uuid.UUID(meeting_id),
            )
        )
    finally:
        await conn.close()


async def test_enrolling_registers_for_the_year_and_each_registration_cancels_alone(
    api: Api, database_url: str
) -> None:
    network = await api.network(auto_register=True)
    first = await api.meeting(network["network_id"], days_ahead=14)
    second = await api.meeting(network["network_id"], days_ahead=40)
    conference = await api.meeting(network["network_id"], days_ahead=60, open_to_public=True)

    person = await api.enrolled(network["network_id"])
    later = await api.meeting(network["network_id"], days_ahead=80)

    for meeting in (first, second, later):
        (row,) = await registrations(database_url, meeting["meeting_id"])
        assert (row["status"], row["automatic"]) == ("confirmed", True)
    assert await registrations(database_url, conference["meeting_id"]) == []
    shown = (await api.client.get(f"/meetings/{first['meeting_id']}")).json()
    assert shown["seats_taken"] == 1

    (automatic,) = await registrations(database_url, second["meeting_id"])
    cancelled = await api.client.post(
        f"/registrations/{automatic['id']}/cancel", json={}, headers=ORGANISER
    )
    assert cancelled.status_code == 200, cancelled.text
    assert [r["status"] for r in await registrations(database_url, second["meeting_id"])] == [
        "cancelled"
    ]
    assert [r["status"] for r in await registrations(database_url, first["meeting_id"])] == [
        "confirmed"
    ]
    # Registering by hand again is the person's own choice, and works.
    again = await api.client.post(
        f"/meetings/{second['meeting_id']}/registrations", json={"member": person}
    )
    assert again.status_code == 201, again.text


async def test_the_renew_link_enrols_again_once_the_next_term_is_set(
    api: Api, database_url: str
) -> None:
    term_ends = datetime.now(UTC) + timedelta(days=5)
    network = await api.network(auto_register=True, term_ends_at=term_ends.isoformat())
    person = member()
    enrolled = await post(
        api.client,
        f"/networks/{network['network_id']}/enrolments",
        {"member": person, "consent": True},
    )
    app_state = api.transport.app.state  # type: ignore[union-attr]
    tx: Transactions = app_state.transactions
    after = app_state.context.__class__(
        settings=app_state.context.settings,
        clock=PinnedClock(term_ends + timedelta(minutes=1)),
        vault=app_state.context.vault,
    )
    assert await series_enrolment.end_terms(tx, after) == 1
    token = series_enrolment.renew_token(after, uuid.UUID(enrolled["enrolment_id"]))
    renew = f"/enrolments/{enrolled['enrolment_id']}/renew"

    wrong = await api.client.post(renew, json={"token": "not-it"})
    cancel_ended = await api.client.post(
        f"/enrolments/{enrolled['enrolment_id']}/cancel", json={}, headers=ORGANISER
    )
    # The term is still the old one (the pinned clock says it passed; so does the network).
    patched = await api.client.patch(
        f"/networks/{network['network_id']}",
        json={"term_ends_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        headers=ORGANISER,
    )
    too_soon = await api.client.post(renew, json={"token": token})
    assert wrong.status_code == 403 and wrong.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert cancel_ended.status_code == 409
    assert patched.status_code == 200
    assert too_soon.status_code == 409 and too_soon.json()["type"].endswith("term-ended")

    next_term = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    await api.client.patch(
        f"/networks/{network['network_id']}", json={"term_ends_at": next_term}, headers=ORGANISER
    )
    first_of_next = await api.meeting(network["network_id"], days_ahead=30)
    renewed = await api.client.post(renew, json={"token": token}, headers={"Idempotency-Key": "r1"})
    replay = await api.client.post(renew, json={"token": token}, headers={"Idempotency-Key": "r1"})

    assert renewed.status_code == 201, renewed.text
    body = renewed.json()
    assert body["status"] == "active" and body["member_id"] == enrolled["member_id"]
    assert body["enrolment_id"] != enrolled["enrolment_id"] and body["cancel_token"]
    assert replay.json() == body
    (row,) = await registrations(database_url, first_of_next["meeting_id"])
    assert (str(row["member_id"]), row["automatic"]) == (enrolled["member_id"], True)


async def test_a_co_host_of_another_organisation_is_a_403_problem_and_nothing_is_written(
    api: Api, database_url: str
) -> None:
    kl = await organisation_key(api.client, f"KL {uuid.uuid4().hex[:6]}")
    ks = await organisation_key(api.client, f"KS {uuid.uuid4().hex[:6]}")
    green = await post(api.client, "/networks", _network("Grøn omstilling"), bearer(kl))
    norwegian = await post(api.client, "/networks", _network("Kultur for framtida"), bearer(ks))

    refused = await api.client.post(
        f"/networks/{green['network_id']}/meetings",
        json=_meeting(co_hosts=[norwegian["network_id"]]),
        headers=bearer(kl),
    )
    unknown = await api.client.post(
        f"/networks/{green['network_id']}/meetings",
        json=_meeting(co_hosts=[str(uuid.uuid4())]),
        headers=bearer(kl),
    )
    itself = await api.client.post(
        f"/networks/{green['network_id']}/meetings",
        json=_meeting(co_hosts=[green["network_id"]]),
        headers=bearer(kl),
    )

    assert refused.status_code == unknown.status_code == 403
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == 403 and problem["errors"][0]["field"] == "co_hosts"
    assert itself.status_code == 422
    listed = (await api.client.get(f"/networks/{green['network_id']}/meetings")).json()
    assert listed["items"] == []


async def test_members_of_either_host_register_for_a_joint_meeting_listed_under_both(
    api: Api,
) -> None:
    kl = await organisation_key(api.client, f"KL {uuid.uuid4().hex[:6]}")
    green = await post(api.client, "/networks", _network("Grøn omstilling"), bearer(kl))
    climate = await post(api.client, "/networks", _network("Klimapolitik"), bearer(kl))
    other = await post(api.client, "/networks", _network("Kulturchefer"), bearer(kl))
    joint = await post(
        api.client,
        f"/networks/{green['network_id']}/meetings",
        _meeting(co_hosts=[climate["network_id"]], title="Fælles møde om klimapolitik"),
        bearer(kl),
    )
    assert joint["co_hosts"] == [climate["network_id"]]

    from_climate = await api.enrolled(climate["network_id"])
    from_other = await api.enrolled(other["network_id"])
    ok = await api.client.post(
        f"/meetings/{joint['meeting_id']}/registrations", json={"member": from_climate}
    )
    refused = await api.client.post(
        f"/meetings/{joint['meeting_id']}/registrations", json={"member": from_other}
    )

    assert ok.status_code == 201 and ok.json()["status"] == "confirmed"
    assert refused.status_code == 409 and refused.json()["type"].endswith("not-enrolled")
    for network in (green, climate):
        listed = (await api.client.get(f"/networks/{network['network_id']}/meetings")).json()
        assert [m["meeting_id"] for m in listed["items"]] == [joint["meeting_id"]]
    assert (await api.client.get(f"/networks/{other['network_id']}/meetings")).json()["items"] == []
    # The public pages list it under each host too.
    for network in (green, climate):
        page = await api.client.get(f"http://registration/networks/{network['network_id']}")
        assert "Fælles møde om klimapolitik" in page.text
    # And the meeting's page names the network holding it with the host.
    meeting_page = await api.client.get(
        f"http://registration/meetings/{joint['meeting_id']}", params={"lang": "en"}
    )
    facts = meeting_page.text.split("Held together with", 1)[1].split("</dd>", 1)[0]
    assert "Klimapolitik" in facts and "Grøn omstilling" not in facts


def _network(title: str) -> dict[str, Any]:
    return network_body(title=title)


def _meeting(**overrides: Any) -> dict[str, Any]:
    return meeting_body(**overrides)


async def test_the_renew_link_opens_the_networks_page_with_the_form_filled_in(
    api: Api,
) -> None:
    term_ends = datetime.now(UTC) + timedelta(days=5)
    network = await api.network(auto_register=True, term_ends_at=term_ends.isoformat())
    person = member(name="Karen Holm", municipality="Helsingør")
    enrolled = await post(
        api.client,
        f"/networks/{network['network_id']}/enrolments",
        {"member": person, "consent": True},
    )
    ctx = api.transport.app.state.context  # type: ignore[union-attr]
    token = series_enrolment.renew_token(ctx, uuid.UUID(enrolled["enrolment_id"]))
    page = f"http://registration/networks/{network['network_id']}"

    filled = await api.client.get(page, params={"renew": enrolled["enrolment_id"], "token": token})
    wrong = await api.client.get(page, params={"renew": enrolled["enrolment_id"], "token": "x"})
    plain = await api.client.get(page)

    assert filled.status_code == 200
    assert f'value="{person["email"]}"' in filled.text and "Karen Holm" in filled.text
    assert filled.headers["cache-control"] == "no-store"
    assert filled.headers["referrer-policy"] == "no-referrer"
    assert wrong.status_code == 200 and person["email"] not in wrong.text
    assert person["email"] not in plain.text
