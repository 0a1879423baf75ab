"""Opaque keyset cursors for lists: `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tilmeld_shared.problems import Invalid


@dataclass(frozen=True)
class Cursor:
    after_time: datetime | None = None
    after_id: uuid.UUID | None = None
    after_position: int | None = None

    def encode(self) -> str:
        data = {
            "t": self.after_time.isoformat() if self.after_time else None,
            "i": str(self.after_id) if self.after_id else None,
            "p": self.after_position,
        }
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            padded = text + "=" * (-len(text) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded))
            return cls(
                after_time=datetime.fromisoformat(data["t"]) if data.get("t") else None,
                after_id=uuid.UUID(data["i"]) if data.get("i") else None,
                after_position=int(data["p"]) if data.get("p") is not None else None,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise Invalid(
                "The cursor is not one this service issued.",
                errors=[{"field": "cursor", "in": "query", "message": "malformed cursor"}],
            ) from error

    @staticmethod
    def page(
        rows: list[asyncpg.Record], limit: int, *, time_column: str, id_column: str = "id"
    ) -> tuple[list[asyncpg.Record], Cursor | None]:
        """Split a `limit + 1` fetch into the page and the cursor for the next one."""
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], Cursor(after_time=last[time_column], after_id=last[id_column])
