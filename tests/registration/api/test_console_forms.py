"""The console's forms speak the organiser's language: errors name the field by its label
(never `starts_at` or `form`), mark the field, the time zone is a list, and creating says it
worked."""

from __future__ import annotations

import httpx

from tests.builders import ORGANISER_TOKEN
from tests.registration.api.conftest import Api


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    assert signed_in.status_code == 303, signed_in.text
    return console


MEETING = {
    "title": "Kultur og klima",
    "starts_at": "2030-03-06T10:00",
    "ends_at": "2030-03-06T13:00",
    "timezone": "Europe/Oslo",
    "capacity": "20",
}


async def test_a_refused_meeting_names_the_fields_as_their_labels_do(api: Api) -> None:
    network = await api.network()
    console = await _console(api)

    untitled = await console.post(
        f"/console/networks/{network['network_id']}/meetings?lang=en",
        data={**MEETING, "title": ""},
    )
    refused = await console.post(
        f"/console/networks/{network['network_id']}/meetings?lang=en",
        data={**MEETING, "ends_at": "2030-03-06T09:00"},
    )

    assert untitled.status_code == 422 == refused.status_code
    assert "Title: Fill in this field." in untitled.text
    summary = refused.text.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Ends: The meeting must end after it starts." in summary
    assert "ends_at" not in summary.replace('href="#ends_at"', "")
    assert "form:" not in summary and "starts_at" not in summary
    assert 'id="ends_at" name="ends_at" type="datetime-local"' in refused.text
    ends_field = refused.text.split('id="ends_at" name="ends_at"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in ends_field

    danish = await console.post(
        f"/console/networks/{network['network_id']}/meetings?lang=da",
        data={**MEETING, "ends_at": "2030-03-06T09:00"},
    )
    assert "Slutter: Mødet skal slutte, efter det begynder." in danish.text


async def test_the_time_zone_is_a_list_and_creating_says_it_worked(api: Api) -> None:
    network = await api.network()
    console = await _console(api)

    page = await console.get(f"/console/networks/{network['network_id']}?lang=en")
    assert '<select id="timezone" name="timezone"' in page.text
    assert '<option value="Europe/Oslo">' in page.text

    created = await console.post(
        f"/console/networks/{network['network_id']}/meetings", data=MEETING, follow_redirects=False
    )
    assert created.status_code == 303 and created.headers["location"].endswith("?created=1")
    shown = await console.get(created.headers["location"] + "&lang=en")
    assert "Meeting created." in shown.text
    assert '<option value="Europe/Oslo" selected>' in shown.text


async def test_how_to_fill_in_the_organisers_is_a_hint_not_part_of_the_label_or_the_heading(
    api: Api,
) -> None:
    await api.network()
    console = await _console(api)

    form = await console.get("/console/networks/new?lang=en")
    listing = await console.get("/console?lang=de")

    assert form.status_code == 200 == listing.status_code
    assert '<label for="organisers">Organisers</label>' in form.text
    assert '<p class="hint" id="organisers-hint">One per line</p>' in form.text
    organisers = form.text.split('<textarea id="organisers"', 1)[1].split(">", 1)[0]
    assert 'aria-describedby="organisers-hint"' in organisers
    assert '<label for="term_ends_at">The year ends</label>' in form.text
    assert '<p class="hint" id="term_ends_at-hint">Memberships end then.</p>' in form.text
    headings = listing.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert '<th scope="col">Veranstalter</th>' in headings
    assert "Zeile" not in headings and "line" not in headings


async def test_how_long_answers_are_kept_is_asked_with_the_default_as_a_hint(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    console = await _console(api)

    page = await console.get(f"/console/meetings/{meeting['meeting_id']}/questions?lang=da")

    assert page.status_code == 200
    assert "Dage efter mødet, til svarene slettes</label>" in page.text
    assert '<p class="hint" id="answers_retention_days-hint">Står feltet tomt' in page.text
    field = page.text.split('<input id="answers_retention_days"', 1)[1].split(">", 1)[0]
    assert 'aria-describedby="answers_retention_days-hint"' in field
    assert "(tomt: 30)" not in page.text
