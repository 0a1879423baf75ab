"""The member's journeys through the public pages, read as the HTML a person gets: join, then
book; a refused form that says so first; and pages that tell the truth after a cancellation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
from babel.dates import format_time

from tests.builders import member
from tests.registration.api.conftest import Api

ROOT = "http://registration"


def _morning(days_ahead: int = 14) -> dict[str, str]:
    """10:00 to 15:30 in Copenhagen, `days_ahead` days from now."""
    day = datetime.now(ZoneInfo("Europe/Copenhagen")).date() + timedelta(days=days_ahead)
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/Copenhagen"))
    return {
        "starts_at": starts.astimezone(UTC).isoformat(),
        "ends_at": (starts + timedelta(hours=5, minutes=30)).astimezone(UTC).isoformat(),
        "timezone": "Europe/Copenhagen",
    }


async def _network_with_two_meetings(api: Api, language: str = "en") -> dict[str, Any]:
    network = await api.network(language=language, max_companions=2)
    members = await api.meeting(
        network["network_id"], title="Members' workshop on heat pumps", **_morning(10)
    )
    everyone = await api.meeting(
        network["network_id"], title="Open day at the climate lab", open_to_public=True,
        **_morning(20),
    )  # fmt: skip
    return {
        "network_id": network["network_id"],
        "members": members["meeting_id"],
        "everyone": everyone["meeting_id"],
    }


def _text(page: httpx.Response) -> str:
    """The page's words, tags dropped, as a person reads them."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page.text)))


def _links(page: httpx.Response) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', page.text)]


async def _page(api: Api, path: str, **params: str) -> httpx.Response:
    return await api.client.get(f"{ROOT}{path}", params=params)


async def _post(api: Api, path: str, form: dict[str, str]) -> httpx.Response:
    return await api.client.post(f"{ROOT}{path}", data=form)


def _person_form(person: dict[str, Any]) -> dict[str, str]:
    return {key: person[key] for key in ("name", "email", "municipality", "role")}


# --- join, then book -----------------------------------------------------------------------------


async def test_the_home_page_lists_the_coming_meetings_of_each_network(api: Api) -> None:
    ids = await _network_with_two_meetings(api)

    home = _text(await _page(api, "/", lang="en"))

    assert "Coming meetings" in home
    assert "Members' workshop on heat pumps" in home and "Open day at the climate lab" in home
    assert home.index("Members' workshop") < home.index("Open day")  # the sooner first
    assert "Members only" in home and "Open to everyone" in home
    assert ids["members"] in (await _page(api, "/", lang="en")).text


async def test_the_network_page_says_on_each_card_who_may_register(api: Api) -> None:
    ids = await _network_with_two_meetings(api, language="da")

    cards = _text(await _page(api, f"/networks/{ids['network_id']}", lang="da"))

    workshop = cards.index("Members' workshop")
    open_day = cards.index("Open day")
    assert cards.index("Kun for medlemmer", workshop) < open_day
    assert "Åben for alle" in cards[open_day:]


async def test_a_members_meeting_says_join_first_before_its_form(api: Api) -> None:
    ids = await _network_with_two_meetings(api)

    members_only = await _page(api, f"/meetings/{ids['members']}", lang="en")
    open_day = await _page(api, f"/meetings/{ids['everyone']}", lang="en")

    text = _text(members_only)
    assert text.index("Join the network first") < text.index("Register for the meeting")
    assert members_only.text.index('id="members-only"') < members_only.text.index("<form")
    join = f"/networks/{ids['network_id']}?lang=en&meeting={ids['members']}#enrol"
    assert join in _links(members_only)
    assert "Who can register Members only" in text
    assert "Join the network first" not in _text(open_day)
    assert "Who can register Open to everyone" in _text(open_day)


