"""A network of municipalities on its public page: its parties, the form a municipality joins
or applies with (posted to public/networks.py, answered as the enrol form is), and the page
the form leads to."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from registration.api.deps import TransactionsDep
from registration.service import parties
from registration.unit_of_work import ServiceContext, Transactions
from registration.web.public.forms import field_errors
from registration.web.public.page import not_found, render
from registration.web.requests import language_of
from registration.web.words import gettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Invalid

router = APIRouter(include_in_schema=False)

# The form's fields are prefixed, so they stay apart from the enrol form's on the same page.
PREFIX = "party_"
UNKNOWN = N_(
    "We could not find that municipality. Check the spelling, or enter its official number."
)
AMBIGUOUS = N_("That name fits more than one municipality. Enter its official number instead.")


async def party_section(ctx: ServiceContext, tx: Transactions, network: Any) -> dict[str, Any]:
    """What the network page shows of its parties: the joined ones, and whether it takes
    applications now."""
    if network["membership"] != "municipalities":
        return {"parties": [], "takes_parties": False, "applications_closed": False}
    found = await parties.list_parties(
        tx, network["id"], caller=None, status=None, limit=500, cursor=None
    )
    close_at = network["applications_close_at"]
    return {
        "parties": [row["municipality"] for row in found.rows],
        "takes_parties": network["status"] == "open",
        "applications_closed": close_at is not None and ctx.clock.now() > close_at,
    }


def party_from(form: dict[str, str], lang: str) -> dict[str, Any]:
    """The form's fields as the API's body, the contact speaking the page's language."""

    def value(name: str) -> str:
        return form.get(PREFIX + name, "").strip()

    return {
        "municipality": value("municipality"),
        "contact": {
            "name": value("name"),
            "email": value("email"),
            "role": value("role"),
            "language": lang,
        },
        "statement": value("statement") or None,
    }


def form_errors(error: ValidationError | Invalid, lang: str) -> dict[str, str]:
    """What is wrong with the form, by its (prefixed) fields: pydantic's findings, or the
    register's answer to the name (not found, or more than one)."""
    if isinstance(error, ValidationError):
        return {PREFIX + name: message for name, message in field_errors(error, lang).items()}
    ambiguous = any("ambiguous" in str(item.get("message")) for item in error.extensions["errors"])
    return {PREFIX + "municipality": gettext(lang, AMBIGUOUS if ambiguous else UNKNOWN)}


@router.get("/parties/{party_id}/received", response_class=HTMLResponse)
async def party_received(party_id: uuid.UUID, request: Request, tx: TransactionsDep) -> Response:
    """Where the form leads: the application received, or the municipality welcomed."""
    party = await parties.get_party(tx, party_id)
    if party is None:
        return not_found(request)
    lang = language_of(request)
    values = {"municipality": party["municipality"]}
    if party["status"] == "applied":
        heading = gettext(lang, "Application received")
        message = gettext(
            lang,
            "The organisers will decide on the application from %(municipality)s. The contact "
            "person hears from us by email.",
            **values,
        )
    else:
        heading = gettext(lang, "Your municipality has joined")
        message = gettext(
            lang,
            "%(municipality)s is now a member of the network. The contact person hears from us "
            "by email.",
            **values,
        )
    return render(
        request,
        "done.html",
        lang,
        heading=heading,
        message=message,
        back_url=f"/networks/{party['network_id']}?lang={lang}",
    )
