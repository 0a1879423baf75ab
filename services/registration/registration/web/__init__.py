"""Registration's server-rendered web pages: the public pages and the organiser console.

One Jinja environment (`rendering`), one set of security headers (`headers`); the handlers
call the same use cases the JSON API calls.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from registration.web import console, public
from registration.web.console.session import NotSignedIn, not_signed_in

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)
router.include_router(public.router)
router.include_router(console.router)

__all__ = ["STATIC", "NotSignedIn", "not_signed_in", "router"]
