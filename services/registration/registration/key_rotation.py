"""Re-wrapping every member's data key with the current master key (`PERSONAL_DATA_KEY`).

Batch by batch, each batch its own transaction: the batch's members are locked, their keys
unwrapped with whichever configured master key wrapped them and wrapped again with the current
one, and the master key recorded. A reader at any moment finds either the old wrapping or the
new one, and the running service (with the former key in `PERSONAL_DATA_KEYS_PREVIOUS`) opens
both. Interrupted, it resumes: what is recorded under the current key is not looked at again.
The data keys themselves never change, so nothing sealed with them needs touching, and erasure
stays what it was: a member without a data key is not looked at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from registration.personal_data import PersonalDataVault
from registration.repository import data_keys

BATCH_SIZE = 500


@dataclass(frozen=True)
class Rotation:
    rewrapped: int = 0
    """Member keys a former master key wrapped, now wrapped by the current one."""
    already_current: int = 0
    """Member keys the current master key already wrapped, now recorded as such."""
    unreadable: int = 0
    """Member keys no configured master key opens: left as they are."""
    remaining: int = 0
    """Member keys not recorded under the current master key once the run ended (the
    unreadable ones, and any written meanwhile without a record)."""


async def rotate(
    pool: asyncpg.Pool, vault: PersonalDataVault, *, batch_size: int = BATCH_SIZE
) -> Rotation:
    """Re-wrap every member key not yet recorded under the current master key."""
    rewrapped = already_current = unreadable = 0
    after: uuid.UUID | None = None
    while True:
        async with pool.acquire() as conn, conn.transaction():
            batch = await data_keys.to_rewrap(
                conn, current=vault.key_id, after=after, limit=batch_size
            )
            if not batch:
                break
            changes = []
            for key in batch:
                new = vault.rewrap(key.member_id, key.wrapped, wrapped_by=key.wrapped_by)
                if new is None:
                    unreadable += 1
                    continue
                changes.append((key, new.wrapped))
                rewrapped += new.changed
                already_current += not new.changed
            await data_keys.rewrap(conn, changes, wrapped_by=vault.key_id)
            after = batch[-1].member_id
    async with pool.acquire() as conn:
        remaining = await data_keys.not_under(conn, vault.key_id)
    return Rotation(rewrapped, already_current, unreadable, remaining)
