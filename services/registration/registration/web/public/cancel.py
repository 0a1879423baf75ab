"""Self-service cancel pages, safe from mail scanners: following the emailed link (GET) only
shows the booking and asks; only the POST from the page's button cancels."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration import tokens
from registration.api.deps import ContextDep, TransactionsDep
from registration.service import enrolments, parties, registrations
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web import headers
from registration.web.rendering import render
from registration.web.requests import read_form
from registration.web.words import gettext, pgettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

router = APIRouter(include_in_schema=False)
CANCEL_REGISTRATION = N_("Cancel your registration")
LEAVE_NETWORK = N_("Leave the network")
WITHDRAW_PARTY = N_("Withdraw your municipality")


def _page(language: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    return render(
        "cancel.html",
        headers=headers.PRIVATE,
        status=status,
        language=language or "en",
        lang=language,
        **context,
    )


def _invalid(language: str | None) -> HTMLResponse:
    return _page(
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
    ctx: ServiceContext, tx: Transactions, registration_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    found = await registrations.registration_in_full(tx, registration_id)
    if found is None or not registrations.cancel_token_valid(
        ctx, registration_id, token, meeting_ends_at=found.meeting["ends_at"]
    ):
        return None
    registration, meeting, member = found.registration, found.meeting, found.member
    network = found.network
    language = member["language"] or network["language"]
    starts = meeting["starts_at"].astimezone(ZoneInfo(meeting["timezone"]))
    return {
        "language": language,
        "status": registration["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Meeting"), meeting["title"]),
            (
                pgettext(language, "cancel page", "When"),
                starts.strftime("%Y-%m-%d %H:%M ") + (starts.tzname() or ""),
            ),
            (gettext(language, "Seats"), str(registration["seats"])),
        ],
    }


def _ask(view: dict[str, Any] | None, heading: str, action: str, token: str) -> HTMLResponse:
    """The page the emailed link opens: the booking, and a button that asks to confirm."""
    if view is None:
        return _invalid(None)
    language = view["language"]
    common = {"heading": gettext(language, heading), "details": view["details"]}
    words = view.get("words", {})
    if view["status"] == "cancelled":
        return _page(language, **common, message=words.get("already") or _already(language))
    return _page(
        language,
        **common,
        message=words.get("question")
        or gettext(language, "Do you want to cancel? Nothing happens until you press the button."),
        form={
            "action": action,
            "token": token,
            "button": words.get("button") or gettext(language, "Confirm cancellation"),
        },
    )


async def _act(
    view: dict[str, Any] | None, heading: str, cancel: Callable[[], Awaitable[object]]
) -> HTMLResponse:
    """The page after the button: cancel, and say what happened."""
    if view is None:
        return _invalid(None)
    language = view["language"]
    common = {"heading": gettext(language, heading), "details": view["details"]}
    words = view.get("words", {})
    try:
        await cancel()
    except Conflict:
        return _page(language, **common, message=words.get("already") or _already(language))
    except (Forbidden, NotFound):
        return _invalid(language)
    return _page(
        language,
        **common,
        message=words.get("done")
        or gettext(language, "You are cancelled. Thank you for letting us know."),
    )


@router.get("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def ask_to_cancel_registration(
    registration_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await _registration_view(ctx, tx, registration_id, token)
    return _ask(view, CANCEL_REGISTRATION, f"/cancel/registrations/{registration_id}", token)


@router.post("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def cancel_registration_from_page(
    registration_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _registration_view(ctx, tx, registration_id, token)
    return await _act(
        view,
        CANCEL_REGISTRATION,
        lambda: registrations.cancel_registration(
            tx, ctx, registration_id, token=token, organiser=None, once=as_is()
        ),
    )


async def _enrolment_view(
    ctx: ServiceContext, tx: Transactions, enrolment_id: uuid.UUID, token: str
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
    language = member["language"] or network["language"]
    return {
        "language": language,
        "status": enrolment["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Network"), network["title"]),
        ],
    }


@router.get("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def ask_to_leave_network(
    enrolment_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await _enrolment_view(ctx, tx, enrolment_id, token)
    return _ask(view, LEAVE_NETWORK, f"/cancel/enrolments/{enrolment_id}", token)


@router.post("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def leave_network_from_page(
    enrolment_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _enrolment_view(ctx, tx, enrolment_id, token)
    return await _act(
        view,
        LEAVE_NETWORK,
        lambda: enrolments.cancel_enrolment(
            tx, ctx, enrolment_id, token=token, organiser=None, once=as_is()
        ),
    )


# A party's contact withdraws it (an application, or a joined municipality) the same way: the
# emailed link shows the party and asks, the button withdraws.


async def _party_view(
    ctx: ServiceContext, tx: Transactions, party_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    party = await parties.get_party(tx, party_id)
    if party is None or not tokens.verify(
        ctx.settings.effective_token_secret, parties.WITHDRAW_PURPOSE, party_id, token, now=None
    ):
        return None
    language = party["contact_language"] or "en"
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
        },
    }


@router.get("/cancel/parties/{party_id}", response_class=HTMLResponse)
async def ask_to_withdraw_party(
    party_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await _party_view(ctx, tx, party_id, token)
    return _ask(view, WITHDRAW_PARTY, f"/cancel/parties/{party_id}", token)


@router.post("/cancel/parties/{party_id}", response_class=HTMLResponse)
async def withdraw_party_from_page(
    party_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await _party_view(ctx, tx, party_id, token)
    return await _act(
        view,
        WITHDRAW_PARTY,
        lambda: parties.withdraw(
            tx, ctx, party_id, token=token, reason=None, organiser=None, once=as_is()
        ),
    )
