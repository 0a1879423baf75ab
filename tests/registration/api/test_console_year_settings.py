"""The network's year and a meeting's waitlist rule are set in the console, not only through
the API: series enrolment and the year's end, offers for freed seats, a meeting held together
with another network of the organisation; the roster marks who the series registered."""

from __future__ import annotations

import httpx

from tests.builders import ORGANISER, ORGANISER_TOKEN, member
from tests.registration.api.conftest import Api

NETWORK_FORM = {
    "title": "Netværk om grøn omstilling i kulturlivet",
    "description": "Kultur og klima.",
    "organisers": "KL",
    "language": "da",
    "max_companions": "1",
    "auto_register": "yes",
    "term_ends_at": "2030-12-31T23:00",
    "waitlist": "offer",
    "offer_hours": "24",
}


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def test_an_organiser_sets_the_networks_year_in_the_console(api: Api) -> None:
    console = await _console(api)

    created = await console.post("/console/networks", data=NETWORK_FORM, follow_redirects=False)

    assert created.status_code == 303, created.text
    network_id = created.headers["location"].split("/")[3].split("?")[0]
    network = (await api.client.get(f"/networks/{network_id}")).json()
    assert network["auto_register"] is True and network["waitlist"] == "offer"
    assert network["offer_hours"] == 24 and network["term_ends_at"].startswith("2030-12-31")
    page = await console.get(f"/console/networks/{network_id}?lang=en")
    assert 'id="auto_register" name="auto_register" value="yes" checked' in page.text
    assert '<option value="offer" selected>' in page.text

    edited = {**NETWORK_FORM, "auto_register": "", "term_ends_at": "", "waitlist": "automatic"}
    await console.post(f"/console/networks/{network_id}", data=edited)
    network = (await api.client.get(f"/networks/{network_id}")).json()
    assert (network["auto_register"], network["term_ends_at"], network["waitlist"]) == (
        False,
        None,
        "automatic",
    )


async def test_a_meeting_is_held_together_with_another_network_and_follows_its_rule(
    api: Api,
) -> None:
    host = await api.network(auto_register=True)
    partner = await api.network(title="Netværk for kommunal klimapolitik")
    await api.enrolled(host["network_id"], name="Birgitte Holm")
    console = await _console(api)
    page = await console.get(f"/console/networks/{host['network_id']}?lang=en")
    assert f'name="co_host_{partner["network_id"]}"' in page.text
    assert "Netværk for kommunal klimapolitik" in page.text

    created = await console.post(
        f"/console/networks/{host['network_id']}/meetings",
        data={
            "title": "Fælles møde om klima",
            "starts_at": "2030-03-06T10:00",
            "ends_at": "2030-03-06T13:00",
            "timezone": "Europe/Copenhagen",
            "capacity": "30",
            "co_hosts_offered": "yes",
            f"co_host_{partner['network_id']}": "yes",
            "waitlist": "offer",
            "offer_hours": "12",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    meeting_id = created.headers["location"].split("/")[3].split("?")[0]
    meeting = (await api.client.get(f"/meetings/{meeting_id}", headers=ORGANISER)).json()
    assert meeting["co_hosts"] == [partner["network_id"]]
    assert (meeting["waitlist"], meeting["offer_hours"]) == ("offer", 12)

    # Back to the network's rule: the meeting's own is cleared; the co-host stays.
    shown = await console.get(f"/console/meetings/{meeting_id}?lang=en")
    assert f'name="co_host_{partner["network_id"]}" value="yes" checked' in shown.text
    await console.post(
        f"/console/meetings/{meeting_id}",
        data={
            "title": "Fælles møde om klima",
            "starts_at": "2030-03-06T10:00",
            "ends_at": "2030-03-06T13:00",
            "timezone": "Europe/Copenhagen",
            "capacity": "30",
            "co_hosts_offered": "yes",
            f"co_host_{partner['network_id']}": "yes",
            "waitlist": "",
            "offer_hours": "",
        },
    )
    meeting = (await api.client.get(f"/meetings/{meeting_id}", headers=ORGANISER)).json()
    assert (meeting["waitlist"], meeting["offer_hours"]) == (None, None)
    assert meeting["co_hosts"] == [partner["network_id"]]


async def test_the_roster_marks_who_the_series_registered(api: Api) -> None:
    network = await api.network(auto_register=True)
    meeting = await api.meeting(network["network_id"])  # a members' meeting: the series'
    await api.enrolled(network["network_id"], name="Birgitte Holm")
    other = await api.network()
    open_meeting = await api.meeting(other["network_id"], open_to_public=True)
    registered = await api.client.post(
        f"/meetings/{open_meeting['meeting_id']}/registrations",
        json={"member": member(name="Aksel Gæst")},
    )
    assert registered.status_code == 201, registered.text
    console = await _console(api)

    series = await console.get(f"/console/meetings/{meeting['meeting_id']}?lang=en")
    by_hand = await console.get(f"/console/meetings/{open_meeting['meeting_id']}?lang=en")

    birgitte = series.text.split("Birgitte Holm", 1)[1].split("</td>", 1)[0]
    assert ">series</span>" in birgitte
    aksel = by_hand.text.split("Aksel Gæst", 1)[1].split("</td>", 1)[0]
    assert ">series</span>" not in aksel
