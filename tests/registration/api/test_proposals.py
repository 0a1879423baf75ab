"""Topic proposals and votes through HTTP: proposing as the network allows, the organiser's
review and agenda, the ranking, one vote each (409 again), withdrawal, and a flood of votes
from one client or address refused (429) and never counted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx

from registration.main import create_app
from tests.builders import ORGANISER, member
from tests.registration.api.conftest import Api, registration_settings
from tests.registration.api.test_consultations import api_path, emailed_link, outbox

ClientAt = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


async def propose(api: Api, network_id: str, person: dict[str, Any], title: str = "Emne") -> Any:
    return await api.client.post(
        f"/networks/{network_id}/proposals",
        json={"member": person, "title": title, "body": "Hvordan gør vi?"},
    )


async def confirmed(api: Api, database_url: str, email: str) -> None:
    response = await api.client.post(api_path(await emailed_link(database_url, email)))
    assert response.status_code == 200, response.text


async def published(api: Api, database_url: str) -> tuple[str, str]:
    """An open network with one published proposal: (network_id, proposal_id)."""
    network_id = (await api.network(proposals="open"))["network_id"]
    author = await api.enrolled(network_id)
    proposal = (await propose(api, network_id, author, "Grøn scenekunst")).json()
    await confirmed(api, database_url, author["email"])
    return network_id, proposal["proposal_id"]


async def test_a_network_without_proposals_answers_409_and_strangers_403(api: Api) -> None:
    closed = (await api.network())["network_id"]
    taking = (await api.network(proposals="moderated"))["network_id"]
    person = await api.enrolled(closed)

    off = await propose(api, closed, person)
    stranger = await propose(api, taking, member())
    invalid = await api.client.post(
        f"/networks/{taking}/proposals", json={"member": person, "title": "", "body": "x"}
    )

    assert (off.status_code, off.json()["type"].rsplit("/", 1)[-1]) == (409, "proposals-off")
    assert stranger.status_code == 403
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "title"


async def test_moderation_publication_and_the_agenda(api: Api, database_url: str) -> None:
    network_id = (await api.network(proposals="moderated"))["network_id"]
    author = await api.enrolled(network_id)
    submitted = await propose(api, network_id, author, "Kulturarv og klima")
    proposal_id = submitted.json()["proposal_id"]
    unconfirmed = await api.client.post(f"/proposals/{proposal_id}/publish", headers=ORGANISER)
    hidden = await api.client.get(f"/proposals/{proposal_id}")
    await confirmed(api, database_url, author["email"])
    public_review = await api.client.get(
        f"/networks/{network_id}/proposals", params={"status": "submitted"}
    )
    organiser_review = await api.client.get(
        f"/networks/{network_id}/proposals", params={"status": "submitted"}, headers=ORGANISER
    )
    by_nobody = await api.client.post(f"/proposals/{proposal_id}/publish")
    publish = await api.client.post(f"/proposals/{proposal_id}/publish", headers=ORGANISER)
    meeting = await api.meeting(network_id)
    scheduled = await api.client.post(
        f"/proposals/{proposal_id}/schedule",
        json={"meeting_id": meeting["meeting_id"]},
        headers=ORGANISER,
    )
    shown = await api.client.get(f"/meetings/{meeting['meeting_id']}")

    assert submitted.status_code == 201
    assert (submitted.json()["status"], submitted.json()["counted"]) == ("submitted", False)
    assert unconfirmed.status_code == 409
    assert hidden.status_code == 404
    assert public_review.json()["items"] == []
    assert [p["proposal_id"] for p in organiser_review.json()["items"]] == [proposal_id]
    assert by_nobody.status_code == 401
    assert publish.json()["status"] == "published"
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["meeting_id"] == meeting["meeting_id"]
    assert shown.json()["agenda"][-1]["proposal_id"] == proposal_id
    assert shown.json()["agenda"][-1]["title"] == "Kulturarv og klima"
    changed = (await outbox(database_url, "MeetingUpdated"))[-1]["payload"]["changed"]
    assert changed == ["agenda"]


async def test_a_rejection_carries_its_reason(api: Api, database_url: str) -> None:
    network_id = (await api.network(proposals="moderated"))["network_id"]
    author = await api.enrolled(network_id)
    proposal_id = (await propose(api, network_id, author)).json()["proposal_id"]
    await confirmed(api, database_url, author["email"])

    rejected = await api.client.post(
        f"/proposals/{proposal_id}/reject", json={"reason": "Uden for formålet"}, headers=ORGANISER
    )
    again = await api.client.post(f"/proposals/{proposal_id}/reject", headers=ORGANISER)

    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "Uden for formålet"
    assert again.status_code == 409
    (event,) = await outbox(database_url, "ProposalRejected")
    assert event["payload"]["reason"] == "Uden for formålet"


async def test_one_vote_each_withdrawn_with_its_token_and_the_ranking(
    api: Api, database_url: str
) -> None:
    network_id, proposal_id = await published(api, database_url)
    voter = await api.enrolled(network_id)
    await propose(api, network_id, voter, "Et andet emne")
    await confirmed(api, database_url, voter["email"])

    vote = await api.client.post(f"/proposals/{proposal_id}/votes", json={"member": voter})
    again = await api.client.post(f"/proposals/{proposal_id}/votes", json={"member": voter})
    ranking = await api.client.get(f"/networks/{network_id}/proposals", params={"sort": "votes"})
    wrong = await api.client.post(
        f"/votes/{vote.json()['vote_id']}/withdraw", json={"token": "0.nope"}
    )
    withdrawn = await api.client.post(
        f"/votes/{vote.json()['vote_id']}/withdraw", json={"token": vote.json()["token"]}
    )
    after = await api.client.get(f"/proposals/{proposal_id}")

    assert vote.status_code == 201, vote.text
    assert (vote.json()["status"], bool(vote.json()["token"])) == ("counted", True)
    assert again.status_code == 409
    assert again.json()["vote_id"] == vote.json()["vote_id"]
    top = ranking.json()["items"][0]
    assert (top["proposal_id"], top["votes"]) == (proposal_id, 1)
    assert wrong.status_code == 403
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert after.json()["votes"] == 0


@asynccontextmanager
async def _service(database_url: str, **settings: Any) -> AsyncIterator[ClientAt]:
    app = create_app(registration_settings(database_url, **settings), run_relay=False)
    async with app.router.lifespan_context(app):

        def client_at(address: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://registration/api/v1")

        yield client_at


async def test_a_flood_of_votes_is_refused_and_never_counted(database_url: str) -> None:
    limited = _service(
        database_url, rate_limit_per_address="6/minute", rate_limit_dialogue_per_email="3/minute"
    )
    async with limited as client_at, client_at("198.51.100.7") as setup:
        api = Api(setup)
        network_id = (await api.network(proposals="open"))["network_id"]
        people = [member() for _ in range(8)]
        for person in people:  # entered by the organiser: no limit
            enrolled = await setup.post(
                f"/networks/{network_id}/enrolments",
                json={"member": person, "consent": True},
                headers=ORGANISER,
            )
            assert enrolled.status_code == 201, enrolled.text
        author = people[0]
        proposals = [
            (
                await api.client.post(
                    f"/networks/{network_id}/proposals",
                    json={"member": author, "title": f"Emne {n}", "body": "Tekst"},
                    headers=ORGANISER,  # the organiser enters them: no limit
                )
            ).json()["proposal_id"]
            for n in range(5)
        ]
        await confirmed(api, database_url, author["email"])

        async with client_at("203.0.113.50") as flooder:
            # One address voting for many people: the client's limit.
            by_client = [
                await flooder.post(f"/proposals/{proposals[0]}/votes", json={"member": person})
                for person in people[1:]
            ]
        async with client_at("192.0.2.1") as one, client_at("192.0.2.2") as two:
            # One person's address from many clients: the address's limit.
            by_address = [
                await (one if n % 2 else two).post(
                    f"/proposals/{proposal}/votes", json={"member": people[1]}
                )
                for n, proposal in enumerate(proposals[1:])
            ]

        totals = {
            proposal: (await setup.get(f"/proposals/{proposal}")).json()["votes"]
            for proposal in proposals
        }

    assert [r.status_code for r in by_client] == [201] * 6 + [429]
    # people[1] voted once already, from the flooder: two more of three, then refused.
    assert [r.status_code for r in by_address] == [201] * 2 + [429] * 2
    refused = by_client[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    stored = await outbox(database_url, "ProposalVoted")
    assert len(stored) == 6 + 2  # nothing of the refused ones
    # The voters have not confirmed their addresses: nothing they cast counts yet.
    assert set(totals.values()) == {0}
