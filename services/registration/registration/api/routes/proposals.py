"""Topic proposals and votes: members propose and vote (once per proposal), organisers
publish, reject, and put a proposal on a meeting's agenda; the network's ranking."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from registration.api import dialogue_schemas as dialogue
from registration.api import views
from registration.api.deps import (
    AbuseLimitsDep,
    ContextDep,
    CursorDep,
    IdempotencyKey,
    Limit,
    Organiser,
    OrganiserIfAny,
    TransactionsDep,
    idempotent_request,
)
from registration.api.dialogue_schemas import ProposalOut, VoteOut
from registration.api.schemas import Page
from registration.service import proposal_moderation, proposals, votes
from registration.service.dialogue_commands import (
    ProposalIn,
    RejectIn,
    ScheduleIn,
    TokenIn,
    VoteIn,
)
from registration.unit_of_work import per_key
from tilmeld_shared.problems import NotFound

router = APIRouter(tags=["proposals"])


@router.post("/networks/{network_id}/proposals", status_code=201, response_model=ProposalOut)
async def submit_proposal(
    network_id: uuid.UUID,
    body: ProposalIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """An active member of the network proposes a topic for its meetings (403 for anyone else;
    409 `proposals-off` where the network takes none). `submitted`, and `counted` once the
    author's address is confirmed; a `moderated` network publishes it after an organiser's
    review, an `open` one as soon as it counts (then the answer says `published`)."""
    status, payload = await proposals.submit_proposal(
        tx,
        ctx,
        network_id,
        body,
        once=per_key(
            idempotent_request(
                key,
                request,
                body.model_dump_json(),
                caller=organiser,
                person_email=body.member.email,
            ),
            lambda row: views.answer(201, dialogue.proposal(row)),
            admit=abuse.public_voice(request, body.member.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/networks/{network_id}/proposals")
async def list_proposals(
    network_id: uuid.UUID,
    tx: TransactionsDep,
    cursor: CursorDep,
    organiser: OrganiserIfAny,
    sort: Annotated[
        Literal["votes", "recent"],
        Query(description="votes: the ranking (most counted votes first); recent: newest first."),
    ] = "votes",
    status: Annotated[
        Literal["submitted", "published", "rejected", "scheduled"] | None,
        Query(
            description="The network's organisers may list any status; others see published "
            "and scheduled ones."
        ),
    ] = None,
    limit: Limit = 100,
) -> Page[ProposalOut]:
    """The network's published and scheduled proposals with their counted `votes`."""
    found = await proposals.list_proposals(
        tx, network_id, caller=organiser, sort=sort, status=status, limit=limit, cursor=cursor
    )
    return Page(
        items=[dialogue.proposal(row) for row in found.rows],
        next_cursor=found.next_cursor.encode() if found.next_cursor else None,
    )


@router.get("/proposals/{proposal_id}")
async def get_proposal(proposal_id: uuid.UUID, tx: TransactionsDep) -> ProposalOut:
    row = await proposals.get_proposal(tx, proposal_id)
    if row is None or not row["counted"]:
        # An unconfirmed proposal is nobody's to see yet.
        raise NotFound(f"No proposal {proposal_id}.")
    return dialogue.proposal(row)


@router.post("/proposals/{proposal_id}/publish", response_model=ProposalOut)
async def publish_proposal(
    proposal_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Publish a submitted proposal whose author's address is confirmed (else 409)."""
    status, payload = await proposal_moderation.publish_proposal(
        tx,
        ctx,
        proposal_id,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, "", caller=organiser),
            lambda row: views.answer(200, dialogue.proposal(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalOut)
async def reject_proposal(
    proposal_id: uuid.UUID,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
    body: RejectIn | None = None,
) -> JSONResponse:
    """Reject a submitted proposal, or take a published one down, with a `reason` the author
    is sent. Not one on an agenda (409)."""
    status, payload = await proposal_moderation.reject_proposal(
        tx,
        ctx,
        proposal_id,
        reason=body.reason if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, dialogue.proposal(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/proposals/{proposal_id}/schedule", response_model=ProposalOut)
async def schedule_proposal(
    proposal_id: uuid.UUID,
    body: ScheduleIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Put a published proposal on the agenda of a coming meeting the network hosts or
    co-hosts: an agenda item with its title (and `proposal_id`) is added to the meeting."""
    status, payload = await proposal_moderation.schedule_proposal(
        tx,
        ctx,
        proposal_id,
        body.meeting_id,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(200, dialogue.proposal(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/proposals/{proposal_id}/votes", status_code=201, response_model=VoteOut)
async def vote(
    proposal_id: uuid.UUID,
    body: VoteIn,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """An active member votes for a published proposal, once (again while the vote stands:
    409 naming it). `pending` until the voter's address is confirmed, then `counted`; the
    `token` withdraws it. Too many from one client or address: 429, and nothing is stored."""
    status, payload = await votes.vote(
        tx,
        ctx,
        proposal_id,
        body,
        once=per_key(
            idempotent_request(
                key,
                request,
                body.model_dump_json(),
                caller=organiser,
                person_email=body.member.email,
            ),
            lambda result: views.answer(201, dialogue.voted(result)),
            admit=abuse.public_voice(request, body.member.email, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.post("/votes/{vote_id}/withdraw", response_model=VoteOut)
async def withdraw_vote(
    vote_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    organiser: OrganiserIfAny,
    key: IdempotencyKey = None,
    body: TokenIn | None = None,
) -> JSONResponse:
    """Withdraw a vote: the voter with the `token` they were given (or an organiser of the
    network). It no longer counts; the person may vote again."""
    status, payload = await votes.withdraw_vote(
        tx,
        ctx,
        vote_id,
        token=body.token if body else None,
        organiser=organiser,
        once=per_key(
            idempotent_request(
                key, request, body.model_dump_json() if body else "", caller=organiser
            ),
            lambda row: views.answer(200, dialogue.vote(row)),
            admit=abuse.public_request(request, organiser),
        ),
    )
    return JSONResponse(payload, status_code=status)
