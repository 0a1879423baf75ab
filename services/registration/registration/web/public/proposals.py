"""A network's topic proposals on its public page: the published ones ranked by votes, each with
its vote button, and the form a member proposes a topic with.

Both forms answer as the enrol form does (Post/Redirect/Get, an error summary, what was typed
kept, no JavaScript). The vote form is one form: the person's fields, then a submit button by
each topic naming it; the proposal form's fields are prefixed to stay apart from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.service import meetings, proposals, votes
from registration.service.dialogue_commands import ProposalIn, VoteIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public.dialogue import (
    NEEDS_SMTPUTF8,
    admit_voice,
    person_errors,
    person_from,
    refusal_words,
    refused_status,
    undeliverable,
)
from registration.web.public.page import not_found, render, when
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.problems import Conflict, Problem, TooManyRequests

router = APIRouter(include_in_schema=False)
PREFIX = "proposal_"
MOST_LISTED = 200


async def _proposals_page(
    ctx: ServiceContext, tx: Transactions, network_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any]:
    """The page's data, in the language `choose` picks given the network's own (NotFound
    when there is no such network)."""
    network, upcoming = await meetings.network_and_meetings(tx, network_id, limit=100)
    lang = choose(network["language"])
    found = await proposals.list_proposals(
        tx, network_id, caller=None, sort="votes", status=None, limit=MOST_LISTED, cursor=None
    )
    titles = {row["id"]: row for row in upcoming}
    listed = []
    for row in found.rows:
        meeting = titles.get(row["meeting_id"]) if row["meeting_id"] else None
        listed.append(
            {
                "id": row["id"],
                "title": row["title"],
                "body": row["body"],
                "votes": row["votes"],
                "scheduled_on": (
                    f"{meeting['title']}, {when(meeting['starts_at'], meeting['timezone'], lang)}"
                    if meeting
                    else None
                ),
            }
        )
    return {
        "lang": lang,
        "network": network,
        "proposals": listed,
        "takes_proposals": network["proposals"] != "off" and network["status"] == "open",
        "moderated": network["proposals"] == "moderated",
    }


async def _page_or_none(
    ctx: ServiceContext, tx: Transactions, network_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any] | None:
    try:
        return await _proposals_page(ctx, tx, network_id, choose)
    except Problem:
        return None


@router.get("/networks/{network_id}/proposals", response_class=HTMLResponse)
async def show_proposals(
    network_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    page = await _page_or_none(ctx, tx, network_id, choose)
    if page is None:
        return not_found(request)
    return render(request, "proposals.html", errors={}, values={}, problem=None, **page)


@router.post("/networks/{network_id}/proposals/vote", response_class=HTMLResponse)
async def vote_from_page(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    """A vote for the topic whose button was pressed."""
    form = await read_form(request, max_chars=1000)
    lang = language_of(request)
    errors: dict[str, str] = {}
    problem = None
    refused = 409
    retry_after = None
    try:
        command = VoteIn.model_validate({"member": person_from(form, lang)})
        proposal_id = uuid.UUID(form.get("proposal_id", ""))
        if undeliverable(command.member.email, smtputf8=ctx.settings.smtp_accepts_smtputf8):
            errors = {"email": gettext(lang, NEEDS_SMTPUTF8)}
        else:
            await admit_voice(abuse, request, command.member.email)
            voted = await votes.vote(tx, ctx, proposal_id, command, once=as_is())
            # The page after the vote carries its token: the voter can take the vote back there.
            return RedirectResponse(
                f"/networks/{network_id}/proposals/voted?status={voted.vote['status']}"
                f"&vote={voted.vote['id']}&token={voted.token}&lang={lang}",
                303,
            )
    except ValidationError as error:
        errors = person_errors(error, lang)
    except ValueError:  # no topic named, or not one of ours: the list is shown again
        problem = gettext(lang, "Press the button by the topic you vote for.")
    except Problem as error:
        problem, refused = refusal_words(error, lang), error.status
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    page = await _page_or_none(ctx, tx, network_id, lambda _: lang)
    if page is None:
        return not_found(request)
    return render(
        request,
        "proposals.html",
        status=refused_status(errors, retry_after, refused),
        retry_after=retry_after,
        errors=errors,
        values=form,
        problem=problem,
        **page,
    )


def _proposal_errors(error: ValidationError, lang: str) -> dict[str, str]:
    """pydantic's findings on the proposal form: the person's fields and the topic's."""
    found = person_errors(error, lang, PREFIX)
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        if name == "title":
            message = (
                gettext(lang, "The topic is too long.")
                if item["type"] == "string_too_long"
                else gettext(lang, "Enter the topic.")
            )
        elif name == "body":
            message = (
                gettext(lang, "The text is too long.")
                if item["type"] == "string_too_long"
                else gettext(lang, "Say in a few sentences why the topic matters.")
            )
        else:
            continue
        found.setdefault(PREFIX + name, message)
    return found


