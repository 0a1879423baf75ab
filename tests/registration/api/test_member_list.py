"""A network's member list in the console: who, from where, since when and how often they came,
on the page and as the spreadsheet the organiser's Excel opens."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx

from tests.builders import ORGANISER, ORGANISER_TOKEN, member
from tests.registration.api.conftest import Api

HELD_AT = datetime(2025, 3, 6, 9, tzinfo=UTC)


async def _console(api: Api, key: str = ORGANISER_TOKEN) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": key})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def _network_with_history(api: Api) -> tuple[str, dict[str, str], dict[str, str]]:
    network = await api.network(language="da")
    came = member(name="Birgitte Ærø", municipality="Roskilde")
    stayed_away = member(name="Aksel Holm", municipality="Køge")
    held = await api.client.post(
        f"/networks/{network['network_id']}/held-meetings",
        json={
            "title": "Kultur og klima",
            "starts_at": HELD_AT.isoformat(),
            "ends_at": (HELD_AT + timedelta(hours=3)).isoformat(),
            "capacity": 30,
            "registrations": [
                {
                    "member": person,
                    "registered_at": (HELD_AT - timedelta(days=10)).isoformat(),
                    "attended": person is came,
                }
                for person in (came, stayed_away)
            ],
        },
        headers=ORGANISER,
    )
    assert held.status_code == 201, held.text
    return network["network_id"], came, stayed_away


async def test_the_member_list_shows_who_came_how_often_and_who_left(api: Api) -> None:
    network_id, _, _ = await _network_with_history(api)
    left = await api.enrolled(network_id, name="Karen Udmeldt", municipality="Herlev")
    enrolment = (
        await api.client.get(f"/networks/{network_id}/enrolments", headers=ORGANISER)
    ).json()["items"]
    leaving = next(e for e in enrolment if e["email"] == left["email"])
    cancelled = await api.client.post(
        f"/enrolments/{leaving['enrolment_id']}/cancel", json={}, headers=ORGANISER
    )
    assert cancelled.status_code == 200, cancelled.text

    console = await _console(api)
    page = await console.get(f"/console/networks/{network_id}/members?lang=en")

    assert page.status_code == 200
    members, former = page.text.split("Former members", 1)
    assert "Birgitte Ærø" in members and "Aksel Holm" in members
    assert "Karen Udmeldt" in former and "Karen Udmeldt" not in members
    came_row = members.split("Birgitte Ærø", 1)[1].split("</tr>", 1)[0]
    away_row = members.split("Aksel Holm", 1)[1].split("</tr>", 1)[0]
    assert "1 of 1 held meetings" in came_row
    assert "0 of 1 held meetings" in away_row
    network_page = await console.get(f"/console/networks/{network_id}")
    assert f"/console/networks/{network_id}/members" in network_page.text


async def test_the_member_list_csv_opens_in_the_organisers_excel(api: Api) -> None:
    network_id, came, _ = await _network_with_history(api)
    console = await _console(api)

    danish = await console.get(f"/console/networks/{network_id}/members.csv?lang=da")
    english = await console.get(f"/console/networks/{network_id}/members.csv?lang=en")

    assert danish.status_code == 200
    assert danish.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(danish.text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows[0]) == 9  # split on `;`: the separator Danish Excel expects
    [birgitte] = [row for row in rows if row[0] == "Birgitte Ærø"]
    assert birgitte[1] == came["email"] and birgitte[3] == "Kulturkonsulent"
    assert birgitte[-1] == "1"
    # Local time to the minute: no seconds, microseconds or offset.
    assert len(birgitte[5]) == len("2025-02-24 10:00") and "+" not in birgitte[5]
    disposition = danish.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and ".csv" in disposition
    assert " " not in disposition.split('"')[1]
    english_header = next(csv.reader(io.StringIO(english.text.lstrip("\ufeff"))))
    assert english_header[:3] == ["Name", "Email", "Municipality"]


async def test_another_organisations_console_cannot_see_the_member_list(api: Api) -> None:
    network_id, _, _ = await _network_with_history(api)
    created = await api.client.post("/organisations", json={"name": "KS"}, headers=ORGANISER)
    issued = await api.client.post(
        f"/organisations/{created.json()['organisation_id']}/api-keys",
        json={"name": "console"},
        headers=ORGANISER,
    )
    other = await _console(api, issued.json()["key"])

    for page in ("members", "members.csv"):
        answer = await other.get(f"/console/networks/{network_id}/{page}")
        assert answer.status_code == 404
        assert "Birgitte" not in answer.text
