"""The one Jinja environment of the web pages, and the response every page is rendered into.

Templates translate with Jinja's i18n (`_()`, `ngettext()`, `pgettext()`) into the language of
the page being rendered, its `lang`, from the registration catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from registration.web.languages import LANGUAGE_NAMES
from registration.web.requests import LANGUAGE_COOKIE
from registration.web.words import CATALOGUES
from tilmeld_shared.i18n import install_in_jinja

TEMPLATES = Path(__file__).parent / "templates"

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
)
install_in_jinja(templates, CATALOGUES)


def render(
    template: str, *, headers: Mapping[str, str], status: int = 200, **context: Any
) -> HTMLResponse:
    """`template` rendered with `context`, answered with the pages' security `headers`."""
    html = templates.get_template(template).render(languages=LANGUAGE_NAMES, **context)
    return HTMLResponse(html, status_code=status, headers=dict(headers))


def render_page(
    request: Request,
    template: str,
    lang: str,
    *,
    headers: Mapping[str, str],
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in `lang`; when the language switcher chose it, the choice is remembered."""
    response = render(template, headers=headers, status=status, lang=lang, **context)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
