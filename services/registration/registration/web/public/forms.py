"""The public forms read into the API's commands, and pydantic's answers read back to people."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from registration.web.words import CONFLICT_MESSAGES, gettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Problem

PERSON_FIELDS = ("name", "email", "municipality", "role", "organisation")
# How an error names its field; a companion's fields, and the rest, are "companions".
FIELD_LABELS = {
    "name": N_("Name"),
    "email": N_("Email"),
    "municipality": N_("Municipality"),
    "role": N_("Job title"),
    "organisation": N_("Organisation"),
    "statement": N_("Statement"),
}


def member_from(form: dict[str, str], lang: str) -> dict[str, Any]:
    """The person's fields as the API's `member`, speaking the page's language."""
    member: dict[str, Any] = {name: form.get(name, "").strip() for name in PERSON_FIELDS}
    member["organisation"] = member["organisation"] or None
    member["language"] = lang
    return member


def companions_from(form: dict[str, str], allowed: int) -> list[dict[str, Any]]:
    """Companion rows the person filled in (a row left empty is no companion)."""
    companions = []
    for number in companion_rows(form, allowed):
        name = form.get(f"companion_{number}_name", "").strip()
        role = form.get(f"companion_{number}_role", "").strip()
        companions.append({"name": name, "role": role or None})
    return companions


def companion_rows(form: dict[str, str], allowed: int) -> list[int]:
    """The numbers of the form's companion rows that are filled in, in order: the row each
    companion of `companions_from` came from (row 2 filled alone is the first companion)."""
    return [
        number
        for number in range(1, allowed + 1)
        if form.get(f"companion_{number}_name", "").strip()
        or form.get(f"companion_{number}_role", "").strip()
    ]


def field_errors(
    error: ValidationError, lang: str, *, companion_rows: list[int] | None = None
) -> dict[str, str]:
    """pydantic's errors, as a person reads them, keyed by the form field they belong to;
    `companion_rows` says which form row each companion came from."""
    messages: dict[str, str] = {}
    for item in error.errors():
        # A check of the whole body (no field named) is about the municipality's fields.
        location = [str(part) for part in item["loc"]] or ["municipality"]
        if location[0] in {"member", "contact"}:
            name = location[1]
        elif location[0] == "companions" and len(location) > 2:
            index = int(location[1])
            rows = companion_rows or []
            number = rows[index] if index < len(rows) else index + 1
            name = f"companion_{number}_{location[2]}"
        else:
            name = location[0]
        companion = name.split("_") if name.startswith("companion_") else None
        # A companion row's field is worded as the person's own (its name, its job title).
        label_of = FIELD_LABELS.get(companion[2] if companion else name, N_("Companions"))
        label = gettext(lang, label_of).lower()
        if name == "consent":
            message = gettext(lang, "You need to agree to join.")
        elif name == "email" and item["type"] in {"value_error", "string_type"}:
            message = gettext(lang, "Enter a valid email address, like name@council.gov.uk.")
        elif item["type"] == "address_needs_smtputf8":
            message = gettext(
                lang,
                "Our mail server cannot write to an address with letters like ø or ü before the"
                " @. Enter another address.",
            )
        elif item["type"] in {"missing", "string_too_short"}:
            message = gettext(lang, "Enter %(field)s.", field=label)
        elif item["type"] == "string_too_long":
            message = gettext(lang, "%(field)s is too long.", field=label.capitalize())
        else:
            message = gettext(lang, "Check %(field)s.", field=label)
        if companion:
            # Which row: "Companion 2: Enter name." in the summary as beside the field.
            row = gettext(lang, "Companion %(n)s", n=companion[1])
            message = gettext(lang, "%(row)s: %(error)s", row=row, error=message)
        messages.setdefault(name, message)
    return messages


def problem_words(problem: Problem, lang: str) -> str:
    """A conflict the service raised, as the person reads it."""
    message = CONFLICT_MESSAGES.get(problem.slug)
    return gettext(lang, message) if message else problem.detail


def refused_status(errors: dict[str, str], retry_after: int | None) -> int:
    """The status a refused form comes back with: rate limited, invalid, or a conflict."""
    return 429 if retry_after is not None else 422 if errors else 409
