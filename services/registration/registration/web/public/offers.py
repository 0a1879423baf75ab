"""The page of a seat offered from the waitlist, safe from mail scanners as the cancel pages
are: following the emailed link (GET) shows the offer and until when the seat is held; only
the POST from the page's button takes it. A lapsed, declined or cancelled offer says so."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import offers
from registration.unit_of_work import as_is
from registration.web import headers
from registration.web.public.page import when
from registration.web.rendering import render_page
from registration.web.requests import language_of, read_form
from registration.web.words import gettext, pgettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

router = APIRouter(include_in_schema=False)
HEADING = N_("A seat for you")


def _page(
    request: Request, language: str, context: dict[str, object], *, status: int = 200
) -> HTMLResponse:
    """The offer page in the pages' own layout; a language asked for in the address wins."""
    return render_page(
        request,
        "offer.html",
        language_of(request, language),
        headers=headers.PRIVATE,
        status=status,
        **context,
    )


def _invalid(request: Request) -> HTMLResponse:
    language = language_of(request, "en")
    return _page(
        request,
        language,
        {
            "heading": gettext(language, "The link does not work"),
            "message": gettext(language, "The link is invalid or has expired."),
        },
        status=403,
    )


def _shown(
    request: Request, offer: offers.Offer, *, token: str, accepted_now: bool = False
) -> HTMLResponse:
    registration, meeting, member = offer.registration, offer.meeting, offer.member
    language = language_of(request, member["language"] or offer.network["language"])
    zone = meeting["timezone"]
    details = [
        (gettext(language, "Name"), member["name"] or ""),
        (gettext(language, "Meeting"), meeting["title"]),
        (pgettext(language, "cancel page", "When"), when(meeting["starts_at"], zone, language)),
        (gettext(language, "Seats"), str(registration["seats"])),
    ]
    expires_at = registration["offer_expires_at"]
    until = when(expires_at, zone, language) if expires_at else ""
    if offer.status == "open":
        details.append((gettext(language, "Held for you until"), until))
    common: dict[str, object] = {"heading": gettext(language, HEADING), "details": details}
    if accepted_now:
        message = gettext(
            language, "The seat is yours: you are registered. A confirmation is on its way."
        )
    elif meeting["status"] == "cancelled":
        message = gettext(language, "The meeting is cancelled.")
    elif offer.status == "open":
        return _page(
            request,
            language,
            {
                **common,
                "message": gettext(
                    language,
                    "A seat has become free and is held for you until %(until)s. Nothing happens "
                    "until you press the button.",
                    until=until,
                ),
                "form": {
                    "action": f"/offer/registrations/{registration['id']}",
                    "token": token,
                    "button": gettext(language, "Accept the seat"),
                },
            },
        )
    elif offer.status == "accepted":
        message = gettext(language, "You have accepted the seat: you are registered.")
    elif offer.status == "expired":
        message = gettext(
            language,
            "The offer expired at %(until)s, so the seat has gone to the next person on the "
            "waitlist.",
            until=until,
        )
    elif offer.status == "declined" or registration["status"] == "cancelled":
        message = gettext(
            language, "This registration is cancelled, so there is no seat to accept."
        )
    else:
        message = gettext(
            language,
            "There is no seat on offer for this registration. You are on the waitlist; if a seat "
            "becomes free for you, you will get an email.",
        )
    return _page(request, language, {**common, "message": message})


@router.get("/offer/registrations/{registration_id}", response_class=HTMLResponse)
async def show_offer(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    try:
        offer = await offers.offer_for_person(tx, ctx, registration_id, token=token)
    except (Forbidden, NotFound):
        return _invalid(request)
    return _shown(request, offer, token=token)


@router.post("/offer/registrations/{registration_id}", response_class=HTMLResponse)
async def accept_offer_from_page(
    registration_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = (await read_form(request, max_chars=500)).get("token", "")
    try:
        await offers.accept_offer(tx, ctx, registration_id, token=token, once=as_is())
        accepted_now = True
    except Conflict:
        accepted_now = False  # the page below says why (expired, cancelled, ...)
    except (Forbidden, NotFound):
        return _invalid(request)
    offer = await offers.offer_for_person(tx, ctx, registration_id, token=token)
    return _shown(request, offer, token=token, accepted_now=accepted_now)
