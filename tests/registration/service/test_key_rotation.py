"""Rotating the two secrets without breaking what is already out there: the links already
emailed (TOKEN_SECRET), and the member keys wrapped by the master key (PERSONAL_DATA_KEY),
which `rotate-personal-data-key` re-wraps in batches while the service keeps opening them."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import uuid
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from registration import key_rotation, tokens
from registration.__main__ import COMMANDS
from registration.personal_data import PersonalDataVault
from registration.repository import data_keys
from registration.service import erasure, members, registration_events, registrations
from registration.settings import Settings
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import Given
from tilmeld_shared.events import PersonalData, SealedPersonalData
from tilmeld_shared.problems import Forbidden

OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _with(ctx: ServiceContext, **settings: str) -> ServiceContext:
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=settings))


# TOKEN_SECRET


async def test_a_link_emailed_before_the_secret_rotated_still_cancels(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    before = _with(ctx, token_secret="old-secret")
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    given.ctx = before
    seated = await given.register(meeting_id, await given.member(network_id))

    after = _with(ctx, token_secret="new-secret", token_secrets_previous="old-secret")
    cancelled = await registrations.cancel_registration(
        tx,
        after,
        seated.registration["id"],
        token=seated.cancel_token,
        organiser=None,
        once=as_is(),
    )

    assert cancelled["status"] == "cancelled"


async def test_a_link_signed_with_a_secret_not_listed_cancels_nothing(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    given.ctx = _with(ctx, token_secret="dropped-secret")
    seated = await given.register(meeting_id, await given.member(network_id))

    after = _with(ctx, token_secret="new-secret", token_secrets_previous="old-secret")
    with pytest.raises(Forbidden):
        await registrations.cancel_registration(
            tx,
            after,
            seated.registration["id"],
            token=seated.cancel_token,
            organiser=None,
            once=as_is(),
        )


async def test_new_links_are_signed_with_the_new_secret_only(
    given: Given, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    given.ctx = _with(ctx, token_secret="new-secret", token_secrets_previous="old-secret")
    seated = await given.register(meeting_id, await given.member(network_id))
    registration_id = seated.registration["id"]

    purpose = registration_events.CANCEL_PURPOSE
    signed = seated.cancel_token
    assert tokens.verify("new-secret", purpose, registration_id, signed, now=None)
    assert not tokens.verify("old-secret", purpose, registration_id, signed, now=None)


# PERSONAL_DATA_KEY


async def _sealed(pool: asyncpg.Pool) -> list[SealedPersonalData]:
    rows = await pool.fetch(
        "SELECT envelope -> 'payload' -> 'personal_sealed' AS sealed FROM outbox "
        "WHERE envelope -> 'payload' ? 'personal_sealed' ORDER BY id"
    )
    return [SealedPersonalData.model_validate(row["sealed"]) for row in rows]


async def _open(
    tx: Transactions, vault: PersonalDataVault, sealed: list[SealedPersonalData]
) -> list[PersonalData | None]:
    return await members.open_personal_data(tx, vault, sealed)


async def _people_sealed_under_the_old_key(
    given: Given, ctx: ServiceContext, pool: asyncpg.Pool, count: int
) -> list[SealedPersonalData]:
    given.ctx = dataclasses.replace(ctx, vault=PersonalDataVault(OLD_KEY))
    network_id = await given.network()
    for _ in range(count):
        await given.member(network_id)
    sealed = await _sealed(pool)
    assert len({item.member_id for item in sealed}) == count
    return sealed


async def test_members_sealed_under_the_old_key_open_during_and_after_the_rotation(
    given: Given, ctx: ServiceContext, tx: Transactions, pool: asyncpg.Pool
) -> None:
    sealed = await _people_sealed_under_the_old_key(given, ctx, pool, count=12)
    expected = await _open(tx, PersonalDataVault(OLD_KEY), sealed)
    assert None not in expected
    # The service now runs with the new key and the old one as a former key.
    serving = PersonalDataVault(NEW_KEY, [OLD_KEY])

    async def read_while_rotating(rotation: asyncio.Task[key_rotation.Rotation]) -> int:
        reads = 0
        while not rotation.done() or reads == 0:
            assert await _open(tx, serving, sealed) == expected
            reads += 1
            await asyncio.sleep(0)
        return reads

    rotation = asyncio.create_task(key_rotation.rotate(pool, serving, batch_size=2))
    reads = await read_while_rotating(rotation)
    done = await rotation

    assert reads > 1
    assert (done.rewrapped, done.already_current, done.unreadable, done.remaining) == (12, 0, 0, 0)
    assert await _open(tx, serving, sealed) == expected
    # The old key alone no longer opens anything; the new key alone opens everything.
    assert await _open(tx, PersonalDataVault(OLD_KEY), sealed) == [None] * len(sealed)
    assert await _open(tx, PersonalDataVault(NEW_KEY), sealed) == expected


async def test_the_rotation_is_idempotent_and_resumes_where_it_stopped(
    given: Given,
    ctx: ServiceContext,
    tx: Transactions,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed = await _people_sealed_under_the_old_key(given, ctx, pool, count=5)
    serving = PersonalDataVault(NEW_KEY, [OLD_KEY])

    class Interrupted(Exception):
        pass

    # A first run dies after two batches of two: those stay done, the rest under the old key.
    rewrap, batches = data_keys.rewrap, 0

    async def dies_on_the_third_batch(*args: Any, **kwargs: Any) -> None:
        nonlocal batches
        if batches == 2:
            raise Interrupted
        batches += 1
        await rewrap(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(data_keys, "rewrap", dies_on_the_third_batch)
        with pytest.raises(Interrupted):
            await key_rotation.rotate(pool, serving, batch_size=2)
    assert None not in await _open(tx, serving, sealed)

    resumed = await key_rotation.rotate(pool, serving, batch_size=2)
    again = await key_rotation.rotate(pool, serving, batch_size=2)

    assert (resumed.rewrapped, resumed.remaining) == (1, 0)
    assert again == key_rotation.Rotation()
    assert None not in await _open(tx, PersonalDataVault(NEW_KEY), sealed)


async def test_keys_wrapped_before_their_master_key_was_recorded_are_recorded_not_rewrapped(
    given: Given, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    await _people_sealed_under_the_old_key(given, ctx, pool, count=3)
    stored = await pool.fetch("SELECT id, data_key FROM members ORDER BY id")

    done = await key_rotation.rotate(pool, PersonalDataVault(OLD_KEY))

    assert (done.rewrapped, done.already_current, done.remaining) == (0, 3, 0)
    assert await pool.fetch("SELECT id, data_key FROM members ORDER BY id") == stored


async def test_erasure_still_shreds_after_the_rotation_and_its_record_goes_with_the_key(
    given: Given, ctx: ServiceContext, tx: Transactions, pool: asyncpg.Pool
) -> None:
    sealed = await _people_sealed_under_the_old_key(given, ctx, pool, count=3)
    erased_before = sealed[0].member_id
    await erasure.forget_member(tx, given.ctx, erased_before)
    serving = PersonalDataVault(NEW_KEY, [OLD_KEY])

    done = await key_rotation.rotate(pool, serving)
    erased_after = sealed[-1].member_id
    await erasure.forget_member(tx, dataclasses.replace(given.ctx, vault=serving), erased_after)

    assert (done.rewrapped, done.remaining) == (2, 0)
    opened = {item.member_id: await _open(tx, serving, [item]) for item in sealed}
    assert opened[erased_before] == [None] and opened[erased_after] == [None]
    kept = [member_id for member_id, data in opened.items() if data != [None]]
    assert len(kept) == 1
    records = await pool.fetch("SELECT member_id FROM member_data_key_wrapping")
    assert [row["member_id"] for row in records] == kept
    keys = await pool.fetch(
        "SELECT id FROM members WHERE data_key IS NOT NULL AND id = ANY($1::uuid[])",
        [erased_before, erased_after],
    )
    assert keys == []


async def test_a_key_no_configured_master_key_opens_is_left_alone_and_reported(
    given: Given, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    await _people_sealed_under_the_old_key(given, ctx, pool, count=2)
    stored = await pool.fetch("SELECT id, data_key FROM members ORDER BY id")

    done = await key_rotation.rotate(pool, PersonalDataVault(NEW_KEY))  # old key forgotten

    assert (done.rewrapped, done.unreadable, done.remaining) == (0, 2, 2)
    assert await pool.fetch("SELECT id, data_key FROM members ORDER BY id") == stored


def test_a_vault_wraps_with_the_current_key_and_unwraps_with_the_former_ones() -> None:
    member_id = uuid.uuid4()
    wrapped = PersonalDataVault(OLD_KEY).new_wrapped_key(member_id)
    rotated = PersonalDataVault.from_setting(
        _b64(NEW_KEY), development_fallback="unused", previous=f"{_b64(OLD_KEY)}, "
    )

    again = rotated.rewrap(member_id, wrapped)
    assert again is not None and again.changed and again.key_id == rotated.key_id
    assert rotated.key_ids[0] == rotated.key_id and len(rotated.key_ids) == 2
    unchanged = rotated.rewrap(member_id, again.wrapped)
    assert unchanged is not None and not unchanged.changed and unchanged.wrapped == again.wrapped
    assert PersonalDataVault(OLD_KEY).rewrap(member_id, again.wrapped) is None
    assert _b64(NEW_KEY) not in rotated.key_id


# The production guard


def _production(**values: Any) -> Settings:
    return Settings(
        environment="production",
        database_url="postgresql://registration_app:a-real-password@db/tilmeld",
        kafka_bootstrap_servers="k:9092",
        organiser_token="a-real-organiser-token",
        reporting_token="a-real-reporting-token",
        personal_data_token="a-real-personal-data-token",
        token_secret="current-secret",
        personal_data_key=_b64(NEW_KEY),
        **values,
    )


def test_production_refuses_a_former_secret_or_key_that_is_the_current_one() -> None:
    with pytest.raises(ValidationError) as refused:
        _production(
            token_secrets_previous="older-secret, current-secret",
            personal_data_keys_previous=f"{_b64(OLD_KEY)},{_b64(NEW_KEY)}",
        )

    message = str(refused.value).split("[type=")[0]
    assert "TOKEN_SECRETS_PREVIOUS repeats TOKEN_SECRET" in message
    assert "PERSONAL_DATA_KEYS_PREVIOUS repeats PERSONAL_DATA_KEY" in message
    assert "current-secret" not in message and _b64(NEW_KEY) not in message


def test_the_former_secrets_are_secrets_never_shown() -> None:
    settings = _production(
        token_secrets_previous="older-secret", personal_data_keys_previous=_b64(OLD_KEY)
    )

    shown = repr(settings) + str(settings) + repr(settings.effective_token_secret)
    assert "older-secret" not in shown and _b64(OLD_KEY) not in shown
    assert "current-secret" not in shown and _b64(NEW_KEY) not in shown
    assert settings.effective_token_secret.verifying() == ("current-secret", "older-secret")


def test_the_command_says_how_many_it_rewrapped(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("PERSONAL_DATA_KEY", _b64(NEW_KEY))
    monkeypatch.setenv("PERSONAL_DATA_KEYS_PREVIOUS", _b64(OLD_KEY))

    with pytest.raises(SystemExit) as exited:
        COMMANDS.main(["rotate-personal-data-key", "--batch-size", "10"])

    printed = capsys.readouterr().out
    assert exited.value.code == 0
    assert "0 member key(s) re-wrapped with the current master key" in printed
    assert _b64(NEW_KEY) not in printed and _b64(OLD_KEY) not in printed


async def test_an_erasure_during_a_batch_waits_for_it_and_then_destroys_the_rewrapped_key(
    given: Given, ctx: ServiceContext, tx: Transactions, pool: asyncpg.Pool
) -> None:
    sealed = await _people_sealed_under_the_old_key(given, ctx, pool, count=2)
    erased, kept = sealed[0].member_id, sealed[1].member_id
    serving = PersonalDataVault(NEW_KEY, [OLD_KEY])

    async with pool.acquire() as conn, conn.transaction():
        batch = await data_keys.to_rewrap(conn, current=serving.key_id, after=None, limit=10)
        erasure_waiting = asyncio.create_task(
            erasure.forget_member(tx, dataclasses.replace(given.ctx, vault=serving), erased)
        )
        await asyncio.sleep(0.3)
        assert not erasure_waiting.done()  # the batch holds the member's row
        changes = []
        for key in batch:
            new = serving.rewrap(key.member_id, key.wrapped, wrapped_by=key.wrapped_by)
            assert new is not None
            changes.append((key, new.wrapped))
        await data_keys.rewrap(conn, changes, wrapped_by=serving.key_id)
    await erasure_waiting

    assert await pool.fetchval("SELECT data_key FROM members WHERE id = $1", erased) is None
    records = await pool.fetch("SELECT member_id FROM member_data_key_wrapping")
    assert [row["member_id"] for row in records] == [kept]
    opened = await _open(tx, PersonalDataVault(NEW_KEY), sealed)
    assert opened[0] is None and opened[1] is not None