async def test_the_meeting_page_says_when_it_ends(api: Api) -> None:
    ids = await _network_with_two_meetings(api, language="da")

    page = _text(await _page(api, f"/meetings/{ids['members']}", lang="da"))

    start, end = (
        format_time(datetime(2030, 1, 1, h, m), "short", locale="da")
        for h, m in ((10, 0), (15, 30))
    )
    assert f"{start}–{end}" in page


async def test_joining_from_a_meeting_leads_to_its_form_filled_in(api: Api) -> None:
    ids = await _network_with_two_meetings(api)
    person = member(name="Astrid Lund", municipality="Tynset")

    network_page = await _page(
        api, f"/networks/{ids['network_id']}", lang="en", meeting=ids["members"]
    )
    assert f'name="meeting" value="{ids["members"]}"' in network_page.text
    assert "then register for Members' workshop on heat pumps" in _text(network_page)
    # One who is a member already is not asked to join again to get there.
    assert f"/meetings/{ids['members']}?lang=en#register" in _links(network_page)
    joined = await _post(
        api,
        f"/networks/{ids['network_id']}/enrol?lang=en",
        {**_person_form(person), "consent": "yes", "meeting": ids["members"]},
    )
    assert joined.status_code == 303
    confirmation = await api.client.get(f"{ROOT}{joined.headers['location']}")

    text = _text(confirmation)
    assert "You have joined" in text
    # The next step is a meeting (the one the person came for first), not leaving.
    assert text.index("Next: pick a meeting") < text.index("Leave the network")
    assert text.index("Register for Members' workshop") < text.index("Register for Open day")
    offered = [link for link in _links(confirmation) if link.startswith("/meetings/")]
    assert offered[0].startswith(f"/meetings/{ids['members']}?")
    assert "prefill=" in offered[0]

    form = await api.client.get(f"{ROOT}{offered[0]}")
    assert 'value="Astrid Lund"' in form.text
    assert f'value="{person["email"]}"' in form.text
    assert "Join the network first" not in _text(form)
    assert "You are a member of" in _text(form)
    assert form.headers["cache-control"] == "no-store"
    assert "set-cookie" not in form.headers or "Astrid" not in form.headers["set-cookie"]

    # Without the link's token (the next person at a shared computer), the form is empty.
    plain = await _page(api, f"/meetings/{ids['members']}", lang="en")
    assert "Astrid Lund" not in plain.text and person["email"] not in plain.text

    registered = await _post(
        api, f"/meetings/{ids['members']}/register?lang=en", _person_form(person)
    )
    assert registered.status_code == 303
    done = await api.client.get(f"{ROOT}{registered.headers['location']}")
    assert "You are registered" in _text(done)


async def test_a_prefill_link_with_a_wrong_token_fills_in_nothing(api: Api) -> None:
    ids = await _network_with_two_meetings(api)
    person = await api.enrolled(ids["network_id"], name="Astrid Lund")

    page = await _page(
        api,
        f"/meetings/{ids['members']}",
        lang="en",
        enrolment="00000000-0000-0000-0000-000000000001",
        prefill="9999999999.forged",
    )

    assert page.status_code == 200
    assert person["email"] not in page.text
    assert "Join the network first" in _text(page)


# --- errors in view ------------------------------------------------------------------------------


async def test_a_refused_form_puts_the_error_first_with_the_focus_and_error_in_the_title(
    api: Api,
) -> None:
    ids = await _network_with_two_meetings(api, language="de")

    refused = await _post(
        api,
        f"/meetings/{ids['everyone']}/register?lang=de",
        {"name": "Jonas Weber", "email": "jonas-at-muenster", "municipality": "Münster",
         "role": "Referent"},
    )  # fmt: skip

    assert refused.status_code == 422
    title = re.search(r"<title>(.*?)</title>", refused.text, re.S)
    assert title is not None and unescape(title.group(1)).startswith("Fehler: ")
    summary = re.search(r'<div class="summary"[^>]*>', refused.text)
    assert summary is not None
    assert "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    # Read first: before the heading and the meeting's facts.
    assert refused.text.index('class="summary"') < refused.text.index("<h1")
    assert 'value="Jonas Weber"' in refused.text

    fine = await _page(api, f"/meetings/{ids['everyone']}", lang="de")
    assert "<title>Fehler" not in fine.text


