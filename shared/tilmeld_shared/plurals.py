"""Singular or plural by each language's own rule (CLDR, through Babel), as gettext's ngettext.

There is no message catalogue yet: the words are written out per language and `ngettext` picks
between them by the language's rule. A later move to .po catalogues hands the same calls a
catalogue's ngettext instead, and languages with more forms (few, many) come with it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from babel import Locale


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    """`singular` where `language` says `n` is one (1 in da, nb, de, en), else `plural`."""
    return singular if _locale(language).plural_form(n) == "one" else plural


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """gettext's `ngettext(singular, plural, n)` for one language (what Jinja's i18n calls)."""
    return partial(ngettext, language)
