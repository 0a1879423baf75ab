"""Demo data of the member dialogue, drawn from the seeds: KS's "Kultur for framtida:
Medlemsdialog" asks municipalities and county municipalities what they expect of KS on culture,
with a handful of answers; in KL's green-transition network the members propose the topics of
their meetings and vote, and the winner is put on the next meeting's agenda.

Loaded through the public API like the rest of the demo. A person's answer, proposal or vote
counts once their address is confirmed, so the loader confirms each address the way a person
does: through the link in the confirmation email, read from the local mail catcher. Without
the catcher (an outside SMTP server) the demo's voices stay pending.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

KS_NETWORK = "Kultur for framtida: medlemsdialog"
GREEN_NETWORK = "Netværk om grøn omstilling i kulturlivet"
# The mails caught so far, as the mail catcher's JSON view lists them: {"to": [...], "text"}.
Mails = Callable[[], list[dict[str, Any]]]
CONFIRM_LINK = re.compile(r"/confirm/([0-9a-f-]{36})\?token=([A-Za-z0-9._~-]+)")

CONSULTATION: dict[str, Any] = {
    "title": "Kultur for framtida: Medlemsdialog",
    "description": "KS vil vite hvilke forventninger kommunene og fylkeskommunene har til KS på "
    "kulturområdet, og hvordan kultur kan få større plass i kommunenes planarbeid. Svarene "
    "telles per kommune og inngår i KS' arbeid med kulturpolitikken.",
    "audience": "members",
    "questions": [
        {
            "text": "Hvilket område bør KS prioritere på kulturfeltet de neste årene?",
            "kind": "choice",
            "options": [
                "Kulturskolen",
                "Bibliotek og litteraturformidling",
                "Frivillighet og lokale kulturarenaer",
                "Kulturarv og museer",
                "Kultur og folkehelse",
            ],
            "required": True,
        },
        {
            "text": "Hvor godt ivaretar KS kommunenes interesser på kulturområdet i dag?",
            "kind": "scale",
            "min": 1,
            "max": 5,
            "required": True,
        },
        {
            "text": "Hvor viktig er kultur i kommunens planarbeid?",
            "kind": "scale",
            "min": 1,
            "max": 5,
        },
        {
            "text": "Hvilke forventninger har dere til KS på kulturområdet?",
            "kind": "text",
        },
    ],
}

# (name, municipality or county municipality, role, answers to the four questions in order)
KS_ANSWERS: list[tuple[str, str, str, tuple[str, int, int | None, str | None]]] = [
    (
        "Kari Fjellheim",
        "Tynset",
        "Kultursjef",
        ("Kulturskolen", 4, 5, "Mer erfaringsdeling mellom små kommuner."),
    ),
    (
        "Ola Strand",
        "Bodø",
        "Kommunalsjef kultur",
        ("Frivillighet og lokale kulturarenaer", 3, 4, None),
    ),
    (
        "Sigrid Aas",
        "Alta",
        "Kulturskolerektor",
        ("Kulturskolen", 3, 4, "Hjelp til å løfte kulturskolen inn i kommuneplanen."),
    ),
    (
        "Ingvild Berg",
        "Vestland fylkeskommune",
        "Seksjonsleder kultur",
        ("Kulturarv og museer", 4, 5, "Tydeligere stemme for kulturarven nasjonalt."),
    ),
    (
        "Anders Moe",
        "Nordland fylkeskommune",
        "Fylkeskultursjef",
        ("Kultur og folkehelse", 2, 4, None),
    ),
    (
        "Liv Haugen",
        "Stavanger",
        "Direktør kultur og byutvikling",
        ("Bibliotek og litteraturformidling", 4, 3, None),
    ),
]

# KL's green-transition network: the topics its members propose, by the demo's members.
PROPOSALS = [
    (
        "mette.kulturchef@roskilde.example",
        "Klimaregnskab for kulturinstitutioner – hvordan kommer vi i gang?",
        "Flere kommuner vil måle kulturhusenes og museernes klimaaftryk. Hvilke værktøjer "
        "findes, og hvad har de første erfaret?",
    ),
    (
        "lars.konsulent@herlev.example",
        "Grøn dannelse på bibliotekerne og i kulturskolen",
        "Hvordan gør vi den grønne omstilling til en del af børn og unges møde med kulturen?",
    ),
    (
        "sara.green@koege.example",
        "Bæredygtige festivaler og byfester",
        "Affald, transport og forplejning: hvad kan kommunen stille krav om, og hvad virker?",
    ),
    (
        "ingrid.nordmann@tynset.example",
        "Studietur til et klimaneutralt kulturhus",
        "Et besøg hos et kulturhus, der allerede er klimaneutralt, i stedet for et oplæg.",
    ),
]
REJECTED_BECAUSE = "Tak for forslaget. Et studiebesøg passer ikke ind i dette års tre møder."
# Who votes for which proposal (by its number above): the first wins.
VOTES = {
    "mette.kulturchef@roskilde.example": (1, 2),
    "lars.konsulent@herlev.example": (0, 1),
    "ingrid.nordmann@tynset.example": (0,),
    "jonas.weber@kreis-steinfurt.example": (0, 2),
    "sara.green@koege.example": (0, 2),
}


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise RuntimeError(f"demo data refused: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def _network(client: httpx.Client, title: str) -> dict[str, Any]:
    listed = _ok(client.get("/networks", params={"limit": 200}))["items"]
    return next(network for network in listed if network["title"] == title)


def _slug(text: str) -> str:
    text = text.lower().split()[0]
    return text.replace("ø", "oe").replace("æ", "ae").replace("å", "aa")


def local_mailbox() -> list[dict[str, Any]]:
    """What the local stack's mail catcher has caught (DEVSTACK_MAILBOX_PORT, 8025)."""
    port = os.environ.get("DEVSTACK_MAILBOX_PORT", "8025")
    listed: list[dict[str, Any]] = httpx.get(f"http://127.0.0.1:{port}/api/mails", timeout=5).json()
    return listed


