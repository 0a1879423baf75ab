"""A meeting's public page and its registration form (answered as the enrol form is)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration import tokens
from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.api.schemas import RegistrationIn, check_deliverable
from registration.service import answers, co_hosts, meetings, registrations
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public import archive, joining
from registration.web.public.confirmations import VIEW_REGISTRATION
from registration.web.public.forms import (
    companion_rows,
    companions_from,
    field_errors,
    member_from,
    problem_words,
    refused_status,
)
from registration.web.public.page import not_found, render, span, when
from registration.web.public.questions import answers_from, invalid_answers, refused_answers
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.problems import Invalid, Problem, TooManyRequests

router = APIRouter(include_in_schema=False)


async def _meeting_page(
    ctx: ServiceContext, tx: Transactions, meeting_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any]:
    """The page's data, in the language `choose` picks given the network's own."""
    meeting, network = await meetings.meeting_and_network(tx, meeting_id)
    lang = choose(network["language"])
    now = ctx.clock.now()
    closed_by = meeting["registration_deadline"] or meeting["starts_at"]
    closed_reason = (
        gettext(lang, "The meeting is cancelled.")
        if meeting["status"] == "cancelled"
        else gettext(lang, "Registration has closed.")
        if now >= closed_by
        else None
    )
    speakers = [
        ", ".join(str(s[key]) for key in ("name", "title", "organisation") if s.get(key))
        for s in meeting["speakers"] or []
    ]
    deadline = meeting["registration_deadline"]
    return {
        "lang": lang,
        "meeting": meeting,
        "network": network,
        "seats_left": max(
            meeting["capacity"] - meeting["seats_taken"] - meeting.get("seats_on_offer", 0), 0
        ),
        "when": when(meeting["starts_at"], meeting["timezone"], lang),
        "starts_iso": meeting["starts_at"].isoformat(),
        # Start and end, so a person can plan the day.
        "span": span(meeting["starts_at"], meeting["ends_at"], meeting["timezone"], lang),
        "members_only": not meeting["open_to_public"],
        "deadline": when(deadline, meeting["timezone"], lang) if deadline else None,
        "speakers": speakers,
        # A joint meeting names the networks holding it with this one.
        "co_hosts": await co_hosts.co_host_titles(tx, meeting),
        "open": closed_reason is None,
        "closed_reason": closed_reason,
        "held": meeting["status"] != "cancelled" and meeting["ends_at"] <= now,
        "max_companions": network["max_companions"],
        "questions": answers.questions_of(meeting["questions"]),
    }


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
async def show_meeting(
    meeting_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    try:
        page = await _meeting_page(ctx, tx, meeting_id, choose)
    except Problem:
        return not_found(request)
    page |= await archive.meeting_papers(request, tx, ctx, page["meeting"], page["lang"])
    # Straight after joining, the form comes filled in for the new member (joining.py).
    joined = await joining.joined_member(request, tx, ctx)
    # A participant's link carries their token: not for a shared cache or another site.
    private = "token" in request.query_params or "prefill" in request.query_params
    return render(
        request,
        "meeting.html",
        private=private,
        errors={},
        values=joined["values"] if joined else {},
        joined=joined,
        problem=None,
        **page,
    )


@router.get("/meetings/{meeting_id}/register")
async def form_address_opened(meeting_id: uuid.UUID, request: Request) -> RedirectResponse:
    """The address a refused form is shown at, opened again (its language switch, a reload
    after a while): the meeting's page, with the rest of the address kept."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/meetings/{meeting_id}{query}#register", 303)


@router.post("/meetings/{meeting_id}/register", response_class=HTMLResponse)
async def register_from_page(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=1000)
    lang = language_of(request)
    try:
        page = await _meeting_page(ctx, tx, meeting_id, lambda _: lang)
    except Problem:
        return not_found(request)
    errors: dict[str, str] = {}
    problem = None
    retry_after = None
    sent = answers_from(form, page["questions"])
    try:
        await abuse.check_address(request)
        command = RegistrationIn.model_validate(
            {
                "member": member_from(form, lang),
                "companions": companions_from(form, page["max_companions"]),
                "answers": sent,
            }
        )
        check_deliverable(command, smtputf8=ctx.settings.smtp_accepts_smtputf8)
        await abuse.check_email(command.member.email)
        registered = await registrations.register_for_meeting(
            tx, ctx, meeting_id, command, once=as_is()
        )
        registration = registered.registration
    except ValidationError as error:
        errors = {
            **{
                k: v
                for k, v in field_errors(
                    error, lang, companion_rows=companion_rows(form, page["max_companions"])
                ).items()
                if k != "answers"
            },
            **invalid_answers(error, sent, page["questions"], lang),
        }
    except Invalid as error:
        errors = refused_answers(error, page["questions"], lang)
        problem = None if errors else problem_words(error, lang)
    except Problem as error:
        problem = problem_words(error, lang)
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    else:
        view = tokens.issue(
            ctx.settings.effective_token_secret,
            VIEW_REGISTRATION,
            registration["id"],
            expires_at=page["meeting"]["ends_at"],
        )
        return RedirectResponse(
            f"/registrations/{registration['id']}/confirmation?token={view}&lang={lang}", 303
        )
    return render(
        request,
        "meeting.html",
        status=refused_status(errors, retry_after),
        retry_after=retry_after,
        private="prefill" in request.query_params,
        errors=errors,
        values=form,
        joined=await joining.joined_member(request, tx, ctx),
        problem=problem,
        **page,
    )
