"""What every page handler reads from a browser's request: its language and its posted form."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from registration.web.languages import choose_language

LANGUAGE_COOKIE = "tilmeld_lang"


def language_of(request: Request, fallback: str = "en") -> str:
    return choose_language(
        asked=request.query_params.get("lang"),
        remembered=request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        fallback=fallback,
    )


async def read_form(request: Request, *, max_chars: int = 5000) -> dict[str, str]:
    """A urlencoded form as one value per field (bodies are already capped by the middleware)."""
    fields = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
    return {name: values[0][:max_chars] for name, values in fields.items()}
