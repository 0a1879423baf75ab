"""The member dialogue's pages without JavaScript: the consultation form (each kind of question,
errors in a summary and beside their question, what was typed kept), the emailed link that
confirms an address (GET shows, POST confirms), the receipt's link that changes the answers,
the proposals list with its vote buttons and proposal form, and the console's consultations,
results and moderation, in each of the four languages."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from registration import tokens
from registration.main import create_app
from tests.builders import ORGANISER, member, network_body
from tests.registration.api.conftest import Api, registration_settings

ROOT = "http://registration"
SECRET = "test-secret"
CHOICE = "Hvilket område bør KS prioritere?"
SCALE = "Hvor godt ivaretar KS kommunenes interesser?"
TEXT = "Hvilke forventninger har dere til KS?"
OPTIONS = ["Kulturskolen", "Bibliotek", "Kulturarv"]


def _pages(api: Api) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=api.transport, base_url=ROOT)  # type: ignore[arg-type]


async def _console(api: Api) -> httpx.AsyncClient:
    console = _pages(api)
    signed_in = await console.post("/console/login", data={"token": "test-organiser-token"})
    assert signed_in.status_code == 303
    return console


def _local(moment: datetime, zone: str = "Europe/Oslo") -> str:
    """As a datetime-local field holds it, in the network's time zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


async def _consultation_from_console(
    api: Api, database_url: str, network_id: str, *, opens_in: timedelta = timedelta(hours=-1)
) -> dict[str, Any]:
    """A consultation asked through the console's form: a choice, a scale and free text (as
    stored, with the ids its questions were given)."""
    console = await _console(api)
    now = datetime.now(UTC)
    created = await console.post(
        f"/console/networks/{network_id}/consultations",
        data={
            "title": "Kultur for framtida: Medlemsdialog",
            "description": "KS vil ha innspill fra kommunene.",
            "opens_at": _local(now + opens_in),
            "closes_at": _local(now + timedelta(days=14)),
            "audience": "members",
            "q1_text": CHOICE,
            "q1_kind": "choice",
            "q1_options": "\n".join(OPTIONS),
            "q1_required": "yes",
            "q2_text": SCALE,
            "q2_kind": "scale",
            "q2_min": "1",
            "q2_max": "5",
            "q2_required": "yes",
            "q3_text": TEXT,
            "q3_kind": "text",
        },
    )
    assert created.status_code == 303, created.text
    consultation_id = created.headers["location"].rsplit("/", 1)[-1]
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT title, questions::text FROM registration.consultations WHERE id = $1",
            uuid.UUID(consultation_id),
        )
    finally:
        await conn.close()
    assert row is not None
    return {
        "consultation_id": consultation_id,
        "title": row["title"],
        "questions": json.loads(row["questions"]),
    }


def _ids(consultation: dict[str, Any]) -> dict[str, str]:
    return {q["kind"]: f"q_{q['question_id']}" for q in consultation["questions"]}


def _person(person: dict[str, Any]) -> dict[str, str]:
    return {key: person[key] for key in ("name", "email", "municipality", "role")}


async def _outbox(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope -> 'payload' AS payload FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = $1 ORDER BY id",
            event_type,
        )
    finally:
        await conn.close()
    return [json.loads(row["payload"]) for row in rows]


async def _confirm_link(database_url: str) -> tuple[str, str]:
    """The newest confirmation's link, as the email carries it (its token is sealed in the
    event, so the test signs one as the service does)."""
    requested = await _outbox(database_url, "AddressConfirmationRequested")
    confirmation_id = requested[-1]["confirmation_id"]
    token = tokens.issue(SECRET, "confirm-address", uuid.UUID(confirmation_id), expires_at=None)
    return confirmation_id, token


