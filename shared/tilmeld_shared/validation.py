"""Input types more exact than pydantic's lax defaults, where the contract is exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator


def _rfc3339_text(value: object) -> object:
    # pydantic would read "0.5" as a Unix time; the contract says RFC 3339 date-times.
    text = str(value)
    if not (text[:4].isdigit() and text[4:5] == "-"):
        raise ValueError("expected an RFC 3339 date-time, e.g. 2026-11-22T08:00:00Z")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+01:00 is a valid RFC 3339 time that falls before year 1 in UTC:
    # neither Python's arithmetic nor the database driver can hold it. And an offset such as
    # +16:09 is valid RFC 3339 that Postgres refuses as text: the instant goes on in UTC.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside the years 1 to 9999 in UTC") from None


Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_representable_in_utc)
]


def _whole_float_as_int(value: object) -> object:
    # JSON Schema's "integer" is any number with a zero fraction, 5.0 too; pydantic's strict
    # int refuses it. 5.5, "5" and true stay refused, by StrictInt after this.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a JSON body as JSON Schema defines one (5 and 5.0, never 5.5, "5" or true):
# `Annotated[StrictInt, Field(ge=..., le=...), JSON_INTEGER]`. Last, so that the bounds stay
# in the OpenAPI document (put before them, pydantic writes them as unknown keywords).
JSON_INTEGER = BeforeValidator(_whole_float_as_int)


# What nobody types into a name on purpose, as bodies of a regex character class (valid both in
# Python and in a JSON Schema `pattern`). Line breaks: the C0 and C1 controls (U+0085 is one)
# and the line and paragraph separators, all of which str.splitlines() and mail programs treat
# as a new line. Invisible: the soft hyphen, zero-width characters, bidirectional marks,
# embeddings, overrides and isolates, invisible operators and the byte-order mark.
LINE_BREAKS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
INVISIBLE = (
    r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
