"""The languages the pages speak, and how a page's language is chosen.

Chosen in this order: `?lang=` (the switcher's links, remembered in a cookie), the cookie, the
browser's Accept-Language, the network's own language, English.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("da", "nb", "de", "en")
LANGUAGE_NAMES: Final = {"da": "Dansk", "nb": "Norsk bokmål", "de": "Deutsch", "en": "English"}


def choose_language(
    *, asked: str | None, remembered: str | None, accept_language: str | None, fallback: str
) -> str:
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return candidate
    for part in sorted(_weighted(accept_language or ""), key=lambda item: -item[1]):
        primary = part[0].split("-")[0].lower()
        primary = "nb" if primary in {"no", "nn"} else primary  # Norwegian means Bokmål here
        if primary in LANGUAGES:
            return primary
    return fallback if fallback in LANGUAGES else "en"


def _weighted(header: str) -> list[tuple[str, float]]:
    weighted = []
    for item in header.split(","):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((tag, quality))
    return weighted