def load(
    client: httpx.Client,
    members: list[tuple[str, str, str, str, str]],
    mails: Mails = local_mailbox,
) -> None:
    """The consultation and the proposals; `members` are the demo's members of the
    green-transition network: (name, email, municipality, role, language)."""
    _consultation(client, mails)
    _proposals(
        client,
        [
            {"name": name, "email": email, "municipality": place, "role": role, "language": lang}
            for name, email, place, role, lang in members
        ],
        mails,
    )


def _consultation(client: httpx.Client, mails: Mails) -> None:
    """KS's members are asked; six answer, each confirming their address by the emailed link.
    The window has begun, so the consultation opens (and invites them) as it is created."""
    network = _network(client, KS_NETWORK)
    people = []
    for name, municipality, role, _answers in KS_ANSWERS:
        person = {
            "name": name,
            "email": f"{_slug(name)}.{_slug(municipality)}@kommune.example",
            "municipality": municipality,
            "role": role,
            "language": "nb",
        }
        _ok(
            client.post(
                f"/networks/{network['network_id']}/enrolments",
                json={"member": person, "consent": True},
            )
        )
        people.append(person)
    opens = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    consultation = _ok(
        client.post(
            f"/networks/{network['network_id']}/consultations",
            json={
                **CONSULTATION,
                "opens_at": opens.isoformat(),
                "closes_at": (opens + timedelta(days=21)).isoformat(),
            },
        )
    )
    question_ids = [question["question_id"] for question in consultation["questions"]]
    for person, (*_, answers) in zip(people, KS_ANSWERS, strict=True):
        given = [
            {"question_id": question_id, "value": value}
            for question_id, value in zip(question_ids, answers, strict=True)
            if value is not None
        ]
        _ok(
            client.post(
                f"/consultations/{consultation['consultation_id']}/responses",
                json={"member": person, "answers": given},
            )
        )
    confirm_addresses(client, mails, [person["email"] for person in people])


def _proposals(client: httpx.Client, members: list[dict[str, Any]], mails: Mails) -> None:
    """The members propose, the organiser publishes three and rejects one, the members vote,
    and the winner goes on the agenda of the network's next meeting but one."""
    network = _network(client, GREEN_NETWORK)
    network_id = network["network_id"]
    _ok(client.patch(f"/networks/{network_id}", json={"proposals": "moderated"}))
    by_email = {member["email"]: member for member in members}
    proposal_ids = [
        _ok(
            client.post(
                f"/networks/{network_id}/proposals",
                json={"member": by_email[email], "title": title, "body": body},
            )
        )["proposal_id"]
        for email, title, body in PROPOSALS
    ]
    # A proposal is reviewed once its author's address is confirmed: without the mail
    # catcher (an outside SMTP server) the proposals wait, unreviewed, as they would.
    if confirm_addresses(client, mails, [email for email, _, _ in PROPOSALS]) < len(PROPOSALS):
        return
    for proposal_id in proposal_ids[:3]:
        _ok(client.post(f"/proposals/{proposal_id}/publish"))
    _ok(client.post(f"/proposals/{proposal_ids[3]}/reject", json={"reason": REJECTED_BECAUSE}))
    for email, chosen in VOTES.items():
        for number in chosen:
            _ok(
                client.post(
                    f"/proposals/{proposal_ids[number]}/votes", json={"member": by_email[email]}
                )
            )
    authors = {email for email, _, _ in PROPOSALS}  # confirmed already, counted at once
    confirm_addresses(client, mails, [email for email in VOTES if email not in authors])
    meetings = _ok(client.get(f"/networks/{network_id}/meetings"))["items"]
    _ok(
        client.post(
            f"/proposals/{proposal_ids[0]}/schedule",
            json={"meeting_id": meetings[1]["meeting_id"]},
        )
    )


def confirm_addresses(
    client: httpx.Client, mails: Mails, emails: list[str], timeout_s: float = 30
) -> int:
    """Follow each address's confirmation link as its owner would: the email read from the
    mail catcher, the link's confirmation posted. How many were confirmed (none without the
    catcher)."""
    waiting = {email.lower() for email in emails}
    confirmed = 0
    deadline = time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline:
        try:
            caught = mails()
        except httpx.HTTPError:
            return confirmed  # no local catcher: the voices stay pending
        for mail in reversed(caught):  # the newest first: the catcher keeps older runs' mail
            found = CONFIRM_LINK.search(mail["text"])
            recipients = {address.lower() for address in mail["to"]} & waiting
            if found is None or not recipients:
                continue
            confirmation_id, token = found.groups()
            answer = client.post(f"/confirmations/{confirmation_id}", params={"token": token})
            if answer.is_success:
                waiting -= recipients
                confirmed += 1
        time.sleep(0.3)
    return confirmed
