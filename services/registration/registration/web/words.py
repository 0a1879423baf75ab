"""The pages' words: the registration catalogue, web/locale/<lang>/LC_MESSAGES/registration.po.

Templates translate with `_()`, `ngettext()` and `pgettext()` (Jinja's i18n, into the page's
`lang`); code translates with the functions here. Messages are the English text; `N_` marks one
where it is defined, for `pybabel extract`, and it is translated where it is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tilmeld_shared.i18n import N_, Catalogues

CATALOGUES: Final = Catalogues(Path(__file__).parent / "locale", "registration")


def gettext(lang: str | None, message: str, **values: object) -> str:
    """`message` in `lang`, with `values` put in by name (`%(name)s`)."""
    translated = CATALOGUES.gettext(lang, message)
    return translated % values if values else translated


def pgettext(lang: str | None, context: str, message: str) -> str:
    """`message` in `lang`, where its English words mean something else elsewhere."""
    return CATALOGUES.pgettext(lang, context, message)


# Conflicts the service layer raises (by slug), as the person reads them.
CONFLICT_MESSAGES: Final = {
    "meeting-cancelled": N_("The meeting is cancelled."),
    "deadline-passed": N_("Registration has closed."),
    "not-enrolled": N_("The meeting is for the network's members only. Join the network first."),
    "already-registered": N_("You are already registered for this meeting."),
    "already-enrolled": N_("You are already a member of the network."),
    "network-closed": N_("The network is not taking new members."),
    "term-ended": N_(
        "The network's term has ended. You can join again as soon as the next term opens."
    ),
    "rate-limited": N_(
        "Too many sign-ups have come from here. Please try again in a little while."
    ),
    "registration-cap": N_("You already hold the most active registrations allowed."),
    "already-a-party": N_("Your municipality has already joined or applied to this network."),
    "applications-closed": N_("Applications have closed."),
    "municipality-not-party": N_(
        "The members of this network are municipalities, and yours is not one of them yet. "
        "Your municipality can apply first."
    ),
}
