"""Join, then book: the step from a new membership to a meeting's registration form.

The page after joining links the network's coming meetings, each with a short-lived token of
its own purpose in the address; the meeting page opened with it fills the form in with the
member's details. The token is in the link, never in a cookie: on a shared computer, the next
person to open a meeting page sees an empty form.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from registration import tokens
from registration.service import enrolments
from registration.unit_of_work import ServiceContext, Transactions

PREFILL = "prefill-registration"
# Long enough to read the meeting page and register; a link left in a shared browser's
# history stops filling in a form the same day.
PREFILL_FOR = timedelta(hours=2)
FIELDS = ("name", "email", "municipality", "role", "organisation")


def prefill_link(
    ctx: ServiceContext, meeting_id: uuid.UUID, enrolment_id: uuid.UUID, lang: str
) -> str:
    """The meeting page's address, filling in the member of the enrolment."""
    token = tokens.issue(
        ctx.settings.effective_token_secret,
        PREFILL,
        enrolment_id,
        expires_at=ctx.clock.now() + PREFILL_FOR,
    )
    query = urlencode({"enrolment": str(enrolment_id), "prefill": token, "lang": lang})
    return f"/meetings/{meeting_id}?{query}"


async def joined_member(
    request: Request, tx: Transactions, ctx: ServiceContext
) -> dict[str, Any] | None:
    """The member's details for the registration form, when the address carries a valid
    prefill token of an active enrolment; None otherwise (a wrong link shows an empty form)."""
    token = request.query_params.get("prefill", "")[:200]
    try:
        enrolment_id = uuid.UUID(request.query_params.get("enrolment", ""))
    except ValueError:
        return None
    secret = ctx.settings.effective_token_secret
    if not token or not tokens.verify(secret, PREFILL, enrolment_id, token, now=ctx.clock.now()):
        return None
    found = await enrolments.enrolment_in_full(tx, enrolment_id)
    if found is None or found.enrolment["status"] != "active" or found.member["email"] is None:
        return None
    member = found.member
    return {
        "network": found.network["title"],
        "values": {name: member[name] for name in FIELDS if member[name]},
        # Kept on the form's address, so a refused form still knows the person joined.
        "query": urlencode({"enrolment": str(enrolment_id), "prefill": token}),
    }
