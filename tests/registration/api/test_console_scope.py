"""The organiser console, signed in with an organisation's API key, shows and changes only that
organisation's networks; the platform's token sees them all."""

from __future__ import annotations

import httpx

from tests.builders import ORGANISER, meeting_body, member, network_body
from tests.registration.api.conftest import Api


async def _console(api: Api, key: str) -> httpx.AsyncClient:
    transport = api.client._transport  # the same in-process app
    console = httpx.AsyncClient(transport=transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": key})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def test_an_organisations_console_shows_only_its_networks(api: Api) -> None:
    keys = {}
    networks = {}
    for name in ("KL", "KS"):
        created = await api.client.post("/organisations", json={"name": name}, headers=ORGANISER)
        org = created.json()
        issued = await api.client.post(
            f"/organisations/{org['organisation_id']}/api-keys", json={"name": "console"},
            headers=ORGANISER,
        )  # fmt: skip
        keys[name] = issued.json()["key"]
        network = await api.client.post(
            "/networks",
            json=network_body(title=f"{name}s netværk"),
            headers={"Authorization": f"Bearer {keys[name]}"},
        )
        networks[name] = network.json()
    ks_meeting = (
        await api.client.post(
            f"/networks/{networks['KS']['network_id']}/meetings",
            json=meeting_body(open_to_public=True),
            headers={"Authorization": f"Bearer {keys['KS']}"},
        )
    ).json()
    ks_registration = (
        await api.client.post(
            f"/meetings/{ks_meeting['meeting_id']}/registrations", json={"member": member()}
        )
    ).json()

    kl = await _console(api, keys["KL"])
    home = await kl.get("/console")
    assert "KLs netværk" in home.text and "KSs netværk" not in home.text
    for page in (
        f"/console/networks/{networks['KS']['network_id']}",
        f"/console/meetings/{ks_meeting['meeting_id']}",
        f"/console/meetings/{ks_meeting['meeting_id']}/roster.csv",
    ):
        assert (await kl.get(page)).status_code == 404, page
    tap = await kl.post(
        f"/console/registrations/{ks_registration['registration_id']}/check-in",
        headers={"Accept": "application/json"},
    )
    assert tap.status_code == 404

    ks = await _console(api, keys["KS"])
    roster = await ks.get(f"/console/meetings/{ks_meeting['meeting_id']}")
    assert roster.status_code == 200 and "KSs netværk" in roster.text

    platform = await _console(api, "test-organiser-token")
    home = await platform.get("/console")
    assert "KLs netværk" in home.text and "KSs netværk" in home.text
    for client in (kl, ks, platform):
        await client.aclose()
