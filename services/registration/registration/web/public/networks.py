"""The public list of networks, a network's page, and its enrol form.

Plain HTML forms posted the browser's way (no JavaScript needed), answered Post/Redirect/Get;
on an error the form comes back with the message beside the field and what was typed kept.
The use cases are the same ones the JSON API calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration import tokens
from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.api.schemas import EnrolmentIn, PartyIn, check_deliverable
from registration.service import coming_meetings, enrolments, meetings, networks, parties, renewal
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public.confirmations import VIEW_ENROLMENT
from registration.web.public.forms import field_errors, member_from, problem_words, refused_status
from registration.web.public.page import not_found, render, span, when
from registration.web.public.parties import form_errors, party_from, party_section
from registration.web.requests import language_of, read_form
from tilmeld_shared.problems import Invalid, Problem, TooManyRequests

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def list_networks(request: Request, tx: TransactionsDep, ctx: ContextDep) -> HTMLResponse:
    rows, _ = await networks.list_networks(tx, status="open", limit=200, cursor=None)
    lang = language_of(request)
    # The page promises the networks' coming meetings: the next three of each.
    coming = await coming_meetings.next_meetings(
        tx, ctx, [row["id"] for row in rows], per_network=3
    )
    listed = [
        {
            **dict(row),
            "coming": [
                {
                    "id": meeting["id"],
                    "title": meeting["title"],
                    "span": span(
                        meeting["starts_at"], meeting["ends_at"], meeting["timezone"], lang
                    ),
                    "starts_iso": meeting["starts_at"].isoformat(),
                    "members_only": not meeting["open_to_public"],
                }
                for meeting in coming.get(row["id"], [])
            ],
        }
        for row in rows
    ]
    return render(request, "networks.html", lang, networks=listed)


async def _network_page(
    ctx: ServiceContext, tx: Transactions, network_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any]:
    """The page's data, in the language `choose` picks given the network's own."""
    network, rows = await meetings.network_and_meetings(tx, network_id, limit=100)
    lang = choose(network["language"])
    now = ctx.clock.now()
    cards = [
        {
            "id": row["id"],
            "title": row["title"],
            "status": row["status"],
            "seats_left": max(
                row["capacity"] - row["seats_taken"] - row.get("seats_on_offer", 0), 0
            ),
            "when": when(row["starts_at"], row["timezone"], lang),
            "span": span(row["starts_at"], row["ends_at"], row["timezone"], lang),
            "starts_iso": row["starts_at"].isoformat(),
            "over": row["ends_at"] <= now,
            # Said on the card, so a non-member knows before opening it.
            "members_only": not row["open_to_public"],
        }
        for row in rows
    ]
    # Meetings that are over are an archive of what was held, newest first; cancelled ones
    # were never held.
    held = [c for c in reversed(cards) if c["over"] and c["status"] != "cancelled"]
    contact = network["contact"] or {}
    contact_line = ", ".join(
        str(contact[key]) for key in ("name", "title", "email", "phone") if contact.get(key)
    )
    return {
        "lang": lang,
        "network": network,
        "meetings": [card for card in cards if not card["over"]],
        "held": held,
        "contact": contact_line,
        **await party_section(ctx, tx, network),
    }


@router.get("/networks/{network_id}", response_class=HTMLResponse)
async def show_network(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    renew: uuid.UUID | None = None,
    token: str = "",
    meeting: uuid.UUID | None = None,
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    try:
        page = await _network_page(ctx, tx, network_id, choose)
    except Problem:
        return not_found(request)
    # The renew link of a term's end: the enrol form filled in with the member's details.
    values = await renewal.renewal_form(tx, ctx, network_id, renew, token) if renew else None
    # Sent here from a members' meeting: joining leads on to that meeting's form.
    chosen = _chosen_meeting(page, str(meeting) if meeting else "")
    return render(
        request,
        "network.html",
        private=renew is not None,
        errors={},
        values={**(values or {}), **({"meeting": chosen["id"]} if chosen else {})},
        chosen=chosen,
        problem=None,
        **page,
    )


def _chosen_meeting(page: dict[str, Any], meeting_id: str) -> dict[str, Any] | None:
    """The coming meeting of the page a person came to join for, if it is one of them."""
    return next((card for card in page["meetings"] if str(card["id"]) == meeting_id), None)


@router.get("/networks/{network_id}/apply")
@router.get("/networks/{network_id}/enrol")
async def form_address_opened(network_id: uuid.UUID, request: Request) -> RedirectResponse:
    """The address a refused form is shown at, opened again (its language switch, a reload
    after a while): the network's page, with the rest of the address kept."""
    query = f"?{request.url.query}" if request.url.query else ""
    anchor = "#apply" if request.url.path.endswith("/apply") else "#enrol"
    return RedirectResponse(f"/networks/{network_id}{query}{anchor}", 303)


@router.post("/networks/{network_id}/apply", response_class=HTMLResponse)
async def apply_from_page(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    """A municipality joins or applies, through its contact person."""
    form = await read_form(request, max_chars=5000)
    lang = language_of(request)
    errors: dict[str, str] = {}
    problem = None
    retry_after = None
    try:
        await abuse.check_address(request)
        command = PartyIn.model_validate(party_from(form, lang))
        await abuse.check_email(command.contact.email)
        applied = await parties.apply(tx, ctx, network_id, command, once=as_is())
    except (ValidationError, Invalid) as error:
        errors = form_errors(error, lang)
    except Problem as error:
        if error.status == 404:
            return not_found(request)
        problem = problem_words(error, lang)
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    else:
        return RedirectResponse(f"/parties/{applied.party['id']}/received?lang={lang}", 303)
    page = await _network_page(ctx, tx, network_id, lambda _: lang)
    return render(
        request,
        "network.html",
        status=refused_status(errors, retry_after),
        retry_after=retry_after,
        errors={},
        values={},
        problem=None,
        party_errors=errors,
        party_values=form,
        party_problem=problem,
        **page,
    )


@router.post("/networks/{network_id}/enrol", response_class=HTMLResponse)
async def enrol_from_page(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=1000)
    lang = language_of(request)
    errors: dict[str, str] = {}
    problem = None
    retry_after = None
    try:
        await abuse.check_address(request)
        command = EnrolmentIn.model_validate(
            {"member": member_from(form, lang), "consent": form.get("consent") == "yes" or None}
        )
        check_deliverable(command, smtputf8=ctx.settings.smtp_accepts_smtputf8)
        await abuse.check_email(command.member.email)
        enrolled = await enrolments.enrol(tx, ctx, network_id, command, once=as_is())
        enrolment = enrolled.enrolment
    except ValidationError as error:
        errors = field_errors(error, lang)
    except Problem as error:
        if error.status == 404:
            return not_found(request)
        problem = problem_words(error, lang)
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    else:
        view = tokens.issue(
            ctx.settings.effective_token_secret, VIEW_ENROLMENT, enrolment["id"], expires_at=None
        )
        # The meeting the person came to join for goes along, to be offered first.
        then = f"&meeting={form['meeting']}" if _is_uuid(form.get("meeting", "")) else ""
        return RedirectResponse(
            f"/enrolments/{enrolment['id']}/confirmation?token={view}&lang={lang}{then}", 303
        )
    page = await _network_page(ctx, tx, network_id, lambda _: lang)
    return render(
        request,
        "network.html",
        status=refused_status(errors, retry_after),
        retry_after=retry_after,
        errors=errors,
        values=form,
        chosen=_chosen_meeting(page, form.get("meeting", "")),
        problem=problem,
        **page,
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
