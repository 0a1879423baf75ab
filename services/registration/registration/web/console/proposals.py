"""The console's moderation of topic proposals: a network's proposals ranked by votes, each
published, rejected with a reason or put on a coming meeting's agenda, and whether the network
takes proposals at all.

Each handler reads the form, calls one use case scoped to the organiser, and answers
Post/Redirect/Get, as the rest of the console does.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.api.schemas import NetworkPatch
from registration.service import networks, proposal_moderation, proposals
from registration.service.dialogue_commands import RejectIn, ScheduleIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.console.dialogue import own_network, word
from registration.web.console.pages import local_time, missing, render
from registration.web.console.session import ConsoleOrganiser
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.auth import Principal
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)

PROPOSAL_STATUSES = {
    "submitted": N_("Waiting for a decision"),
    "published": N_("Published"),
    "rejected": N_("Rejected"),
    "scheduled": N_("On a meeting's agenda"),
}
CHOICES = {
    "off": N_("No"),
    "moderated": N_("Yes, once an organiser has published them"),
    "open": N_("Yes, shown at once"),
}
SETTINGS = {
    "off": N_("The network does not take topic proposals (its settings say so)."),
    "moderated": N_("Members' proposals wait for an organiser to publish them."),
    "open": N_("Members' proposals are published at once."),
}


async def _proposals_page(
    tx: Transactions,
    ctx: ServiceContext,
    organiser: Principal,
    network_id: uuid.UUID,
    lang: str,
) -> dict[str, Any] | None:
    """Every proposal of the network (each status) ranked by votes, and the coming meetings a
    published one can be put on; None when the network is not the organiser's."""
    own = await own_network(tx, network_id, organiser)
    if own is None:
        return None
    network, rows = own
    # Those waiting for a decision first, then the list members see, then the rejected ones.
    listed = [
        row
        for status in ("submitted", None, "rejected")
        for row in (
            await proposals.list_proposals(
                tx,
                network_id,
                caller=organiser,
                sort="votes",
                status=status,
                limit=500,
                cursor=None,
            )
        ).rows
    ]
    now = ctx.clock.now()
    by_id = {row["id"]: row for row in rows}
    return {
        "network": network,
        "setting": word(lang, SETTINGS, network["proposals"]),
        "choice": network["proposals"],
        "choices": [(value, word(lang, CHOICES, value)) for value in CHOICES],
        "meetings": [
            {
                "id": row["id"],
                "title": row["title"],
                "when": local_time(row["starts_at"], row["timezone"]),
            }
            for row in rows
            if row["status"] != "cancelled" and row["starts_at"] > now
        ],
        "proposals": [
            {
                "id": row["id"],
                "title": row["title"],
                "body": row["body"],
                "votes": row["votes"],
                "municipality": row["municipality"] or "",
                "status": row["status"],
                "status_words": word(lang, PROPOSAL_STATUSES, row["status"]),
                "reason": row["reason"],
                "meeting": by_id.get(row["meeting_id"]) if row["meeting_id"] else None,
            }
            for row in listed
        ],
    }


@router.get("/networks/{network_id}/proposals", response_model=None)
async def moderate_proposals(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _proposals_page(tx, ctx, organiser, network_id, language_of(request))
    if page is None:
        return missing(request)
    return render(request, "proposals.html", problem=None, **page)


async def _decided(
    request: Request,
    tx: Transactions,
    ctx: ServiceContext,
    organiser: Principal,
    proposal_id: uuid.UUID,
    decide: Callable[[], Awaitable[None]],
) -> Response:
    """Run the decision; back to the list, or the list with the refusal at its top."""
    proposal = await proposals.get_proposal(tx, proposal_id)
    if proposal is None:
        return missing(request)
    lang = language_of(request)
    try:
        await decide()
    except ValidationError:
        problem = gettext(lang, "Check this value.")
    except Problem as error:
        if error.status in (403, 404):
            return missing(request)
        problem = error.detail  # decided meanwhile, a cancelled meeting: the page says so
    else:
        return RedirectResponse(f"/console/networks/{proposal['network_id']}/proposals", 303)
    page = await _proposals_page(tx, ctx, organiser, proposal["network_id"], lang)
    if page is None:
        return missing(request)
    return render(request, "proposals.html", status=409, problem=problem, **page)


@router.post("/networks/{network_id}/proposals/setting", response_model=None)
async def change_setting(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Whether members propose topics: not at all, for an organiser's review, or at once."""
    form = await read_form(request)
    try:
        command = NetworkPatch.model_validate({"proposals": form.get("proposals")})
        await networks.update_network(tx, network_id, command, organiser=organiser)
    except ValidationError:
        pass  # not one of the three: nothing changes, the page shows the setting as it is
    except Problem:
        return missing(request)
    return RedirectResponse(f"/console/networks/{network_id}/proposals", 303)


@router.post("/proposals/{proposal_id}/publish", response_model=None)
async def publish(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    async def decide() -> None:
        await proposal_moderation.publish_proposal(
            tx, ctx, proposal_id, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)


@router.post("/proposals/{proposal_id}/reject", response_model=None)
async def reject(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Reject, with the reason the author is sent."""
    form = await read_form(request)

    async def decide() -> None:
        command = RejectIn.model_validate({"reason": form.get("reason", "").strip() or None})
        await proposal_moderation.reject_proposal(
            tx, ctx, proposal_id, reason=command.reason, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)


@router.post("/proposals/{proposal_id}/schedule", response_model=None)
async def schedule(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Put the proposal on the chosen meeting's agenda (the author is told)."""
    form = await read_form(request)

    async def decide() -> None:
        command = ScheduleIn.model_validate({"meeting_id": form.get("meeting_id", "")})
        await proposal_moderation.schedule_proposal(
            tx, ctx, proposal_id, command.meeting_id, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)
