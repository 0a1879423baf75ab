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
from typing import Any, Generic, TypeVar, cast

import asyncpg

from registration.outbox import OutboxSignal
from registration.personal_data import PersonalDataVault
from registration.repository import idempotency
from registration.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Invalid

T = TypeVar("T")
R = TypeVar("R")
UseCase = Callable[[Connection], Awaitable[T]]
# A response as an Idempotency-Key stores it, to give a retry back: status and JSON body.
Answer = tuple[int, dict[str, Any]]
Admission = Callable[[], Awaitable[None]]


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


@dataclass(frozen=True)
class Once(Generic[T, R]):
    """How a use case answers its caller, and whether it acts once per Idempotency-Key.

    With a key (`per_key`), the answer is stored in the use case's own transaction and a retry
    gets it back without acting; `admit` (rate limits) runs only when the use case will act.
    Without one (`as_is`), the caller gets the use case's result itself."""

    answer: Callable[[T], R]
    request: IdempotentRequest | None = None
    admit: Admission | None = None


def per_key(
    request: IdempotentRequest | None,
    answer: Callable[[T], Answer],
    *,
    admit: Admission | None = None,
) -> Once[T, Answer]:
    """A POST's answer, stored under its Idempotency-Key if it sent one."""
    return Once(answer, request, admit)


def as_is() -> Once[T, T]:
    """No key, no admission check: the use case's own result."""
    return Once(lambda result: result)


class Transactions:
    """The unit of work: each use case runs in one transaction (or one read) of its own, and
    a commit that may have written events wakes the outbox relay."""

    def __init__(self, pool: asyncpg.Pool, signal: OutboxSignal) -> None:
        self._pool = pool
        self._signal = signal

    async def run(self, use_case: UseCase[T]) -> T:
        async with self._pool.acquire() as conn, conn.transaction():
            result = await use_case(conn)
        self._signal.events_committed()
        return result

    async def run_one_statement(self, use_case: UseCase[T]) -> T:
        """A use case whose writes are one statement (reads before it at most): that statement
        is its transaction, with no BEGIN and COMMIT round trips around it."""
        async with self._pool.acquire() as conn:
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
        render: Callable[[T], Answer],
        *,
        admit: Admission | None = None,
    ) -> Answer:
        """Run a POST once per Idempotency-Key; a retry gets the first response back.

        `admit` (rate limits) runs only for a request that will act: a replay never counts."""
        if request is None:
            if admit is not None:
                await admit()
            return render(await self.run(use_case))
        async with self._pool.acquire() as conn, conn.transaction():
            if not await idempotency.claim(conn, request.identity, fingerprint=request.fingerprint):
                stored = await idempotency.stored(conn, request.identity)
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
            await idempotency.store(conn, request.identity, status=status, body=body)
        self._signal.events_committed()
        return status, body

    async def once(
        self, once: Once[T, R], use_case: UseCase[T], *, one_statement: bool = False
    ) -> R:
        """Run the use case in one transaction and answer as `once` says (see Once);
        `one_statement`: its writes are one statement (see run_one_statement), which is then
        its transaction unless an Idempotency-Key's row goes with it."""
        if once.request is None:
            if once.admit is not None:
                await once.admit()
            run = self.run_one_statement if one_statement else self.run
            return once.answer(await run(use_case))
        # A keyed Once is made by per_key, whose answers are Answers: R is Answer here.
        answer = cast(Callable[[T], Answer], once.answer)
        stored = await self.run_idempotent(once.request, use_case, answer, admit=once.admit)
        return cast(R, stored)

    async def purge_idempotency_keys(self, *, older_than_hours: int) -> int:
        return await idempotency.purge_expired(self._pool, older_than_hours=older_than_hours)
