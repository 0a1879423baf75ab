"""What an organiser prints for the door: a sign-in sheet with a line for everyone expected
(companions on lines of their own) and name badges as a PDF, eight to an A4 sheet."""

from __future__ import annotations

import math

import httpx
import pypdfium2 as pdfium

from registration.web.console.badges import Badge, badges_pdf
from tests.builders import ORGANISER, ORGANISER_TOKEN, companion, member
from tests.registration.api.conftest import Api


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def _meeting_with_people(api: Api, people: int) -> str:
    network = await api.network(language="da", max_companions=1)
    meeting = await api.meeting(network["network_id"], capacity=100, open_to_public=True)
    for i in range(people):
        body = {
            "member": {
                **member(name=f"Deltager {i:02d} Ærøskøbing-Østergaard", municipality="Køge"),
                "organisation": "Køge Kulturforvaltning",
            }
        }
        if i == 0:
            body["companions"] = [companion("Ole Klimarådgiver")]
        answer = await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations", json=body
        )
        assert answer.status_code == 201, answer.text
    return str(meeting["meeting_id"])


async def test_the_sign_in_sheet_has_a_line_for_everyone_expected_and_nothing_else(
    api: Api,
) -> None:
    meeting_id = await _meeting_with_people(api, 3)
    console = await _console(api)

    sheet = await console.get(f"/console/meetings/{meeting_id}/sign-in-sheet?lang=en")

    assert sheet.status_code == 200
    body = sheet.text
    assert 'href="/static/print.css"' in body
    assert "/console/logout" not in body  # no navigation on paper
    names = [row.split("<strong>")[1].split("</strong>")[0] for row in body.split("<tr>")[2:]]
    assert names == sorted(names, key=str.casefold)
    assert "Ole Klimarådgiver" in names  # the companion signs on a line of their own
    assert len(names) == 4
    assert "Companion of Deltager 00" in body
    assert "Kulturkonsulent, Køge Kulturforvaltning" in body
    assert "4 people expected." in body
    css = await console.get("/static/print.css")
    assert "size: A4" in css.text and "display: none" in css.text


async def test_name_badges_are_a_pdf_of_a4_sheets_with_every_name_on_them(api: Api) -> None:
    meeting_id = await _meeting_with_people(api, 9)  # 10 people with the companion: 2 sheets
    console = await _console(api)

    answer = await console.get(f"/console/meetings/{meeting_id}/badges.pdf?lang=da")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith('attachment; filename="')
    assert answer.headers["content-disposition"].split('"')[1].endswith(".pdf")
    pdf = pdfium.PdfDocument(answer.content)
    assert len(pdf) == math.ceil(10 / 8)
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    # The text as printed, a name wrapped onto two lines read as one.
    text = " ".join(" ".join(page.get_textpage().get_text_range() for page in pdf).split())
    assert "Ole Klimarådgiver" in text
    assert "Deltager 08 Ærøskøbing-Østergaard" in text
    assert "Ledsager for Deltager 00" in text
    # Rendered, the first badge has ink on it and the page beyond the eighth badge does not.
    image = pdf[0].render(scale=1).to_pil().convert("L")
    first_badge = image.crop((40, 40, 290, 200))
    assert first_badge.getextrema()[0] < 100  # dark text
    second_page = pdf[1].render(scale=1).to_pil().convert("L")
    lower_half = second_page.crop((0, 450, 595, 842))
    assert lower_half.getextrema()[0] > 200  # only two badges on the second sheet


async def test_printing_for_a_meeting_of_another_organisation_is_not_found(api: Api) -> None:
    meeting_id = await _meeting_with_people(api, 1)
    created = await api.client.post("/organisations", json={"name": "KS"}, headers=ORGANISER)
    issued = await api.client.post(
        f"/organisations/{created.json()['organisation_id']}/api-keys",
        json={"name": "door"},
        headers=ORGANISER,
    )
    other = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    await other.post("/console/login", data={"token": issued.json()["key"]})

    for page in ("sign-in-sheet", "badges.pdf"):
        answer = await other.get(f"/console/meetings/{meeting_id}/{page}")
        assert answer.status_code == 404
        assert b"Deltager" not in answer.content


def test_a_name_too_long_for_two_lines_is_printed_whole() -> None:
    name = "Birgitte Ærøskøbing-Østergaard Lindholm-Frederiksen von Holstein-Rathlou"
    pdf = pdfium.PdfDocument(
        badges_pdf([Badge(name, "Kulturchef", "Roskilde")], footer="Møde", title="Badges")
    )

    text = " ".join(pdf[0].get_textpage().get_text_range().split())

    assert name in text.replace("- ", "-")
