"""The pages of a network of municipalities: the application form (errors in a summary and
beside the fields, what was typed kept), the public list of parties, the console's decision,
and the contact's emailed withdraw link."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from tests.builders import PERSONAL_DATA
from tests.registration.api.conftest import Api

ROOT = "http://registration"


def form(municipality: str, **more: str) -> dict[str, str]:
    email = f"{uuid.uuid4().hex[:10]}@kommune.example"
    PERSONAL_DATA.update(("Kari Kontakt", email))
    return {
        "party_municipality": municipality,
        "party_name": "Kari Kontakt",
        "party_email": email,
        "party_role": "Kulturskolerektor",
        **more,
    }


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.transport, base_url=ROOT)  # type: ignore[arg-type]
    signed_in = await console.post("/console/login", data={"token": "test-organiser-token"})
    assert signed_in.status_code == 303
    return console


async def test_a_municipality_applies_through_the_page_and_the_console_accepts_it(
    api: Api,
) -> None:
    network = await api.network(language="nb", membership="municipalities", admission="application")
    page_url = f"{ROOT}/networks/{network['network_id']}"

    page = await api.client.get(page_url, params={"lang": "nb"})
    assert "Søk for kommunen din" in page.text
    assert "Ingen kommune er med ennå." in page.text

    refused = await api.client.post(
        f"{page_url}/apply?lang=nb", data=form("Atlantis", party_email="not-an-address")
    )
    assert refused.status_code == 422
    assert 'class="summary"' in refused.text
    assert 'href="#party_email"' in refused.text
    assert 'value="Atlantis"' in refused.text  # what was typed is kept

    unknown = await api.client.post(f"{page_url}/apply?lang=nb", data=form("Atlantis"))
    assert unknown.status_code == 422
    assert "Vi fant ikke den kommunen" in unknown.text

    applied = await api.client.post(
        f"{page_url}/apply?lang=nb", data=form("Bodø", party_statement="Vi vil være med.")
    )
    assert applied.status_code == 303
    received = await api.client.get(f"{ROOT}{applied.headers['location']}")
    assert "Søknaden er mottatt" in received.text and "Bodø" in received.text

    console = await _console(api)
    shown = await console.get(f"/console/networks/{network['network_id']}")
    assert "Bodø" in shown.text and "Vi vil være med." in shown.text
    party_id = (
        await api.client.get(
            f"/networks/{network['network_id']}/parties",
            headers={"Authorization": "Bearer test-organiser-token"},
        )
    ).json()["items"][0]["party_id"]
    decided = await console.post(
        f"/console/parties/{party_id}/decide", data={"decision": "accept", "reason": ""}
    )
    assert decided.status_code == 303

    public = await api.client.get(page_url, params={"lang": "nb"})
    assert "<li>Bodø</li>" in public.text


async def test_the_contact_withdraws_through_the_emailed_link(api: Api) -> None:
    network = await api.network(language="da", membership="municipalities")
    PERSONAL_DATA.add("kari@koege.example")
    joined = await api.client.post(
        f"/networks/{network['network_id']}/parties",
        json={
            "municipality": "Køge",
            "contact": {
                "name": "Kari Kontakt",
                "email": "kari@koege.example",
                "role": "Kulturchef",
                "language": "da",
            },
        },
    )
    party_id, token = joined.json()["party_id"], joined.json()["withdraw_token"]
    url = f"{ROOT}/cancel/parties/{party_id}"

    asked = await api.client.get(url, params={"token": token})
    done = await api.client.post(url, data={"token": token})
    again = await api.client.post(url, data={"token": token})
    forged = await api.client.get(url, params={"token": "0.forged"})

    assert asked.status_code == 200 and "Bekræft udmeldelse" in asked.text
    assert "Kommunen er meldt ud" in done.text
    assert "allerede meldt ud" in again.text
    assert forged.status_code == 403
    listed = await api.client.get(f"/networks/{network['network_id']}/parties")
    assert listed.json()["items"] == []


async def test_the_console_creates_a_network_of_municipalities_taking_applications(
    api: Api,
) -> None:
    console = await _console(api)

    created = await console.post(
        "/console/networks",
        data={
            "title": "Kulturskole 3.0",
            "description": "Et pilotprosjekt.",
            "organisers": "KS",
            "language": "nb",
            "max_companions": "1",
            "membership": "municipalities",
            "admission": "application",
            "applications_close_at": "2099-06-01T12:00",
        },
    )

    assert created.status_code == 303, created.text
    network_id = created.headers["location"].rsplit("/", 1)[-1]
    network = (await api.client.get(f"/networks/{network_id}")).json()
    assert (network["membership"], network["admission"]) == ("municipalities", "application")
    assert network["applications_close_at"].startswith("2099-06-01T10:00:00")  # Oslo, summer
    shown = await console.get(f"/console/networks/{network_id}")
    assert 'value="2099-06-01T12:00"' in shown.text


async def test_the_console_withdraws_a_joined_municipality_with_a_reason(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="da", membership="municipalities")
    PERSONAL_DATA.add("kari@ishoej.example")
    joined = await api.client.post(
        f"/networks/{network['network_id']}/parties",
        json={
            "municipality": "Ishøj",
            "contact": {"name": "Kari Kontakt", "email": "kari@ishoej.example", "role": "Chef"},
        },
    )
    party_id = joined.json()["party_id"]
    console = await _console(api)
    shown = await console.get(f"/console/networks/{network['network_id']}")
    assert f'action="/console/parties/{party_id}/withdraw"' in shown.text

    withdrawn = await console.post(
        f"/console/parties/{party_id}/withdraw", data={"reason": "Aftalen er udløbet."}
    )

    assert withdrawn.status_code == 303
    listed = await api.client.get(
        f"/networks/{network['network_id']}/parties",
        headers={"Authorization": "Bearer test-organiser-token"},
    )
    [party] = listed.json()["items"]
    assert (party["status"], party["reason"]) == ("withdrawn", "Aftalen er udløbet.")
    conn = await asyncpg.connect(database_url)
    try:
        withdrawn_by = await conn.fetchval(
            "SELECT envelope -> 'payload' ->> 'withdrawn_by' FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = 'PartyWithdrew'"
        )
    finally:
        await conn.close()
    assert withdrawn_by == "organiser"
