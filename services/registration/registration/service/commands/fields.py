"""The shapes every command's fields share: text people type (bounded, printable, one line
where it becomes part of an email), addresses, counts; the base of every request body and
of every PATCH body."""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from tilmeld_shared.validation import INVISIBLE, JSON_INTEGER, LINE_BREAKS

# Text people type: no control characters and no lone surrogates (which the database cannot
# store), and something besides white space. The pattern tells clients (and fuzzers) the same.
# (Lone surrogates are refused too, but a pattern naming them defeats most generators.)
# One-line text (names above all, which go into emails) also has no line or paragraph
# separator and nothing invisible or bidirectional that could break or reorder a line there.
_SINGLE_LINE = LINE_BREAKS + INVISIBLE
_MULTI_LINE = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
_ONE_LINE_TEXT = Field(
    json_schema_extra={"pattern": f"^[^{_SINGLE_LINE}]*[^\\s{_SINGLE_LINE}][^{_SINGLE_LINE}]*$"}
)
_MULTI_LINE_TEXT = Field(
    json_schema_extra={"pattern": f"^[^{_MULTI_LINE}]*[^\\s{_MULTI_LINE}][^{_MULTI_LINE}]*$"}
)


def _printable(value: str, *, allowed: str = "") -> str:
    for char in value:
        code = ord(char)
        if ((code < 32 or code == 127) and char not in allowed) or 0xD800 <= code <= 0xDFFF:
            raise ValueError("contains a control character or an invalid one")
    return value


_NOT_IN_ONE_LINE = re.compile(rf"[{_SINGLE_LINE}\ud800-\udfff]")


def _one_line(value: str) -> str:
    if _NOT_IN_ONE_LINE.search(value):
        raise ValueError("contains a line break, a control character or an invisible one")
    return value


def _lines(value: str) -> str:
    return _printable(value, allowed="\t\n\r")


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
    _ONE_LINE_TEXT,
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_one_line),
    _ONE_LINE_TEXT,
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_lines),
    _MULTI_LINE_TEXT,
]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
# Counts, as JSON Schema's integers: 5.0 is 5, while 5.5, "5" and true are 422.
Companions = Annotated[StrictInt, Field(ge=0, le=10), JSON_INTEGER]
Capacity = Annotated[StrictInt, Field(ge=0, le=100_000), JSON_INTEGER]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _without_null(schema: dict[str, Any]) -> None:
    # The document of a field `kept` made: its value, without the null branch or default.
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


def kept(**constraints: Any) -> Any:
    """A PATCH field that may be left out (None: unchanged) but not sent as null, since it must
    keep a value; the OpenAPI document offers no null for it either."""
    return Field(None, json_schema_extra=_without_null, **constraints)


class Patch(Request):
    @model_validator(mode="after")
    def _kept_fields_stay_set(self) -> Self:
        nulled = sorted(
            name
            for name, field in type(self).model_fields.items()
            if field.json_schema_extra is _without_null
            and name in self.model_fields_set
            and getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave a field out to keep it")
        return self
