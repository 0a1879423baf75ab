"""The console's forms read into the API's commands, a record read back into a form, and
pydantic's errors keyed by the field they belong to."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from registration.web.words import gettext
from tilmeld_shared.i18n import N_

DEFAULT_TIMEZONE = "Europe/Copenhagen"
# A network has no time zone of its own: its closing date is read in its language's.
NETWORK_TIMEZONES = {"da": DEFAULT_TIMEZONE, "nb": "Europe/Oslo", "de": "Europe/Berlin"}


# Time zones offered in the meeting form: where the networks meet, then the rest of the Nordics
# and UTC. A meeting saved with another zone (through the API) keeps it as a further choice.
TIMEZONES = (
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Berlin",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Atlantic/Faroe",
    "America/Nuuk",
    "Atlantic/Reykjavik",
    "Europe/London",
    "UTC",
)

# Errors about the form as a whole (pydantic's model validators), told at the field they are
# about, in the organiser's words rather than the API's.
_WHOLE_FORM = {
    "ends_at must be after starts_at": ("ends_at", N_("The meeting must end after it starts.")),
    "registration_deadline must not be after starts_at": (
        "registration_deadline",
        N_("Registration must close before the meeting starts."),
    ),
}


def field_errors(error: ValidationError, lang: str) -> dict[str, str]:
    """pydantic's errors as one message per form field, in the organiser's language."""
    required, invalid = gettext(lang, "Fill in this field."), gettext(lang, "Check this value.")
    found: dict[str, str] = {}
    for item in error.errors():
        if not item["loc"]:
            text = str(item["msg"]).removeprefix("Value error, ")
            field, message = _WHOLE_FORM.get(text, ("", ""))
            if field:
                found.setdefault(field, gettext(lang, message))
                continue
        field = str(item["loc"][0]) if item["loc"] else "title"
        if field == "contact" and len(item["loc"]) > 1:
            field = f"contact_{item['loc'][1]}"
        missing = item["type"] in {"missing", "string_too_short", "too_short"}
        found.setdefault(field, required if missing else invalid)
    return found


def _number(text: str) -> int | str:
    """A number field as a number; anything else is left for validation to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


def network_body(form: dict[str, str], *, editing: bool) -> dict[str, Any]:
    """The network form as a `NetworkIn` (or, `editing`, a `NetworkPatch`) body."""
    body: dict[str, Any] = {
        key: form.get(key, "").strip() or None
        for key in ("title", "description", "purpose", "target_group", "language")
    }
    body["organisers"] = [line.strip() for line in form.get("organisers", "").splitlines()]
    body["organisers"] = [name for name in body["organisers"] if name]
    body["max_companions"] = _number(form.get("max_companions", "1").strip() or "0")
    contact = {"name": form.get("contact_name", "").strip(), "email": None}
    contact["email"] = form.get("contact_email", "").strip() or None
    body["contact"] = contact if contact["name"] else None
    body["membership"] = form.get("membership") or None
    body["admission"] = form.get("admission") or None
    zone = NETWORK_TIMEZONES.get(form.get("language", ""), DEFAULT_TIMEZONE)
    body["applications_close_at"] = _moment(form.get("applications_close_at", ""), zone)
    body["auto_register"] = form.get("auto_register") == "yes"
    body["term_ends_at"] = _moment(form.get("term_ends_at", ""), zone)
    body["waitlist"] = form.get("waitlist") or None
    body["offer_hours"] = _number(form["offer_hours"].strip()) if form.get("offer_hours") else None
    if editing:
        body["status"] = form.get("status") or None
        # Emptied, these are cleared (sent as null); the other fields keep their value.
        cleared = ("term_ends_at", "offer_hours")
        return {key: value for key, value in body.items() if value is not None or key in cleared}
    # Left out when not chosen, so the network's defaults (people, open) apply.
    optional = (
        "membership",
        "admission",
        "applications_close_at",
        "term_ends_at",
        "waitlist",
        "offer_hours",
    )
    return {key: value for key, value in body.items() if value is not None or key not in optional}


