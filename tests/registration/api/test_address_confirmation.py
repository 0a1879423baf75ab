"""The confirmation link through HTTP: GET shows and changes nothing however often a mail
scanner follows it, POST confirms once (a retry, or the same Idempotency-Key, changes nothing
more), and a wrong, missing or unknown link is refused."""

from __future__ import annotations

import uuid

from tests.registration.api.conftest import Api
from tests.registration.api.test_consultations import api_path, emailed_link, outbox
from tests.registration.api.test_proposals import propose


async def test_a_scanner_following_the_link_confirms_nothing(api: Api, database_url: str) -> None:
    network_id = (await api.network(proposals="open"))["network_id"]
    author = await api.enrolled(network_id)
    proposal_id = (await propose(api, network_id, author)).json()["proposal_id"]
    path = api_path(await emailed_link(database_url, author["email"]))

    scans = [await api.client.get(path) for _ in range(3)]
    hidden = await api.client.get(f"/proposals/{proposal_id}")

    assert {scan.status_code for scan in scans} == {200}
    assert {scan.json()["status"] for scan in scans} == {"requested"}
    assert scans[0].json()["subject"] == "proposal"
    assert scans[0].json()["waiting"] == {"responses": 0, "proposals": 1, "votes": 0}
    assert hidden.status_code == 404
    assert await outbox(database_url, "AddressConfirmed") == []


async def test_posting_the_link_confirms_once(api: Api, database_url: str) -> None:
    network_id = (await api.network(proposals="open"))["network_id"]
    author = await api.enrolled(network_id)
    proposal_id = (await propose(api, network_id, author)).json()["proposal_id"]
    path = api_path(await emailed_link(database_url, author["email"]))

    first = await api.client.post(path, headers={"Idempotency-Key": "k1"})
    replay = await api.client.post(path, headers={"Idempotency-Key": "k1"})
    again = await api.client.post(path)
    shown = await api.client.get(f"/proposals/{proposal_id}")

    assert first.status_code == replay.status_code == again.status_code == 200
    assert replay.json() == first.json()
    assert first.json()["waiting"] == {"responses": 0, "proposals": 1, "votes": 0}
    assert again.json()["status"] == "confirmed"
    assert again.json()["waiting"] == {"responses": 0, "proposals": 0, "votes": 0}
    assert shown.json()["status"] == "published"
    assert len(await outbox(database_url, "AddressConfirmed")) == 1


async def test_a_wrong_missing_or_unknown_link_is_refused(api: Api, database_url: str) -> None:
    network_id = (await api.network(proposals="open"))["network_id"]
    author = await api.enrolled(network_id)
    await propose(api, network_id, author)
    path = api_path(await emailed_link(database_url, author["email"]))
    bare = path.split("?")[0]

    wrong = await api.client.post(bare, params={"token": "0.wrong"})
    missing = await api.client.post(bare)
    unknown = await api.client.get(f"/confirmations/{uuid.uuid4()}", params={"token": "0.x"})

    assert wrong.status_code == 403
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "token"
    assert unknown.status_code == 404
    assert await outbox(database_url, "AddressConfirmed") == []