@router.post("/networks/{network_id}/proposals/new", response_class=HTMLResponse)
async def propose_from_page(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=5000)
    lang = language_of(request)
    errors: dict[str, str] = {}
    problem = None
    refused = 409
    retry_after = None
    try:
        command = ProposalIn.model_validate(
            {
                "member": person_from(form, lang, PREFIX),
                "title": form.get(PREFIX + "title", "").strip(),
                "body": form.get(PREFIX + "body", "").strip(),
            }
        )
        if undeliverable(command.member.email, smtputf8=ctx.settings.smtp_accepts_smtputf8):
            errors = {PREFIX + "email": gettext(lang, NEEDS_SMTPUTF8)}
        else:
            await admit_voice(abuse, request, command.member.email)
            proposal = await proposals.submit_proposal(tx, ctx, network_id, command, once=as_is())
            state = (
                "pending"
                if not proposal["counted"]
                else "published"
                if proposal["status"] == "published"
                else "review"
            )
            return RedirectResponse(
                f"/networks/{network_id}/proposals/sent?state={state}&lang={lang}", 303
            )
    except ValidationError as error:
        errors = _proposal_errors(error, lang)
    except Problem as error:
        if error.status == 404:
            return not_found(request)
        problem, refused = refusal_words(error, lang), error.status
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    page = await _page_or_none(ctx, tx, network_id, lambda _: lang)
    if page is None:
        return not_found(request)
    return render(
        request,
        "proposals.html",
        status=refused_status(errors, retry_after, refused),
        retry_after=retry_after,
        errors={},
        values={},
        problem=None,
        proposal_errors=errors,
        proposal_values=form,
        proposal_problem=problem,
        **page,
    )


@router.get("/networks/{network_id}/proposals/voted", response_class=HTMLResponse)
async def voted(
    network_id: uuid.UUID, request: Request, status: str = "", vote: str = "", token: str = ""
) -> HTMLResponse:
    """Where a vote leads: counted, or waiting for the person to confirm their address; and the
    button that takes the vote back (the address carries the vote's token: a private page)."""
    lang = language_of(request)
    if status == "pending":
        heading = gettext(lang, "Check your email")
        message = gettext(
            lang,
            "Thank you for your vote. We have sent you a link to confirm your email address: "
            "your vote counts once you have confirmed it.",
        )
    else:
        heading = gettext(lang, "Your vote is counted")
        message = gettext(lang, "Thank you for your vote.")
    withdraw = (
        {
            "action": f"/networks/{network_id}/proposals/votes/{vote}/withdraw?lang={lang}",
            "token": token,
            "button": gettext(lang, "Take back my vote"),
        }
        if vote and token
        else None
    )
    return render(
        request,
        "dialogue_state.html",
        lang,
        private=True,
        done=True,
        heading=heading,
        message=message,
        waiting=status == "pending",
        form=withdraw,
        back_url=f"/networks/{network_id}/proposals?lang={lang}",
        back_label=gettext(lang, "Back to the topic proposals"),
    )


@router.post(
    "/networks/{network_id}/proposals/votes/{vote_id}/withdraw", response_class=HTMLResponse
)
async def withdraw_from_page(
    network_id: uuid.UUID,
    vote_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
) -> HTMLResponse:
    """The voter takes the vote back (with the vote's token); it no longer counts."""
    token = (await read_form(request, max_chars=500)).get("token", "")
    lang = language_of(request)
    try:
        await votes.withdraw_vote(tx, ctx, vote_id, token=token, organiser=None, once=as_is())
    except Conflict:
        pass  # taken back already: the page says it is
    except Problem:
        return render(
            request,
            "dialogue_state.html",
            lang,
            status=403,
            private=True,
            heading=gettext(lang, "The link does not work"),
            message=gettext(lang, "The link is invalid or has expired."),
        )
    return render(
        request,
        "dialogue_state.html",
        lang,
        private=True,
        done=True,
        heading=gettext(lang, "Your vote is taken back"),
        message=gettext(lang, "It no longer counts. You can vote for the topic again later."),
        back_url=f"/networks/{network_id}/proposals?lang={lang}",
        back_label=gettext(lang, "Back to the topic proposals"),
    )


@router.get("/networks/{network_id}/proposals/sent", response_class=HTMLResponse)
async def proposed(network_id: uuid.UUID, request: Request, state: str = "") -> HTMLResponse:
    """Where a proposal leads: waiting for the address, for the organisers, or published."""
    lang = language_of(request)
    heading = gettext(lang, "Thank you for your proposal")
    if state == "pending":
        heading = gettext(lang, "Check your email")
        message = gettext(
            lang,
            "Thank you for your proposal. We have sent you a link to confirm your email "
            "address: your proposal goes ahead once you have confirmed it.",
        )
    elif state == "review":
        message = gettext(
            lang,
            "The organisers read each proposal before it is shown. We write to you when they "
            "have decided.",
        )
    else:
        message = gettext(lang, "Your proposal is on the list, and the members can vote for it.")
    return render(
        request,
        "dialogue_state.html",
        lang,
        done=True,
        heading=heading,
        message=message,
        waiting=state == "pending",
        back_url=f"/networks/{network_id}/proposals?lang={lang}",
        back_label=gettext(lang, "Back to the topic proposals"),
    )
