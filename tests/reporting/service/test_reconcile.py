"""Reconcile against the registration service's own counts, member dialogue's included: the
registration API in process (real Postgres), its event log applied to reporting as rebuild
reads it, and its `GET /stats` compared with reporting's tables."""

from __future__ import annotations

from typing import Any

import asyncpg

from reporting import maintenance, projection
from reporting.clients import RegistrationClient
from reporting.settings import Settings
from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN
from tests.registration.api.conftest import (
    Api,
    api,  # noqa: F401  (the fixture: registration in process)
)
from tests.registration.api.test_consultations import answer, ask
from tests.registration.api.test_proposals import confirmed, published
from tests.registration.api.test_stats import confirmed_member


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers="-",
        organiser_token=ORGANISER_TOKEN,
        reporting_token=REPORTING_TOKEN,
        registration_url="http://registration",
    )


async def _event_log(registration: RegistrationClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await registration.events(limit=1000, cursor=cursor)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _apply(pool: asyncpg.Pool, items: list[dict[str, Any]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, maintenance._readable(items))


async def _drift(pool: asyncpg.Pool, registration: RegistrationClient) -> list[str]:
    truth = await registration.stats()
    async with pool.acquire() as conn:
        return await maintenance.drift(conn, truth)


async def test_a_vote_registration_counts_that_reporting_missed_is_drift_until_it_arrives(
    api: Api,  # noqa: F811
    pool: asyncpg.Pool,
    database_url: str,
) -> None:
    network_id, proposal_id = await published(api, database_url)
    early = await confirmed_member(api, database_url, network_id)
    consultation = await ask(api, network_id)
    await answer(api, consultation, early)
    await answer(api, consultation, await api.enrolled(network_id))  # pending: not counted
    votes = f"/proposals/{proposal_id}/votes"
    await api.client.post(votes, json={"member": early})
    late = await api.enrolled(network_id)
    missed = (await api.client.post(votes, json={"member": late})).json()
    await confirmed(api, database_url, late["email"])  # the vote counts now

    async with RegistrationClient(_settings(database_url), transport=api.transport) as client:
        log = await _event_log(client)
        lost = [item for item in log if item["envelope"]["aggregate_id"] == missed["vote_id"]]
        await _apply(pool, [item for item in log if item not in lost])
        truth = await client.stats()
        drift = await _drift(pool, client)
        await _apply(pool, lost)
        healed = await _drift(pool, client)

    assert [len(lost), missed["status"]] == [2, "pending"]  # its pending and its counted state
    [counted] = [row for row in truth["proposals"] if row["proposal_id"] == proposal_id]
    assert (counted["status"], counted["votes"]) == ("published", 2)
    [asked] = truth["consultations"]
    assert (asked["consultation_id"], asked["responses"]) == (consultation["consultation_id"], 1)
    assert drift == [f"proposal {proposal_id}: votes is 1, registration says 2"]
    assert healed == []
