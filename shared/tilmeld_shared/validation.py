"""Input types more exact than pydantic's lax defaults, where the contract is exact."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator


def _rfc3339_text(value: object) -> object:
    # pydantic would read "0.5" as a Unix time; the contract says RFC 3339 date-times.
    text = str(value)
    if not (text[:4].isdigit() and text[4:5] == "-"):
        raise ValueError("expected an RFC 3339 date-time, e.g. 2026-11-22T08:00:00Z")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
