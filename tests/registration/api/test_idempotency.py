"""Idempotency-Key: a retry returns the first response and does nothing twice."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.registration.api.conftest import Api


async def _count(database_url: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def test_a_retry_with_the_same_key_creates_one_registration_and_one_event(
    api: Api, database_url: str
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])
    body = {"member": person, "companions": []}
    headers = {"Idempotency-Key": "retry-1"}

    first = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json=body, headers=headers
    )
    retries = [
        await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations", json=body, headers=headers
        )
        for _ in range(5)
    ]

    assert first.status_code == 201
    assert all(r.status_code == 201 and r.json() == first.json() for r in retries)
    assert await _count(database_url, "SELECT count(*) FROM registration.registrations") == 1
    assert (
        await _count(
            database_url,
            "SELECT count(*) FROM registration.outbox WHERE event_type = 'RegistrationConfirmed'",
        )
        == 1
    )


async def test_concurrent_retries_with_one_key_are_answered_alike(
    api: Api, database_url: str
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])
    body = {"member": person, "companions": []}

    responses = await asyncio.gather(
        *(
            api.client.post(
                f"/meetings/{meeting['meeting_id']}/registrations",
                json=body,
                headers={"Idempotency-Key": "burst"},
            )
            for _ in range(20)
        )
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert await _count(database_url, "SELECT count(*) FROM registration.registrations") == 1


async def test_the_same_key_with_a_different_body_is_invalid(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])
    url = f"/meetings/{meeting['meeting_id']}/registrations"
    await api.client.post(
        url, json={"member": person, "companions": []}, headers={"Idempotency-Key": "k"}
    )

    response = await api.client.post(
        url,
        json={"member": person, "companions": [{"name": "Another"}]},
        headers={"Idempotency-Key": "k"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
