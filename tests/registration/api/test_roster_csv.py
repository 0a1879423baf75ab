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
    download = await console.get(f"/console/meetings/{meeting['meeting_id']}/roster.csv?lang=en")
    await console.aclose()

    rows = {
        row["Email"]: row
        for row in csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))
    }
    first, other = rows[person["email"]], rows[second["email"]]
    assert first["Name"] == "'" + person["name"]
    assert first["Municipality"] == "'+45 Roskilde"
    assert first["Companions"] == "'@Ole Hansen"
    assert first["Seats"] == "2"
    assert other["Name"] == "'-Anna Berg"
    assert other["Municipality"] == "Køge"  # ordinary text is left as it was


async def test_the_roster_opens_in_the_organisers_excel_in_their_language(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    person = {**member(name="Birgitte Ærø"), "organisation": "Roskilde Kommune"}
    registered = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
    )
    assert registered.status_code == 201, registered.text
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    await console.post("/console/login", data={"token": ORGANISER_TOKEN})

    danish = await console.get(f"/console/meetings/{meeting['meeting_id']}/roster.csv?lang=da")
    await console.aclose()

    [header, row] = list(csv.reader(io.StringIO(danish.content.decode("utf-8-sig")), delimiter=";"))
    assert header[:5] == ["Status", "Plads på ventelisten", "Navn", "E-mail", "Kommune"]
    assert row[0] == "Bekræftet"
    assert (row[5], row[6]) == ("Kulturkonsulent", "Roskilde Kommune")
    registered_at = row[9]
    assert len(registered_at) == len("2026-12-02 14:05")  # local, to the minute
    disposition = danish.headers["content-disposition"]
    assert 'filename="deltagere-' in disposition and disposition.split('"')[1].endswith(".csv")
