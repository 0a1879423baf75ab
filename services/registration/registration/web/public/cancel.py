"""Self-service cancel pages, safe from mail scanners: following the emailed link (GET) only
shows the booking and asks; only the POST from the page's button cancels."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration import tokens
from registration.api.deps import ContextDep, TransactionsDep
from registration.service import enrolments, parties, registrations
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web import headers
from registration.web.public.page import span
from registration.web.rendering import render_page
from registration.web.requests import language_of, read_form
from registration.web.words import gettext, pgettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

router = APIRouter(include_in_schema=False)
CANCEL_REGISTRATION = N_("Cancel your registration")
LEAVE_NETWORK = N_("Leave the network")
WITHDRAW_PARTY = N_("Withdraw your municipality")


def _page(request: Request, language: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The cancel page in the pages' own layout, with the language switch (which keeps the
    token in the address)."""
    return render_page(
        request, "cancel.html", language, headers=headers.PRIVATE, status=status, **context
    )


def _invalid(request: Request, stored: str | None = None) -> HTMLResponse:
    language = language_of(request, stored or "en")
    return _page(
        request,
        language,
        403,
        heading=gettext(language, "The link does not work"),
        message=gettext(language, "The link is invalid or has expired."),
    )


def _already(language: str | None) -> str:
    return gettext(language, "This registration is already cancelled.")


async def _token_from_form(request: Request) -> str:
    return (await read_form(request, max_chars=500)).get("token", "")


async def _registration_view(
    request: Request,
    ctx: ServiceContext,
    tx: Transactions,
    registration_id: uuid.UUID,
    token: str,
) -> dict[str, Any] | None:
    found = await registrations.registration_in_full(tx, registration_id)
    if found is None or not registrations.cancel_token_valid(
        ctx, registration_id, token, meeting_ends_at=found.meeting["ends_at"]
    ):
        return None
    registration, meeting, member = found.registration, found.meeting, found.member
    network = found.network
    language = language_of(request, member["language"] or network["language"])
    return {
        "language": language,
        "status": registration["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Meeting"), meeting["title"]),
            (
                pgettext(language, "cancel page", "When"),
                span(meeting["starts_at"], meeting["ends_at"], meeting["timezone"], language),
            ),
            (gettext(language, "Seats"), str(registration["seats"])),
        ],
        "words": {
            "done_heading": gettext(language, "Your registration is cancelled"),
            "already_heading": gettext(language, "Your registration is cancelled"),
        },
        "back": (
            f"/meetings/{meeting['id']}?lang={language}",
            gettext(language, "Back to the meeting"),
        ),
    }


def _ask(
    request: Request, view: dict[str, Any] | None, heading: str, action: str, token: str
) -> HTMLResponse:
    """The page the emailed link opens: the booking, and a button that asks to confirm."""
    if view is None:
        return _invalid(request)
    language = view["language"]
    words = view.get("words", {})
    common = {"details": view["details"], "back": view.get("back")}
    if view["status"] == "cancelled":
        # Opened again afterwards: the heading says how things stand, not what to do.
        return _page(
            request,
            language,
            **common,
            heading=words.get("already_heading") or gettext(language, heading),
            message=words.get("already") or _already(language),
        )
    return _page(
        request,
        language,
        **common,
        heading=gettext(language, heading),
        message=words.get("question")
        or gettext(language, "Do you want to cancel? Nothing happens until you press the button."),
        form={
            # The page after the button speaks the language this one does.
            # The token in the address too: the language switch of the page after the button
            # still opens this booking.
            "action": f"{action}?{urlencode({'token': token, 'lang': language})}",
            "token": token,
            "button": words.get("button") or gettext(language, "Confirm cancellation"),
        },
    )


async def _act(
    request: Request,
    view: dict[str, Any] | None,
    heading: str,
    cancel: Callable[[], Awaitable[object]],
) -> HTMLResponse:
    """The page after the button: cancel, and say what happened, in the heading too."""
    if view is None:
        return _invalid(request)
    language = view["language"]
    words = view.get("words", {})
    common = {"details": view["details"], "back": view.get("back")}
    try:
        await cancel()
    except Conflict:
        return _page(
            request,
            language,
            **common,
            heading=words.get("already_heading") or gettext(language, heading),
            message=words.get("already") or _already(language),
        )
    except (Forbidden, NotFound):
        return _invalid(request, language)
    return _page(
        request,
        language,
        **common,
        heading=words.get("done_heading") or gettext(language, heading),
        message=words.get("done")
        or gettext(language, "You are cancelled. Thank you for letting us know."),
    )


