"""Calendar feeds (iCalendar) a calendar app subscribes to and polls: ETag and Last-Modified
let an unchanged feed be answered with a 304."""

from __future__ import annotations

import uuid
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import calendar_feeds
from registration.service.calendar_feeds import Feed

router = APIRouter(tags=["calendar feeds"])

ICALENDAR = "text/calendar; charset=utf-8"
_FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The feed (RFC 5545), with ETag and Last-Modified.",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    },
    304: {"description": "Unchanged since the ETag (If-None-Match) or time (If-Modified-Since)."},
}


@router.get(
    "/networks/{network_id}/calendar.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
)
async def network_calendar_feed(
    network_id: uuid.UUID, request: Request, tx: TransactionsDep
) -> Response:
    """The network's meetings open to the public; no online links."""
    feed = await calendar_feeds.network_feed(tx, network_id)
    return _answer(request, feed, cache="public, max-age=300")


@router.get(
    "/members/{member_id}/calendar.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
)
async def member_calendar_feed(
    member_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> Response:
    """The member's own registrations, with the feed's token from their confirmation page."""
    feed = await calendar_feeds.member_feed(tx, ctx, member_id, token)
    # The token is in the address: no shared cache keeps it, no referrer passes it on.
    return _answer(request, feed, cache="private, max-age=300", referrer="no-referrer")


def _answer(request: Request, feed: Feed, *, cache: str, referrer: str | None = None) -> Response:
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": cache,
    }
    if referrer:
        headers["Referrer-Policy"] = referrer
    if _unchanged(request, feed):
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type=ICALENDAR, headers=headers)


def _unchanged(request: Request, feed: Feed) -> bool:
    """RFC 9110: If-None-Match decides when sent; If-Modified-Since only without it."""
    if (match := request.headers.get("if-none-match")) is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or feed.etag in tags
    if (since := request.headers.get("if-modified-since")) is not None:
        try:
            return feed.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
