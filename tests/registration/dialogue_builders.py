"""Builders and readers the member dialogue's tests share: a consultation's body, the outbox's
dialogue events, and confirming a person's address as their emailed link would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from registration.service import address_confirmations
from registration.unit_of_work import ServiceContext, Transactions, as_is

TEXT, CHOICE, SCALE = "text", "choice", "scale"


def consultation_body(
    *,
    audience: str = "members",
    opens_in: timedelta = timedelta(minutes=-1),
    lasts: timedelta = timedelta(days=7),
    **overrides: Any,
) -> dict[str, Any]:
    """A consultation of three questions (free text, a required choice, a scale 1..5), open
    since a minute ago for a week unless said."""
    opens = datetime.now(UTC).replace(microsecond=0) + opens_in
    return {
        "title": "Kultur for framtida: Medlemsdialog",
        "description": "Hva forventer kommunene av kulturfeltet?",
        "questions": [
            {"text": "Hva er viktigst for dere?", "kind": TEXT},
            {
                "text": "Hvilket område bør prioriteres?",
                "kind": CHOICE,
                "options": ["Kulturskole", "Bibliotek", "Frivillighet"],
                "required": True,
            },
            {"text": "Hvor fornøyd er dere med samarbeidet?", "kind": SCALE},
        ],
        "opens_at": opens.isoformat(),
        "closes_at": (opens + lasts).isoformat(),
        "audience": audience,
        **overrides,
    }


def answers_to(
    questions: list[Any],
    *,
    text: str | None = "Mer samarbeid",
    choice: str = "Bibliotek",
    scale: int = 4,
) -> list[dict[str, Any]]:
    """Answers to consultation_body's questions (as the consultation stored them)."""
    by_kind = {question["kind"]: str(question["question_id"]) for question in questions}
    answers: list[dict[str, Any]] = [
        {"question_id": by_kind[CHOICE], "value": choice},
        {"question_id": by_kind[SCALE], "value": scale},
    ]
    if text is not None:
        answers.insert(0, {"question_id": by_kind[TEXT], "value": text})
    return answers


def envelope_of(row: asyncpg.Record) -> dict[str, Any]:
    envelope = row["envelope"]
    return json.loads(envelope) if isinstance(envelope, str) else dict(envelope)


async def events(
    pool: asyncpg.Pool, event_type: str | None = None, *, aggregate_id: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    """The outbox's envelopes on the dialogue topic (of one type, or aggregate), in order."""
    rows = await pool.fetch(
        "SELECT envelope, message_key, topic FROM outbox "
        "WHERE ($1::text IS NULL OR event_type = $1) AND ($2::uuid IS NULL OR aggregate_id = $2) "
        "ORDER BY id",
        event_type,
        aggregate_id,
    )
    return [{**envelope_of(row), "key": row["message_key"], "topic": row["topic"]} for row in rows]


async def confirmation_of(pool: asyncpg.Pool, email: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT c.* FROM address_confirmations c JOIN members m ON m.id = c.member_id "
        "WHERE lower(m.email) = lower($1)",
        email,
    )


async def confirm(tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool, email: str) -> Any:
    """Follow the person's emailed link and press the button."""
    row = await confirmation_of(pool, email)
    assert row is not None, f"no confirmation was asked of {email}"
    token = address_confirmations.confirm_token(ctx, row["id"])
    return await address_confirmations.confirm_address(tx, ctx, row["id"], token, once=as_is())
