"""Message catalogues: gettext .po files, read with Babel the first time a service needs them.

Each service keeps its words in `locale/<language>/LC_MESSAGES/<domain>.po` (the layout
`pybabel init`/`update` write), with the English text as the msgid. `Catalogues` reads every
language's file into a `babel.support.Translations` once; nothing compiled is committed or
built. Plural forms follow the catalogue's Plural-Forms header, which Babel writes from CLDR.

Templates get Jinja's i18n extension through `install_in_jinja`: one environment serves every
language, so `gettext` and friends translate into the language of the page being rendered (its
`lang` variable) instead of one language installed on the environment for everyone.
"""

from __future__ import annotations

from functools import cached_property
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import escape

LANGUAGE_VARIABLE = "lang"


def N_(message: str) -> str:
    """Mark `message` for pybabel where it is defined; it is translated where it is shown."""
    return message


def read_catalogue(path: Path, language: str, domain: str) -> Translations:
    """One language's .po file as Translations (fuzzy entries are left out, as msgfmt does)."""
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


class Catalogues:
    """One domain's translations in every language under `locale_dir`."""

    def __init__(self, locale_dir: Path, domain: str, *, fallback: str = "en") -> None:
        self.locale_dir = locale_dir
        self.domain = domain
        self.fallback = fallback

    @cached_property
    def _translations(self) -> dict[str, Translations]:
        """Read on first use, so importing a module that holds catalogues reads no file."""
        found = {
            path.parent.parent.name: read_catalogue(path, path.parent.parent.name, self.domain)
            for path in sorted(self.locale_dir.glob(f"*/LC_MESSAGES/{self.domain}.po"))
        }
        if self.fallback not in found:
            raise FileNotFoundError(f"no {self.fallback} {self.domain}.po in {self.locale_dir}")
        return found

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._translations)

    def language_or_fallback(self, language: str | None) -> str:
        return language if language in self._translations else self.fallback

    def translations(self, language: str | None) -> Translations:
        """The language's translations; a language without a catalogue reads the fallback's."""
        return self._translations[self.language_or_fallback(language)]

    def gettext(self, language: str | None, message: str) -> str:
        return str(self.translations(language).gettext(message))

    def ngettext(self, language: str | None, singular: str, plural: str, n: int) -> str:
        return str(self.translations(language).ngettext(singular, plural, n))

    def pgettext(self, language: str | None, context: str, message: str) -> str:
        return str(self.translations(language).pgettext(context, message))


def install_in_jinja(environment: Environment, catalogues: Catalogues) -> None:
    """Jinja's i18n extension (`_`, `gettext`, `ngettext`, `pgettext`, `{% trans %}`), new-style:
    variables are formatted in by name, and in an autoescaped template they are escaped, and so
    are the words themselves, as `{{ word }}` would be."""

    def translated(text: str, context: Context) -> Any:
        return escape(text) if context.eval_ctx.autoescape else text

    def language(context: Context) -> str | None:
        value = context.get(LANGUAGE_VARIABLE)
        return value if isinstance(value, str) else None

    @pass_context
    def gettext(context: Context, message: str) -> Any:
        return translated(catalogues.gettext(language(context), message), context)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int) -> Any:
        return translated(catalogues.ngettext(language(context), singular, plural, n), context)

    @pass_context
    def pgettext(context: Context, message_context: str, message: str) -> Any:
        return translated(catalogues.pgettext(language(context), message_context, message), context)

    @pass_context
    def npgettext(
        context: Context, message_context: str, singular: str, plural: str, n: int
    ) -> Any:
        translations = catalogues.translations(language(context))
        return translated(translations.npgettext(message_context, singular, plural, n), context)

    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
