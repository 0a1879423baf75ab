"""`GET /api/v1/stats`: the counts reporting reconciles against, member dialogue's among them
(per opened consultation its counted responses, per proposal its status and counted votes),
for the platform's own tokens only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders import ORGANISER, REPORTING
from tests.registration.api.conftest import Api
from tests.registration.api.test_consultations import answer, ask
from tests.registration.api.test_proposals import confirmed, published


async def test_the_stats_list_each_consultations_responses_and_each_proposals_votes_as_counted(
    api: Api, database_url: str
) -> None:
    network_id, proposal_id = await published(api, database_url)
    confirmed_voter = await confirmed_member(api, database_url, network_id)
    unconfirmed = await api.enrolled(network_id)
    withdrawing = await confirmed_member(api, database_url, network_id)
    consultation = await ask(api, network_id)
    later = await ask(api, network_id, opens_in=timedelta(days=3))

    counted = await answer(api, consultation, confirmed_voter)
    pending = await answer(api, consultation, unconfirmed)
    votes = f"/proposals/{proposal_id}/votes"
    counted_vote = await api.client.post(votes, json={"member": confirmed_voter})
    pending_vote = await api.client.post(votes, json={"member": unconfirmed})
    cast = (await api.client.post(votes, json={"member": withdrawing})).json()
    withdrawn = await api.client.post(
        f"/votes/{cast['vote_id']}/withdraw", json={"token": cast["token"]}
    )
    stats = await api.client.get("/stats", headers=REPORTING)

    assert (counted.json()["status"], pending.json()["status"]) == ("counted", "pending")
    assert (counted_vote.json()["status"], pending_vote.json()["status"]) == ("counted", "pending")
    assert (cast["status"], withdrawn.json()["status"]) == ("counted", "withdrawn")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert {"meetings", "networks", "consultations", "proposals"} <= set(body)
    listed = {row["consultation_id"]: row for row in body["consultations"]}
    assert listed[consultation["consultation_id"]] == {
        "consultation_id": consultation["consultation_id"],
        "network_id": network_id,
        "status": "open",
        "responses": 1,
    }
    assert later["consultation_id"] not in listed  # scheduled: reporting has not heard of it
    proposals = {row["proposal_id"]: row for row in body["proposals"]}
    assert proposals[proposal_id] == {
        "proposal_id": proposal_id,
        "network_id": network_id,
        "status": "published",
        "counted": True,
        "votes": 1,
    }
    # The proposals the two confirmed themselves with are listed too, without votes.
    others = [row for row in body["proposals"] if row["proposal_id"] != proposal_id]
    assert [(row["counted"], row["votes"]) for row in others] == [(True, 0), (True, 0)]


async def confirmed_member(api: Api, database_url: str, network_id: str) -> dict[str, Any]:
    """A member whose address is confirmed: they proposed a topic and followed the emailed
    link."""
    person = await api.enrolled(network_id)
    proposed = await api.client.post(
        f"/networks/{network_id}/proposals",
        json={"member": person, "title": f"Emne fra {person['name']}", "body": "Hvordan?"},
    )
    assert proposed.status_code == 201, proposed.text
    await confirmed(api, database_url, person["email"])
    return person


async def test_the_stats_span_every_organisation_so_an_organisations_key_is_refused(
    api: Api,
) -> None:
    await ask(api, (await api.network())["network_id"])
    organisation = await api.client.post(
        "/organisations", json={"name": "Andre"}, headers=ORGANISER
    )
    key = await api.client.post(
        f"/organisations/{organisation.json()['organisation_id']}/api-keys",
        json={"name": "test"},
        headers=ORGANISER,
    )
    theirs = {"Authorization": f"Bearer {key.json()['key']}"}

    refused = await api.client.get("/stats", headers=theirs)
    anonymous = await api.client.get("/stats")
    platform = await api.client.get("/stats", headers=ORGANISER)

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "consultations" not in refused.text
    assert anonymous.status_code == 401
    assert platform.status_code == 200
    assert len(platform.json()["consultations"]) == 1
