"""One use case, one transaction; and the Idempotency-Key replay inside that same transaction.

The key row is inserted first, so a concurrent retry with the same key blocks on it until the
first request commits, then reads the stored response: retries are answered alike and act once.
If the use case fails, the transaction (key row included) rolls back and a retry runs afresh.
Keys belong to their caller: another caller's same key is a different request, never a replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from registration.outbox import OutboxSignal
from registration.personal_data import PersonalDataVault
from registration.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Invalid

T = TypeVar("T")
UseCase = Callable[[Connection], Awaitable[T]]

CLAIM_KEY = """
INSERT INTO idempotency_keys (caller, key, route, request_fingerprint)
VALUES ($1, $2, $3, $4)
ON CONFLICT (caller, key, route) DO NOTHING
RETURNING key
"""

STORED_RESPONSE = """
SELECT request_fingerprint, response_status, response_body
FROM idempotency_keys WHERE caller = $1 AND key = $2 AND route = $3
"""

STORE_RESPONSE = """
UPDATE idempotency_keys SET response_status = $4, response_body = $5
WHERE caller = $1 AND key = $2 AND route = $3
"""

PURGE_EXPIRED = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)"


@dataclass(frozen=True)
class IdempotentRequest:
    # Whose key it is: "platform", "organisation:<id>", or "person:<digest of the address>".
    caller: str
    key: str
    route: str
    fingerprint: str

    @classmethod
    def of(
        cls, key: str, *, caller: str, method: str, path: str, canonical_body: str
    ) -> IdempotentRequest:
        digest = hashlib.sha256(canonical_body.encode()).hexdigest()
        return cls(caller=caller, key=key, route=f"{method} {path}", fingerprint=digest)

    @property
    def identity(self) -> tuple[str, str, str]:
        return self.caller, self.key, self.route


@dataclass(frozen=True)
class Clock:
    """The time use cases see; tests pin it."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    clock: Clock
    vault: PersonalDataVault


class Transactions:
    def __init__(self, pool: asyncpg.Pool, signal: OutboxSignal) -> None:
        self._pool = pool
        self._signal = signal

    async def run(self, use_case: UseCase[T]) -> T:
        async with self._pool.acquire() as conn, conn.transaction():
            result = await use_case(conn)
        self._signal.events_committed()
        return result

    async def read(self, query: UseCase[T]) -> T:
        async with self._pool.acquire() as conn:
            return await query(conn)

    async def run_idempotent(
        self,
        request: IdempotentRequest | None,
        use_case: UseCase[T],
        render: Callable[[T], tuple[int, dict[str, Any]]],
        *,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Run a POST once per Idempotency-Key; a retry gets the first response back.

        `admit` (rate limits) runs only for a request that will act: a replay never counts."""
        if request is None:
            if admit is not None:
                await admit()
            return render(await self.run(use_case))
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(CLAIM_KEY, *request.identity, request.fingerprint)
            if claimed is None:
                stored = await conn.fetchrow(STORED_RESPONSE, *request.identity)
                assert stored is not None  # the conflicting row is committed, or we would block
                if stored["request_fingerprint"] != request.fingerprint:
                    raise Invalid(
                        "This Idempotency-Key was used with a different request body.",
                        errors=[
                            {
                                "field": "Idempotency-Key",
                                "in": "header",
                                "message": "reused with a different body",
                            }
                        ],
                    )
                return stored["response_status"], stored["response_body"]
            if admit is not None:
                await admit()  # refused: the claimed key rolls back with the transaction
            status, body = render(await use_case(conn))
            await conn.execute(STORE_RESPONSE, *request.identity, status, body)
        self._signal.events_committed()
        return status, body

    async def purge_idempotency_keys(self, *, older_than_hours: int) -> int:
        result = await self._pool.execute(PURGE_EXPIRED, older_than_hours)
        return int(result.split()[-1])
