"""Calendar feeds: a network's public meetings for anyone, a member's own registrations behind
the feed's token; both cheap to poll (ETag, 304)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from icalendar import Calendar

from tests.builders import ORGANISER, member
from tests.registration.api.conftest import Api

ROOT = "http://registration"
LINK = "https://meet.example.org/kalender"


def events_of(answer: httpx.Response) -> dict[str, object]:
    """The feed's events by UID."""
    calendar = Calendar.from_ical(answer.text)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


async def register_on_the_page(api: Api, meeting_id: str, person: dict) -> httpx.Response:
    done = await api.client.post(
        f"{ROOT}/meetings/{meeting_id}/register",
        params={"lang": "en"},
        data={key: person[key] for key in ("name", "email", "municipality", "role")},
    )
    assert done.status_code == 303, done.text
    return await api.client.get(f"{ROOT}{done.headers['location']}")


def feed_link(page: httpx.Response) -> str:
    found = re.search(r'href="(/api/v1/members/[^"]+/calendar\.ics\?token=[^"]+)"', page.text)
    assert found is not None, page.text
    return f"{ROOT}{found.group(1).replace('&amp;', '&')}"


async def test_the_public_feed_lists_the_public_meetings_without_their_links(api: Api) -> None:
    network = await api.network(language="en", title="Klimanetværket")
    public = await api.meeting(
        network["network_id"], open_to_public=True, online_url=LINK, timezone="Europe/Copenhagen"
    )
    members_only = await api.meeting(network["network_id"], open_to_public=False)
    cancelled = await api.meeting(network["network_id"], open_to_public=True, title="Aflyst")
    assert (
        await api.client.post(f"/meetings/{cancelled['meeting_id']}/cancel", headers=ORGANISER)
    ).status_code in (200, 202, 204)

    answer = await api.client.get(f"/networks/{network['network_id']}/calendar.ics")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["etag"] and answer.headers["last-modified"]
    assert "public" in answer.headers["cache-control"]
    calendar = Calendar.from_ical(answer.text)
    assert str(calendar["x-wr-calname"]) == "Klimanetværket"
    events = events_of(answer)
    assert set(events) == {f"{public['meeting_id']}@tilmeld", f"{cancelled['meeting_id']}@tilmeld"}
    entry = events[f"{public['meeting_id']}@tilmeld"]
    starts = entry["dtstart"].dt  # type: ignore[index]
    assert starts.tzinfo is not None and starts.utcoffset().total_seconds() == 0
    assert starts == datetime.fromisoformat(public["starts_at"]).astimezone(UTC)
    assert str(entry["status"]) == "CONFIRMED"  # type: ignore[index]
    assert str(events[f"{cancelled['meeting_id']}@tilmeld"]["status"]) == "CANCELLED"  # type: ignore[index]
    assert LINK not in answer.text and members_only["meeting_id"] not in answer.text


async def test_an_unchanged_public_feed_answers_304_and_a_change_moves_its_etag(api: Api) -> None:
    network = await api.network(language="en")
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    path = f"/networks/{network['network_id']}/calendar.ics"
    first = await api.client.get(path)
    repeated = await api.client.get(path)

    again = await api.client.get(path, headers={"If-None-Match": first.headers["etag"]})
    since = await api.client.get(
        path, headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    await api.client.patch(
        f"/meetings/{meeting['meeting_id']}", json={"title": "Nyt navn"}, headers=ORGANISER
    )
    changed = await api.client.get(path, headers={"If-None-Match": first.headers["etag"]})

    assert first.text == repeated.text  # the same feed, byte for byte
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert since.status_code == 304
    assert changed.status_code == 200 and "Nyt navn" in changed.text
    assert changed.headers["etag"] != first.headers["etag"]


async def test_an_unknown_network_has_no_feed(api: Api) -> None:
    answer = await api.client.get("/networks/00000000-0000-0000-0000-000000000000/calendar.ics")
    assert answer.status_code == 404


async def test_the_member_feed_shows_their_registrations_with_the_link_for_a_seat_only(
    api: Api,
) -> None:
    network = await api.network(language="en")
    seat = await api.meeting(network["network_id"], open_to_public=True, online_url=LINK)
    full = await api.meeting(
        network["network_id"], open_to_public=True, online_url=LINK, capacity=1, title="Fuldt"
    )
    others = await api.meeting(network["network_id"], open_to_public=True, title="Andres møde")
    person = member(name="Karen Hansen")
    await register_on_the_page(api, full["meeting_id"], member(name="Bo Jensen"))
    await register_on_the_page(api, others["meeting_id"], member(name="Bo Jensen"))
    confirmed_page = await register_on_the_page(api, seat["meeting_id"], person)
    waitlisted_page = await register_on_the_page(api, full["meeting_id"], person)
    link = feed_link(confirmed_page)

    answer = await api.client.get(link)

    assert feed_link(waitlisted_page) == link  # one feed per member, whichever page
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "private" in answer.headers["cache-control"]
    events = list(events_of(answer).values())
    by_title = {str(e["summary"]): e for e in events}  # type: ignore[index]
    assert set(by_title) == {seat["title"], "Fuldt"}
    assert str(by_title[seat["title"]]["status"]) == "CONFIRMED"  # type: ignore[index]
    assert str(by_title[seat["title"]]["url"]) == LINK  # type: ignore[index]
    assert str(by_title["Fuldt"]["status"]) == "TENTATIVE"  # type: ignore[index]
    assert "url" not in by_title["Fuldt"]  # type: ignore[operator]
    assert answer.text.count(LINK) == 1
    cached = await api.client.get(link, headers={"If-None-Match": answer.headers["etag"]})
    assert cached.status_code == 304


async def test_the_member_feed_needs_its_own_token(api: Api) -> None:
    network = await api.network(language="en")
    meeting = await api.meeting(network["network_id"], open_to_public=True, online_url=LINK)
    page = await register_on_the_page(api, meeting["meeting_id"], member())
    link = feed_link(page)
    member_id = re.search(r"/members/([^/]+)/", link).group(1)  # type: ignore[union-attr]
    token = link.split("token=")[1]
    registration_token = re.search(r"token=([^&\"]+)", str(page.url)).group(1)  # type: ignore[union-attr]
    other = "00000000-0000-0000-0000-000000000001"

    without = await api.client.get(f"/members/{member_id}/calendar.ics")
    forged = await api.client.get(f"/members/{member_id}/calendar.ics?token=0.forged")
    someone_else = await api.client.get(f"/members/{other}/calendar.ics?token={token}")
    other_purpose = await api.client.get(
        f"/members/{member_id}/calendar.ics?token={registration_token}"
    )

    for refused in (without, forged, someone_else, other_purpose):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert LINK not in refused.text and "VEVENT" not in refused.text


async def test_openapi_documents_both_feeds_as_text_calendar(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()

    for path, operation_id in (
        ("/api/v1/networks/{network_id}/calendar.ics", "network_calendar_feed"),
        ("/api/v1/members/{member_id}/calendar.ics", "member_calendar_feed"),
    ):
        get = document["paths"][path]["get"]
        assert get["operationId"] == operation_id
        assert "text/calendar" in get["responses"]["200"]["content"]