async def _response_status(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [
            row["status"]
            for row in await conn.fetch("SELECT status FROM registration.consultation_responses")
        ]
    finally:
        await conn.close()


async def test_a_member_answers_with_a_mistake_first_and_confirms_by_the_emailed_link(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="nb", title="Kultur for framtida")
    person = await api.enrolled(network["network_id"], municipality="Tynset")
    consultation = await _consultation_from_console(api, database_url, network["network_id"])
    fields = _ids(consultation)
    pages = _pages(api)
    url = f"/consultations/{consultation['consultation_id']}"

    form = await pages.get(url, params={"lang": "nb"})
    assert form.status_code == 200
    html = form.text
    assert "Dine svar" in html and "Om deg" in html
    # A choice and a scale are radio groups: a fieldset whose legend is the question.
    assert re.search(rf"<legend><span lang=\"nb\">{re.escape(CHOICE)}</span>", html)
    assert f'id="{fields["choice"]}" name="{fields["choice"]}" value="Kulturskolen"' in html
    assert "1 (lavest)" in html and "5 (høyest)" in html
    assert f'<textarea id="{fields["text"]}"' in html
    assert "<script" not in html

    refused = await pages.post(
        f"{url}/respond?lang=nb",
        data={**_person(person), "email": "not-an-address", fields["text"]: "Mer samarbeid."},
    )
    assert refused.status_code == 422
    assert 'class="summary"' in refused.text
    # GOV.UK's pattern: the title says there is an error, and the summary takes focus.
    assert "<title>Feil: " in refused.text
    assert 'id="problem" autofocus' in refused.text
    assert f'href="#{fields["choice"]}"' in refused.text  # the summary links to the first radio
    assert 'href="#email"' in refused.text
    assert "Mer samarbeid." in refused.text  # what was typed is kept
    assert f'value="{person["name"]}"' in refused.text

    out_of_range = await pages.post(
        f"{url}/respond?lang=nb",
        data={**_person(person), fields["choice"]: "Kulturskolen", fields["scale"]: "9"},
    )
    assert out_of_range.status_code == 422
    assert "Velg et tall fra 1 til 5." in out_of_range.text
    assert f'href="#{fields["scale"]}"' in out_of_range.text

    sent = await pages.post(
        f"{url}/respond?lang=nb",
        data={
            **_person(person),
            fields["choice"]: "Kulturskolen",
            fields["scale"]: "4",
            fields["text"]: "Mer samarbeid.",
        },
    )
    assert sent.status_code == 303, sent.text
    thanks = await pages.get(sent.headers["location"])
    assert "Sjekk e-posten din" in thanks.text
    assert await _response_status(database_url) == ["pending"]

    confirmation_id, token = await _confirm_link(database_url)
    link = f"/confirm/{confirmation_id}"
    shown = await pages.get(link, params={"token": token})
    assert shown.status_code == 200
    assert "Bekreft adressen min" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    # Following the link (as a mail scanner does) confirms nothing.
    assert await _response_status(database_url) == ["pending"]
    assert await _outbox(database_url, "AddressConfirmed") == []

    confirmed = await pages.post(f"{link}?lang=nb", data={"token": token})
    assert confirmed.status_code == 200
    assert "Adressen din er bekreftet" in confirmed.text
    assert await _response_status(database_url) == ["counted"]
    again = await pages.get(link, params={"token": token})
    assert "Adressen din er bekreftet" in again.text and "<form" not in again.text.split("main")[1]

    forged = await pages.get(link, params={"token": "0.forged"})
    assert forged.status_code == 403
    forged_post = await pages.post(link, data={"token": "0.forged"})
    assert forged_post.status_code == 403


@pytest.mark.parametrize(
    ("lang", "heading", "send", "scale_end", "required"),
    [
        ("da", "Dine svar", "Send svar", "1 (lavest)", "Vælg en af mulighederne."),
        ("nb", "Dine svar", "Send svar", "1 (lavest)", "Velg ett av alternativene."),
        ("de", "Ihre Antworten", "Antworten senden", "1 (niedrigster Wert)", "Bitte wählen"),
        ("en", "Your answers", "Send answers", "1 (lowest)", "Choose one of the options."),
    ],
)
async def test_the_consultation_form_speaks_each_language(
    api: Api, database_url: str, lang: str, heading: str, send: str, scale_end: str, required: str
) -> None:
    network = await api.network(language="nb")
    person = await api.enrolled(network["network_id"])
    consultation = await _consultation_from_console(api, database_url, network["network_id"])
    pages = _pages(api)
    url = f"/consultations/{consultation['consultation_id']}"

    form = await pages.get(url, params={"lang": lang})
    refused = await pages.post(f"{url}/respond?lang={lang}", data=_person(person))

    assert f'<html lang="{lang}">' in form.text
    assert heading in form.text and send in form.text and scale_end in form.text
    assert refused.status_code == 422
    assert required in refused.text


async def test_someone_outside_the_audience_is_told_and_nothing_is_kept(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="da")
    await api.enrolled(network["network_id"])
    consultation = await _consultation_from_console(api, database_url, network["network_id"])
    fields = _ids(consultation)
    outsider = member(municipality="Køge")

    refused = await _pages(api).post(
        f"/consultations/{consultation['consultation_id']}/respond?lang=da",
        data={**_person(outsider), fields["choice"]: "Bibliotek", fields["scale"]: "3"},
    )

    assert refused.status_code == 403
    assert "medlemmer" in refused.text and 'class="summary"' in refused.text
    assert await _response_status(database_url) == []


async def test_a_coming_consultation_shows_when_it_opens_and_no_form(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="en")
    consultation = await _consultation_from_console(
        api, database_url, network["network_id"], opens_in=timedelta(days=2)
    )

    page = await _pages(api).get(
        f"/consultations/{consultation['consultation_id']}", params={"lang": "en"}
    )
    listed = await _pages(api).get(
        f"/networks/{network['network_id']}/consultations", params={"lang": "en"}
    )

    assert "The consultation opens on" in page.text
    assert "<form" not in page.text.split('<main id="main">')[1]
    assert "Opens on" in listed.text and consultation["title"] in listed.text


async def test_the_receipt_link_shows_the_answers_and_changes_them(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="da")
    person = await api.enrolled(network["network_id"])
    consultation = await _consultation_from_console(api, database_url, network["network_id"])
    fields = _ids(consultation)
    pages = _pages(api)
    url = f"/consultations/{consultation['consultation_id']}"
    await pages.post(
        f"{url}/respond?lang=da",
        data={
            **_person(person),
            fields["choice"]: "Bibliotek",
            fields["scale"]: "2",
            fields["text"]: "Flere netværksmøder.",
        },
    )
    [submitted] = await _outbox(database_url, "ResponseSubmitted")
    response_id = submitted["response_id"]
    token = tokens.issue(SECRET, "amend-response", uuid.UUID(response_id), expires_at=None)
    link = f"{url}/responses/{response_id}"

    shown = await pages.get(link, params={"token": token, "lang": "da"})
    assert shown.status_code == 200, shown.text
    assert 'value="Bibliotek" checked' in shown.text
    assert "Flere netværksmøder." in shown.text
    assert 'name="email"' not in shown.text  # the person is known by the link
    changed = await pages.post(
        f"{link}?lang=da",
        data={
            "token": token,
            fields["choice"]: "Kulturarv",
            fields["scale"]: "5",
            fields["text"]: "Flere møder.",
        },
    )
    assert changed.status_code == 303, changed.text
    done = await pages.get(changed.headers["location"])
    assert "Dine svar er ændret" in done.text
    again = await pages.get(link, params={"token": token, "lang": "da"})
    assert 'value="Kulturarv" checked' in again.text and "Flere møder." in again.text

    forged = await pages.get(link, params={"token": "0.forged"})
    assert forged.status_code == 403


async def test_members_propose_vote_and_the_console_moderates_and_schedules(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="da", title="Grøn omstilling")
    network_id = network["network_id"]
    meeting = await api.meeting(network_id, title="Møde 2: Åbne strategier")
    console = await _console(api)
    setting = await console.post(
        f"/console/networks/{network_id}/proposals/setting", data={"proposals": "moderated"}
    )
    assert setting.status_code == 303
    assert (await api.client.get(f"/networks/{network_id}")).json()["proposals"] == "moderated"
    author = await api.enrolled(network_id, municipality="Roskilde")
    voter = await api.enrolled(network_id, name="Lars Konsulent", municipality="Herlev")
    pages = _pages(api)
    url = f"/networks/{network_id}/proposals"

    listed = await pages.get(url, params={"lang": "da"})
    assert "Forslag til emner" in listed.text and "Foreslå et emne" in listed.text
    proposal = {f"proposal_{key}": value for key, value in _person(author).items()} | {
        "proposal_body": "Hvordan måler vi kulturhusenes klimaaftryk?"
    }
    refused = await pages.post(f"{url}/new?lang=da", data=proposal)
    assert refused.status_code == 422
    assert 'href="#proposal_title"' in refused.text
    assert "klimaaftryk" in refused.text  # what was typed is kept
    sent = await pages.post(
        f"{url}/new?lang=da", data={**proposal, "proposal_title": "Klimaregnskab"}
    )
    assert sent.status_code == 303, sent.text
    assert "Tjek din e-mail" in (await pages.get(sent.headers["location"])).text
    confirmation_id, token = await _confirm_link(database_url)
    await pages.post(f"/confirm/{confirmation_id}", data={"token": token})

    moderation = await console.get(f"/console/networks/{network_id}/proposals")
    assert "Klimaregnskab" in moderation.text
    [proposal_id] = re.findall(r'/console/proposals/([0-9a-f-]{36})/publish"', moderation.text)
    assert (await console.post(f"/console/proposals/{proposal_id}/publish")).status_code == 303

    listed = await pages.get(url, params={"lang": "da"})
    assert f'name="proposal_id" value="{proposal_id}"' in listed.text
    assert "0 stemmer" in listed.text
    vote = {**_person(author), "proposal_id": proposal_id}
    counted = await pages.post(f"{url}/vote?lang=da", data=vote)
    assert counted.status_code == 303
    assert "Din stemme er talt med" in (await pages.get(counted.headers["location"])).text
    twice = await pages.post(f"{url}/vote?lang=da", data=vote)
    assert twice.status_code == 409
    assert "Du har allerede stemt på dette emne." in twice.text
    waiting = await pages.post(
        f"{url}/vote?lang=da", data={**_person(voter), "proposal_id": proposal_id}
    )
    assert "status=pending" in waiting.headers["location"]
    assert "1 stemme" in (await pages.get(url, params={"lang": "da"})).text

    scheduled = await console.post(
        f"/console/proposals/{proposal_id}/schedule", data={"meeting_id": meeting["meeting_id"]}
    )
    assert scheduled.status_code == 303
    listed = await pages.get(url, params={"lang": "da"})
    assert "På dagsordenen for Møde 2: Åbne strategier" in listed.text

    # The page after a vote carries its token: the voter takes the vote back there.
    counted_page = await pages.get(counted.headers["location"])
    assert counted_page.headers["cache-control"] == "no-store"
    withdraw = re.search(r'action="([^"]+/withdraw[^"]*)"', counted_page.text)
    token = re.search(r'name="token" value="([^"]+)"', counted_page.text)
    assert withdraw is not None and token is not None
    taken_back = await pages.post(
        withdraw.group(1).replace("&amp;", "&"), data={"token": token.group(1)}
    )
    assert "Din stemme er trukket tilbage" in taken_back.text
    assert "0 stemmer" in (await pages.get(url, params={"lang": "da"})).text
    forged = await pages.post(withdraw.group(1).replace("&amp;", "&"), data={"token": "0.forged"})
    assert forged.status_code == 403


async def test_the_console_asks_and_shows_registrations_own_counts_with_a_csv(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="nb")
    console = await _console(api)
    refused = await console.post(
        f"/console/networks/{network['network_id']}/consultations",
        data={
            "title": "Uten spørsmål",
            "opens_at": "2099-01-01T10:00",
            "closes_at": "2099-02-01T10:00",
        },
    )
    assert refused.status_code == 422
    assert 'href="#q1_text"' in refused.text

    consultation = await _consultation_from_console(api, database_url, network["network_id"])
    fields = _ids(consultation)
    pages = _pages(api)
    for number, (choice, scale) in enumerate(
        [("Kulturskolen", 4), ("Kulturskolen", 5), ("Bibliotek", 4)]
    ):
        person = await api.enrolled(network["network_id"], name=f"Person {number}")
        await pages.post(
            f"/consultations/{consultation['consultation_id']}/respond",
            data={
                **_person(person),
                fields["choice"]: choice,
                fields["scale"]: str(scale),
                fields["text"]: f"Svar nummer {number}",
            },
        )
        confirmation_id, token = await _confirm_link(database_url)
        await pages.post(f"/confirm/{confirmation_id}", data={"token": token})

    results = await console.get(f"/console/consultations/{consultation['consultation_id']}?lang=en")
    assert results.status_code == 200
    rows = re.findall(r"<tr><th scope=\"row\"[^>]*>([^<]+)</th><td>(\d+)</td>", results.text)
    assert (
        ("Kulturskolen", "2") in rows and ("Bibliotek", "1") in rows and ("Kulturarv", "0") in rows
    )
    assert ("4", "2") in rows and ("5", "1") in rows
    exported = await console.get(
        f"/console/consultations/{consultation['consultation_id']}/responses.csv"
    )
    assert exported.text.startswith("\ufeff")
    assert "Svar nummer 2" in exported.text and TEXT in exported.text


async def test_a_flood_of_votes_from_one_address_is_refused_with_the_time_to_wait(
    database_url: str,
) -> None:
    app = create_app(
        registration_settings(database_url, rate_limit_dialogue_per_email="2/hour"),
        run_relay=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        api = Api(httpx.AsyncClient(transport=transport, base_url=f"{ROOT}/api/v1"), transport)
        network = await api.network(language="en", proposals="open")
        person = await api.enrolled(network["network_id"])
        pages = _pages(api)
        url = f"/networks/{network['network_id']}/proposals"
        for title in ("Green festivals", "Climate accounts", "Study trip"):
            await pages.post(
                f"{url}/new?lang=en",
                data={
                    **{f"proposal_{key}": value for key, value in _person(person).items()},
                    "proposal_title": title,
                    "proposal_body": "Worth a meeting.",
                },
            )

        flooded = await pages.post(
            f"{url}/vote?lang=en", data={**_person(person), "proposal_id": str(uuid.uuid4())}
        )

        assert flooded.status_code == 429
        assert int(flooded.headers["retry-after"]) > 0
        assert "Too many" in flooded.text
        assert len(await _outbox(database_url, "ProposalSubmitted")) == 2


async def test_an_organisations_console_sees_and_decides_only_its_own_dialogue(
    api: Api, database_url: str
) -> None:
    keys = {}
    for name in ("KL", "KS"):
        org = (
            await api.client.post("/organisations", json={"name": name}, headers=ORGANISER)
        ).json()
        issued = await api.client.post(
            f"/organisations/{org['organisation_id']}/api-keys",
            json={"name": "console"},
            headers=ORGANISER,
        )
        keys[name] = issued.json()["key"]
    created = await api.client.post(
        "/networks",
        json=network_body(title="KS' nettverk", language="nb", proposals="open"),
        headers={"Authorization": f"Bearer {keys['KS']}"},
    )
    network_id = created.json()["network_id"]
    consultation = await _consultation_from_console(api, database_url, network_id)
    author = await api.enrolled(network_id)
    proposal = await api.client.post(
        f"/networks/{network_id}/proposals",
        json={"member": author, "title": "Kulturskolen", "body": "Et tema for neste møte."},
    )
    proposal_id = proposal.json()["proposal_id"]
    kl = _pages(api)
    assert (await kl.post("/console/login", data={"token": keys["KL"]})).status_code == 303

    for page in (
        f"/console/networks/{network_id}/consultations",
        f"/console/consultations/{consultation['consultation_id']}",
        f"/console/consultations/{consultation['consultation_id']}/responses.csv",
        f"/console/networks/{network_id}/proposals",
    ):
        assert (await kl.get(page)).status_code == 404, page
    refused = await kl.post(f"/console/proposals/{proposal_id}/reject", data={"reason": "Nei."})
    assert refused.status_code == 404
    asked = await kl.post(
        f"/console/networks/{network_id}/consultations",
        data={
            "title": "Fremmed",
            "q1_text": "Hva?",
            "opens_at": "2099-01-01T10:00",
            "closes_at": "2099-02-01T10:00",
        },
    )
    assert asked.status_code == 404
    stored = await api.client.get(f"/proposals/{proposal_id}")
    assert stored.json()["status"] != "rejected"


# What the proposals page says in each language: its heading, a topic's vote button, the
# proposal form's heading, and the word for a topic left out.
PROPOSALS_SAY = {
    "da": ("Forslag til emner", "Stem på dette emne", "Foreslå et emne", "Skriv emnet."),
    "nb": ("Innspill til tema", "Stem på dette temaet", "Kom med innspill", "Skriv inn temaet."),
    "de": (
        "Themenvorschläge",
        "Für dieses Thema stimmen",
        "Thema vorschlagen",
        "Bitte geben Sie das Thema an.",
    ),
    "en": ("Topic proposals", "Vote for this topic", "Propose a topic", "Enter the topic."),
}


@pytest.mark.parametrize("lang", PROPOSALS_SAY)
async def test_the_proposals_page_speaks_each_language(api: Api, lang: str) -> None:
    heading, button, propose, missing_topic = PROPOSALS_SAY[lang]
    network = await api.network(language="da", proposals="open")
    author = await api.enrolled(network["network_id"])
    await api.client.post(
        f"/networks/{network['network_id']}/proposals",
        json={"member": author, "title": "Klimaregnskab", "body": "Et emne til næste møde."},
    )
    unknown_link = await _pages(api).get(f"/confirm/{uuid.uuid4()}", params={"lang": lang})
    url = f"/networks/{network['network_id']}/proposals"

    listed = await _pages(api).get(url, params={"lang": lang})
    refused = await _pages(api).post(
        f"{url}/new?lang={lang}",
        data={f"proposal_{key}": value for key, value in _person(author).items()},
    )

    assert f'<html lang="{lang}">' in listed.text
    assert heading in listed.text and propose in listed.text
    assert refused.status_code == 422 and missing_topic in refused.text
    assert unknown_link.status_code == 403
    # The author's address is not confirmed: the topic is neither listed nor can be voted for.
    assert button not in listed.text