async def test_a_companions_error_names_its_row(api: Api) -> None:
    ids = await _network_with_two_meetings(api)

    refused = await _post(
        api,
        f"/meetings/{ids['everyone']}/register?lang=en",
        {**_person_form(member()), "companion_1_name": "Ole Hansen",
         "companion_2_role": "Planner"},
    )  # fmt: skip

    text = _text(refused)
    assert refused.status_code == 422
    assert "Companion 2: Enter name." in text
    assert 'href="#companion_2_name"' in refused.text
    assert "Companion 1:" not in text

    # Row 2 filled in alone (row 1 left empty) is still row 2.
    alone = await _post(
        api,
        f"/meetings/{ids['everyone']}/register?lang=en",
        {**_person_form(member()), "companion_2_role": "Planner"},
    )
    assert "Companion 2: Enter name." in _text(alone)
    assert 'id="companion_2_name-error"' in alone.text
    assert "Companion 1:" not in _text(alone)


async def test_a_network_pages_refused_join_says_error_in_the_title(api: Api) -> None:
    ids = await _network_with_two_meetings(api, language="nb")

    refused = await _post(
        api, f"/networks/{ids['network_id']}/enrol?lang=nb", _person_form(member())
    )

    assert refused.status_code == 422
    assert re.search(r"<title>Feil: ", refused.text)
    assert refused.text.index('class="summary"') < refused.text.index("<h1")


async def test_the_language_switch_of_a_refused_form_opens_the_page_in_that_language(
    api: Api,
) -> None:
    ids = await _network_with_two_meetings(api)
    refused = await _post(
        api, f"/meetings/{ids['everyone']}/register?lang=en", {"name": "Jonas Weber"}
    )
    to_german = next(link for link in _links(refused) if link.startswith("?") and "lang=de" in link)

    opened = await api.client.get(
        f"{ROOT}/meetings/{ids['everyone']}/register{to_german}", follow_redirects=True
    )
    joined = await api.client.get(
        f"{ROOT}/networks/{ids['network_id']}/enrol?lang=nb", follow_redirects=True
    )

    assert opened.status_code == 200 and opened.url.path == f"/meetings/{ids['everyone']}"
    assert "Zum Treffen anmelden" in _text(opened)
    assert joined.status_code == 200 and "Meld deg inn i nettverket" in _text(joined)


# --- states that tell the truth ------------------------------------------------------------------


async def _registered(api: Api, meeting_id: str, lang: str = "en") -> tuple[str, str]:
    """A registration through the page: its confirmation's address, and its cancel link."""
    done = await _post(api, f"/meetings/{meeting_id}/register?lang={lang}", _person_form(member()))
    assert done.status_code == 303, done.text
    confirmation = done.headers["location"]
    page = await api.client.get(f"{ROOT}{confirmation}")
    cancel = next(link for link in _links(page) if link.startswith("/cancel/registrations/"))
    return confirmation, cancel


async def test_a_confirmation_opened_after_cancelling_says_it_is_cancelled(api: Api) -> None:
    ids = await _network_with_two_meetings(api)
    confirmation, cancel = await _registered(api, ids["everyone"])
    before = await api.client.get(f"{ROOT}{confirmation}")
    assert 'class="panel"' in before.text and "calendar.ics" in before.text

    token = parse_qs(urlsplit(cancel).query)["token"][0]
    await _post(api, urlsplit(cancel).path, {"token": token})
    after = await api.client.get(f"{ROOT}{confirmation}")

    text = _text(after)
    assert re.search(r"<h1>\s*Your registration is cancelled\s*</h1>", after.text)
    assert "You are registered" not in text
    assert "panel--cancelled" in after.text and 'class="panel"' not in after.text
    assert "calendar.ics" not in after.text
    assert "/cancel/registrations/" not in after.text


