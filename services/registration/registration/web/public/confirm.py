"""The emailed link that confirms a person's address, so what they said in the member dialogue
counts: following it (GET) shows what it would confirm and a button; only the button's POST
confirms, so a mail scanner that opens every link confirms nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import address_confirmations, networks
from registration.service.address_confirmations import ConfirmationView
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public.page import render
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.problems import Problem

router = APIRouter(include_in_schema=False)


async def _language(
    request: Request, tx: Transactions, view: ConfirmationView | None
) -> tuple[str, Any]:
    """The page's language (the network's, unless the person chose), and the network."""
    if view is None:
        return language_of(request), None
    network = await networks.get_network(tx, view.confirmation["network_id"])
    return language_of(request, network["language"]), network


def _said(view: ConfirmationView, lang: str) -> list[tuple[str, str, str | None]]:
    """What waits for (or was counted by) the confirmation, one line per kind."""
    lines: list[tuple[str, str, str | None]] = []
    if view.responses:
        lines.append((gettext(lang, "Answers to consultations"), str(view.responses), None))
    if view.proposals:
        lines.append((gettext(lang, "Topic proposals"), str(view.proposals), None))
    if view.votes:
        lines.append((gettext(lang, "Votes"), str(view.votes), None))
    return lines


def _invalid(request: Request, lang: str) -> HTMLResponse:
    return render(
        request,
        "dialogue_state.html",
        lang,
        status=403,
        private=True,
        heading=gettext(lang, "The link does not work"),
        message=gettext(lang, "The link is invalid or has expired."),
    )


async def _view(
    tx: Transactions, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> ConfirmationView | None:
    try:
        return await address_confirmations.show_confirmation(tx, ctx, confirmation_id, token)
    except Problem:
        return None


@router.get("/confirm/{confirmation_id}", response_class=HTMLResponse)
async def ask_to_confirm(
    confirmation_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    """What the link would confirm, and the button that does; nothing changes here."""
    view = await _view(tx, ctx, confirmation_id, token)
    lang, network = await _language(request, tx, view)
    if view is None:
        return _invalid(request, lang)
    common: dict[str, Any] = {
        "details": [
            (gettext(lang, "Network"), network["title"], network["language"]),
            *_said(view, lang),
        ],
        "back_url": f"/networks/{network['id']}?lang={lang}",
        "back_label": gettext(lang, "Back to the network"),
    }
    if view.confirmation["status"] == "confirmed":
        return render(
            request,
            "dialogue_state.html",
            lang,
            private=True,
            done=True,
            heading=gettext(lang, "Your address is confirmed"),
            message=gettext(
                lang, "You have confirmed it already: what you send from it counts at once."
            ),
            **common,
        )
    return render(
        request,
        "dialogue_state.html",
        lang,
        private=True,
        heading=gettext(lang, "Confirm your email address"),
        message=gettext(
            lang,
            "What you have said counts once you confirm that this address is yours. Nothing "
            "happens until you press the button.",
        ),
        form={
            "action": f"/confirm/{confirmation_id}?lang={lang}",
            "token": token,
            "button": gettext(lang, "Confirm my address"),
        },
        **common,
    )


@router.post("/confirm/{confirmation_id}", response_class=HTMLResponse)
async def confirm_from_page(
    confirmation_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    """The button: the address is confirmed, and what waited for it counts."""
    token = (await read_form(request, max_chars=500)).get("token", "")
    try:
        view: ConfirmationView | None = await address_confirmations.confirm_address(
            tx, ctx, confirmation_id, token, once=as_is()
        )
    except Problem:
        view = None
    lang, network = await _language(request, tx, view)
    if view is None:
        return _invalid(request, lang)
    return render(
        request,
        "dialogue_state.html",
        lang,
        private=True,
        done=True,
        heading=gettext(lang, "Your address is confirmed"),
        message=gettext(
            lang,
            "Thank you. What you have said is counted, and what you send from this address "
            "from now on counts at once.",
        ),
        details=[
            (gettext(lang, "Network"), network["title"], network["language"]),
            *_said(view, lang),
        ],
        back_url=f"/networks/{network['id']}?lang={lang}",
        back_label=gettext(lang, "Back to the network"),
    )