@router.get("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def ask_to_cancel_registration(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    view = await _registration_view(request, ctx, tx, registration_id, token)
    return _ask(
        request, view, CANCEL_REGISTRATION, f"/cancel/registrations/{registration_id}", token
    )


@router.post("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def cancel_registration_from_page(
    registration_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _registration_view(request, ctx, tx, registration_id, token)
    return await _act(
        request,
        view,
        CANCEL_REGISTRATION,
        lambda: registrations.cancel_registration(
            tx, ctx, registration_id, token=token, organiser=None, once=as_is()
        ),
    )


async def _enrolment_view(
    request: Request, ctx: ServiceContext, tx: Transactions, enrolment_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    found = await enrolments.enrolment_in_full(tx, enrolment_id)
    if found is None or not tokens.verify(
        ctx.settings.effective_token_secret,
        enrolments.CANCEL_PURPOSE,
        enrolment_id,
        token,
        now=ctx.clock.now(),
    ):
        return None
    enrolment, network, member = found
    language = language_of(request, member["language"] or network["language"])
    return {
        "language": language,
        "status": enrolment["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Network"), network["title"]),
        ],
        # Leaving a network is not cancelling a booking: its own words (Danish "Meld dig ud").
        "words": {
            "question": gettext(
                language,
                "Do you want to leave the network? Nothing happens until you press the button.",
            ),
            "button": gettext(language, "Confirm leaving the network"),
            "done": gettext(language, "You are no longer a member. Thank you for letting us know."),
            "done_heading": gettext(language, "You have left the network"),
            "already_heading": gettext(language, "You have left the network"),
            "already": gettext(language, "You are no longer a member of the network."),
        },
        "back": (
            f"/networks/{network['id']}?lang={language}",
            gettext(language, "Back to the network"),
        ),
    }


@router.get("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def ask_to_leave_network(
    enrolment_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await _enrolment_view(request, ctx, tx, enrolment_id, token)
    return _ask(request, view, LEAVE_NETWORK, f"/cancel/enrolments/{enrolment_id}", token)


@router.post("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def leave_network_from_page(
    enrolment_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _enrolment_view(request, ctx, tx, enrolment_id, token)
    return await _act(
        request,
        view,
        LEAVE_NETWORK,
        lambda: enrolments.cancel_enrolment(
            tx, ctx, enrolment_id, token=token, organiser=None, once=as_is()
        ),
    )


# A party's contact withdraws it (an application, or a joined municipality) the same way: the
# emailed link shows the party and asks, the button withdraws.


async def _party_view(
    request: Request, ctx: ServiceContext, tx: Transactions, party_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    party = await parties.get_party(tx, party_id)
    if party is None or not tokens.verify(
        ctx.settings.effective_token_secret, parties.WITHDRAW_PURPOSE, party_id, token, now=None
    ):
        return None
    language = language_of(request, party["contact_language"] or "en")
    return {
        "language": language,
        # The cancel page's words for "nothing left to do": withdrawn or declined already.
        "status": "active" if party["status"] in parties.STANDING else "cancelled",
        "details": [
            (gettext(language, "Municipality"), party["municipality"]),
            (gettext(language, "Name"), party["contact_name"] or ""),
        ],
        "words": {
            "already": gettext(
                language, "The municipality has withdrawn already, or its application was declined."
            ),
            "question": gettext(
                language,
                "Do you want to withdraw the municipality? Nothing happens until you press the "
                "button.",
            ),
            "button": gettext(language, "Confirm withdrawal"),
            "done": gettext(
                language, "The municipality has withdrawn. Thank you for letting us know."
            ),
            "done_heading": gettext(language, "The municipality has withdrawn"),
        },
    }


@router.get("/cancel/parties/{party_id}", response_class=HTMLResponse)
async def ask_to_withdraw_party(
    party_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await _party_view(request, ctx, tx, party_id, token)
    return _ask(request, view, WITHDRAW_PARTY, f"/cancel/parties/{party_id}", token)


@router.post("/cancel/parties/{party_id}", response_class=HTMLResponse)
async def withdraw_party_from_page(
    party_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _party_view(request, ctx, tx, party_id, token)
    return await _act(
        request,
        view,
        WITHDRAW_PARTY,
        lambda: parties.withdraw(
            tx, ctx, party_id, token=token, reason=None, organiser=None, once=as_is()
        ),
    )
