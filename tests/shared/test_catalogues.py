"""Every service's words are in its gettext catalogue, translated into every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent.parent
LANGUAGES = ("da", "nb", "de", "en")
# domain: (the folder pybabel extracts, the catalogues' folder), as babel.cfg describes them
DOMAINS = {
    "registration": (
        ROOT / "services/registration/registration/web",
        ROOT / "services/registration/registration/web/locale",
    ),
    "notification": (
        ROOT / "services/notification/notification",
        ROOT / "services/notification/notification/locale",
    ),
    "reporting": (
        ROOT / "services/reporting/reporting/static",
        ROOT / "services/reporting/reporting/static/locale",
    ),
}
Key = tuple[str | None, str]


def _catalogue(domain: str, language: str) -> Catalog:
    path = DOMAINS[domain][1] / language / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=domain)


def _key(message_id: str | tuple[str, ...], context: str | None) -> Key:
    return context, message_id if isinstance(message_id, str) else message_id[0]


def _marked_in_code(domain: str) -> set[Key]:
    """What `pybabel extract` finds with babel.cfg: the messages the code and templates use."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(DOMAINS[domain][0], method_map, options_map)
    return {_key(message, context) for _, _, message, _, context in found}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_translated_in_every_language(domain: str, language: str) -> None:
    catalogue = _catalogue(domain, language)
    messages = [message for message in catalogue if message.id]

    untranslated = [
        message.id
        for message in messages
        if message.fuzzy
        or not (message.string if isinstance(message.string, str) else all(message.string))
    ]
    broken = [(message.id, errors) for message, errors in catalogue.check()]

    assert messages
    assert untranslated == []
    assert broken == []  # placeholders as in the msgid, a form for each plural


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_catalogue_holds_exactly_the_messages_the_code_uses(domain: str) -> None:
    used = _marked_in_code(domain)

    for language in LANGUAGES:
        held = {_key(message.id, message.context) for message in _catalogue(domain, language)}
        held.discard((None, ""))  # the header

        assert sorted(used - held, key=str) == [], f"{language}: missing"
        assert sorted(held - used, key=str) == [], f"{language}: no longer used"
