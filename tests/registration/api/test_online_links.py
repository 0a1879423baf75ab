"""A meeting's online link reaches its organisers and its confirmed participants; everyone else
learns only that the meeting is online."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.registration.api.conftest import Api

ROOT = "http://registration"
LINK = "https://meet.example.org/klima-og-kultur"


async def online_meeting(api: Api, **overrides: Any) -> tuple[dict, dict]:
    network = await api.network(language="en")
    meeting = await api.meeting(
        network["network_id"], location=None, online_url=LINK, open_to_public=True, **overrides
    )
    return network, meeting


async def test_the_public_learns_a_meeting_is_online_but_not_its_link(api: Api) -> None:
    network, meeting = await online_meeting(api)

    one = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    listed = (await api.client.get(f"/networks/{network['network_id']}/meetings")).json()
    as_reporting = await api.client.get(f"/meetings/{meeting['meeting_id']}", headers=REPORTING)

    assert one["online"] is True and one["online_url"] is None
    assert listed["items"][0]["online"] is True and listed["items"][0]["online_url"] is None
    assert as_reporting.json()["online_url"] is None


async def test_organisers_of_the_meeting_see_its_link_and_other_organisations_do_not(
    api: Api,
) -> None:
    keys = {}
    for name in ("KL", "KS"):
        org = (
            await api.client.post("/organisations", json={"name": name}, headers=ORGANISER)
        ).json()
        issued = await api.client.post(
            f"/organisations/{org['organisation_id']}/api-keys", json={"name": "api"},
            headers=ORGANISER,
        )  # fmt: skip
        keys[name] = {"Authorization": f"Bearer {issued.json()['key']}"}
    network = (await api.client.post("/networks", json=network_body(), headers=keys["KL"])).json()
    scheduled = await api.client.post(
        f"/networks/{network['network_id']}/meetings",
        json=meeting_body(location=None, online_url=LINK),
        headers=keys["KL"],
    )
    meeting_id = scheduled.json()["meeting_id"]

    def link(answer: httpx.Response) -> Any:
        return answer.json()["online_url"]

    assert link(scheduled) == LINK
    assert link(await api.client.get(f"/meetings/{meeting_id}", headers=keys["KL"])) == LINK
    assert link(await api.client.get(f"/meetings/{meeting_id}", headers=ORGANISER)) == LINK
    assert link(await api.client.get(f"/meetings/{meeting_id}", headers=keys["KS"])) is None
    listed = await api.client.get(f"/networks/{network['network_id']}/meetings", headers=keys["KL"])
    assert listed.json()["items"][0]["online_url"] == LINK


async def test_the_public_meeting_page_says_the_link_goes_to_participants(api: Api) -> None:
    _, meeting = await online_meeting(api)

    page = await api.client.get(f"{ROOT}/meetings/{meeting['meeting_id']}", params={"lang": "en"})

    assert page.status_code == 200
    assert "The link is sent to registered participants." in page.text
    assert LINK not in page.text


async def test_a_confirmed_participant_finds_the_link_on_their_own_page(api: Api) -> None:
    _, meeting = await online_meeting(api, capacity=1)

    async def register(name: str) -> httpx.Response:
        person = member(name=name)
        done = await api.client.post(
            f"{ROOT}/meetings/{meeting['meeting_id']}/register",
            params={"lang": "en"},
            data={key: person[key] for key in ("name", "email", "municipality", "role")},
        )
        assert done.status_code == 303, done.text
        return await api.client.get(f"{ROOT}{done.headers['location']}")

    confirmed = await register("Karen Hansen")
    waitlisted = await register("Bo Jensen")
    location = re.sub(r"token=[^&]+", "token=0.forged", str(confirmed.url))
    forged = await api.client.get(location)

    assert "You are registered" in confirmed.text and LINK in confirmed.text
    assert confirmed.headers["referrer-policy"] == "no-referrer"
    assert LINK not in waitlisted.text
    for page, has_a_seat in ((confirmed, True), (waitlisted, False)):
        calendar_url = re.search(r'href="(/registrations/[^"]+/calendar\.ics[^"]*)"', page.text)
        assert calendar_url is not None
        entry = await api.client.get(f"{ROOT}{calendar_url.group(1).replace('&amp;', '&')}")
        assert entry.status_code == 200
        assert (LINK in entry.text) is has_a_seat
    assert forged.status_code == 404 and LINK not in forged.text


async def test_the_console_still_shows_the_link(api: Api) -> None:
    _, meeting = await online_meeting(api)
    console = httpx.AsyncClient(transport=api.client._transport, base_url=ROOT)
    assert (
        await console.post("/console/login", data={"token": "test-organiser-token"})
    ).is_redirect

    page = await console.get(f"/console/meetings/{meeting['meeting_id']}")
    await console.aclose()

    assert page.status_code == 200 and LINK in page.text
