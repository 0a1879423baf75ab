"""The one Jinja environment of the web pages, and the response every page is rendered into.

Templates translate with Jinja's i18n (`_()`, `ngettext()`, `pgettext()`) into the language of
the page being rendered, its `lang`, from the registration catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
    # The switcher's links keep the rest of the address: a page opened with a person's token
    # is the same page in another language, not a page that no longer knows them.
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "lang"]
    language_links = {code: "?" + urlencode([*kept, ("lang", code)]) for code in LANGUAGE_NAMES}
    context.setdefault("language_links", language_links)
    response = render(template, headers=headers, status=status, lang=lang, **context)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