def network_values(network: Any) -> dict[str, Any]:
    """A network as the values of its edit form, its dates in its language's time zone."""
    contact = network["contact"] or {}
    zone = NETWORK_TIMEZONES.get(network["language"], DEFAULT_TIMEZONE)
    return {
        **{key: network[key] or "" for key in ("title", "description", "purpose", "target_group")},
        "language": network["language"],
        "organisers": "\n".join(network["organisers"]),
        "max_companions": network["max_companions"],
        "contact_name": contact.get("name") or "",
        "contact_email": contact.get("email") or "",
        "status": network["status"],
        "membership": network["membership"],
        "admission": network["admission"],
        "applications_close_at": _field_time(network["applications_close_at"], zone),
        "auto_register": network["auto_register"],
        "term_ends_at": _field_time(network["term_ends_at"], zone),
        "waitlist": network["waitlist"],
        "offer_hours": network["offer_hours"] or "",
    }


def _field_time(moment: datetime | None, zone: str) -> str:
    """A moment as a datetime-local field shows it ("2026-12-06T10:00"), in `zone`."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _moment(text: str, zone: str) -> str | None:
    """A datetime-local field ("2026-12-06T10:00") read in the meeting's own time zone."""
    if not text.strip():
        return None
    try:
        local = datetime.fromisoformat(text.strip()).replace(tzinfo=ZoneInfo(zone))
    except (ValueError, KeyError):
        return text  # left for validation to refuse, next to the field
    return local.isoformat()


def meeting_body(form: dict[str, str], *, editing: bool) -> dict[str, Any]:
    """The meeting form as a `MeetingIn` (or, `editing`, a `MeetingPatch`) body."""
    zone = form.get("timezone", "").strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):
        zone = "UTC"
    body: dict[str, Any] = {
        key: form.get(key, "").strip() or None
        for key in ("title", "description", "location", "online_url", "capacity")
    }
    body["timezone"] = form.get("timezone", "").strip() or DEFAULT_TIMEZONE
    for key in ("starts_at", "ends_at", "registration_deadline"):
        body[key] = _moment(form.get(key, ""), zone)
    body["open_to_public"] = form.get("open_to_public") == "yes"
    body["capacity"] = _number(body["capacity"]) if body["capacity"] is not None else None
    # One checkbox per network of the organisation that could hold the meeting too; a form that
    # did not offer them (an organisation of one network) leaves the co-hosts as they are.
    if form.get("co_hosts_offered") == "yes":
        body["co_hosts"] = [
            key.removeprefix("co_host_") for key in form if key.startswith("co_host_")
        ]
    body["waitlist"] = form.get("waitlist") or None
    body["offer_hours"] = _number(form["offer_hours"].strip()) if form.get("offer_hours") else None
    if editing:
        # Empty waitlist fields mean "as the network says": sent as null to clear the meeting's.
        kept = ("waitlist", "offer_hours")
        return {key: value for key, value in body.items() if value is not None or key in kept}
    return {key: value for key, value in body.items() if value is not None or key == "capacity"}


def meeting_values(meeting: Any) -> dict[str, Any]:
    """A meeting as the values of its edit form, its times in its own time zone."""
    zone = meeting["timezone"]

    def local(moment: datetime | None) -> str:
        return _field_time(moment, zone)

    return {
        **{key: meeting[key] or "" for key in ("title", "description", "location", "online_url")},
        "timezone": meeting["timezone"],
        "capacity": meeting["capacity"],
        "starts_at": local(meeting["starts_at"]),
        "ends_at": local(meeting["ends_at"]),
        "registration_deadline": local(meeting["registration_deadline"]),
        "open_to_public": meeting["open_to_public"],
        "co_hosts": [str(network_id) for network_id in meeting["co_hosts"]],
        "waitlist": meeting["waitlist"] or "",
        "offer_hours": meeting["offer_hours"] or "",
    }
