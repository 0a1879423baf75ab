"""The console's roster CSV opens in a spreadsheet as data: what people typed never runs."""

from __future__ import annotations

import csv
import io

import httpx

from tests.builders import ORGANISER_TOKEN, companion, member
from tests.registration.api.conftest import Api


async def test_names_municipalities_and_companions_typed_as_formulas_download_as_text(
    api: Api,
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    person = member(name='=HYPERLINK("http://evil.example","Mette")')
    person["municipality"] = "+45 Roskilde"
    registered = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": person, "companions": [companion("@Ole Hansen")]},
    )
    assert registered.status_code == 201, registered.text
    second = member(name="-Anna Berg", municipality="Køge")
    assert (
        await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations", json={"member": second}
        )
    ).status_code == 201

    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    download = await console.get(f"/console/meetings/{meeting['meeting_id']}/roster.csv")
    await console.aclose()

    rows = {
        row["email"]: row
        for row in csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))
    }
    first, other = rows[person["email"]], rows[second["email"]]
    assert first["name"] == "'" + person["name"]
    assert first["municipality"] == "'+45 Roskilde"
    assert first["companions"] == "'@Ole Hansen"
    assert first["seats"] == "2"
    assert other["name"] == "'-Anna Berg"
    assert other["municipality"] == "Køge"  # ordinary text is left as it was
