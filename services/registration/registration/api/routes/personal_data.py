"""Opening sealed personal data, for the notification service only (its own credential)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request

from registration.api.deps import ContextDep, TransactionsDep
from registration.api.schemas import OpenIn, OpenOut
from registration.service import members
from tilmeld_shared.auth import BearerScheme, bearer_token
from tilmeld_shared.problems import Unauthorized

router = APIRouter(tags=["personal data"])


@router.post("/personal-data/open")
async def open_personal_data(
    body: OpenIn, request: Request, tx: TransactionsDep, ctx: ContextDep, _: BearerScheme
) -> OpenOut:
    """Needs `Authorization: Bearer <PERSONAL_DATA_TOKEN>`; no other role may open data."""
    expected = ctx.settings.effective_personal_data_token
    presented = bearer_token(request) or ""
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("Opening personal data needs the personal-data token.")
    opened = await members.open_personal_data(tx, ctx.vault, body.items)
    return OpenOut(items=opened)