async def test_the_language_links_keep_the_token(api: Api) -> None:
    ids = await _network_with_two_meetings(api)
    confirmation, _ = await _registered(api, ids["everyone"])
    token = parse_qs(urlsplit(confirmation).query)["token"][0]

    page = await api.client.get(f"{ROOT}{confirmation}")
    switch = [link for link in _links(page) if "lang=nb" in link and link.startswith("?")]
    assert switch, _links(page)
    in_norwegian = await api.client.get(f"{ROOT}{urlsplit(confirmation).path}{switch[0]}")

    assert parse_qs(switch[0][1:])["token"] == [token]
    assert in_norwegian.status_code == 200
    assert "Du er påmeldt" in _text(in_norwegian)


async def test_the_cancel_page_has_the_pages_layout_language_switch_and_date_words(
    api: Api,
) -> None:
    ids = await _network_with_two_meetings(api, language="da")
    _, cancel = await _registered(api, ids["everyone"], lang="da")

    token = parse_qs(urlsplit(cancel).query)["token"][0]
    asked = await api.client.get(
        f"{ROOT}{urlsplit(cancel).path}", params={"token": token, "lang": "de"}
    )

    text = _text(asked)
    assert "/static/pages.css" in asked.text and 'class="languages"' in asked.text
    assert "Abmeldung bestätigen" in text
    # The date in words, as on every other page (not 2026-12-16 10:00).
    assert re.search(r"(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d+\. ", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    to_english = [link for link in _links(asked) if "lang=en" in link and link.startswith("?")]
    assert parse_qs(to_english[0][1:])["token"] == [token]


async def test_after_cancelling_the_heading_says_so(api: Api) -> None:
    ids = await _network_with_two_meetings(api)
    _, cancel = await _registered(api, ids["everyone"])
    token = parse_qs(urlsplit(cancel).query)["token"][0]

    asked = await api.client.get(f"{ROOT}{cancel}")
    form_action = re.search(r'<form method="post" action="([^"]+)"', asked.text)
    assert form_action is not None
    done = await api.client.post(f"{ROOT}{unescape(form_action.group(1))}", data={"token": token})

    heading = re.search(r"<h1>(.*?)</h1>", done.text, re.S)
    assert heading is not None and heading.group(1).strip() == "Your registration is cancelled"
    assert "<button" not in done.text
    # Switching language afterwards still opens the booking, now cancelled.
    to_danish = [link for link in _links(done) if "lang=da" in link and link.startswith("?")]
    again = await api.client.get(f"{ROOT}{urlsplit(cancel).path}{to_danish[0]}")
    assert again.status_code == 200
    assert "Du er afmeldt mødet" in _text(again)


async def test_leaving_the_network_says_so_in_the_heading_and_on_the_welcome_link(
    api: Api,
) -> None:
    ids = await _network_with_two_meetings(api)
    person = member()
    joined = await _post(
        api,
        f"/networks/{ids['network_id']}/enrol?lang=en",
        {**_person_form(person), "consent": "yes"},
    )
    welcome = joined.headers["location"]
    page = await api.client.get(f"{ROOT}{welcome}")
    leave = next(link for link in _links(page) if link.startswith("/cancel/enrolments/"))
    token = parse_qs(urlsplit(leave).query)["token"][0]

    left = await _post(api, urlsplit(leave).path, {"token": token})
    welcome_again = await api.client.get(f"{ROOT}{welcome}")

    assert re.search(r"<h1>\s*You have left the network\s*</h1>", left.text)
    assert "You have left the network" in _text(welcome_again)
    assert "Next: pick a meeting" not in _text(welcome_again)
    assert "panel--cancelled" in welcome_again.text
