"""What the member dialogue's public pages share: the person's fields under a prefix, the
service's refusals as a person reads them, and the time zone a network's dates are shown in."""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from pydantic import ValidationError

from registration.api.abuse import AbuseLimits
from registration.web.console.forms import DEFAULT_TIMEZONE, NETWORK_TIMEZONES
from registration.web.public.forms import PERSON_FIELDS, field_errors, problem_words
from registration.web.words import gettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Problem

# Refusals of the dialogue's use cases (by slug), as the person reads them.
DIALOGUE_MESSAGES: Final = {
    "consultation-not-open": N_("The consultation is not open for answers yet."),
    "consultation-closed": N_("The consultation has closed."),
    "already-responded": N_(
        "You have answered this consultation already. The link in the email we sent you lets "
        "you change your answers until it closes."
    ),
    "not-in-audience": N_(
        "This consultation asks the network's members (or its municipalities' contact persons) "
        "only, and we did not find you among them. Use the email address you joined with."
    ),
    "already-voted": N_("You have voted for this topic already."),
    "not-a-member": N_(
        "Topic proposals and votes are for the network's members. Join the network first, "
        "or use the email address you joined with."
    ),
    "proposals-off": N_("The network does not take topic proposals."),
    "proposal-not-published": N_("The topic is not open for votes."),
    "rate-limited": N_(
        "Too many answers, proposals or votes have come from here or from this address. "
        "Please try again in a little while."
    ),
}
NEEDS_SMTPUTF8 = N_(
    "Our mail server cannot write to an address with letters like ø or ü before the @. Enter "
    "another address."
)


async def admit_voice(abuse: AbuseLimits, request: Request, email: str) -> None:
    """The rate limits of a response, proposal or vote (per client, and per address by a limit
    of its own), as the API applies them; refused, nothing is stored or counted."""
    admit = abuse.public_voice(request, email, None)
    if admit is not None:
        await admit()


def person_from(form: dict[str, str], lang: str, prefix: str = "") -> dict[str, Any]:
    """The person's fields (named with `prefix`) as the API's `member`, speaking the page's
    language."""
    member: dict[str, Any] = {name: form.get(prefix + name, "").strip() for name in PERSON_FIELDS}
    member["organisation"] = member["organisation"] or None
    member["language"] = lang
    return member


def person_errors(error: ValidationError, lang: str, prefix: str = "") -> dict[str, str]:
    """pydantic's findings on the person's fields, keyed by the page's (prefixed) names."""
    found = field_errors(error, lang).items()
    return {prefix + name: message for name, message in found if name in PERSON_FIELDS}


def undeliverable(email: str, *, smtputf8: bool) -> bool:
    """An address our mail server cannot write to: a local part beyond ASCII needs SMTPUTF8."""
    return not smtputf8 and not email.rpartition("@")[0].isascii()


def refusal_words(problem: Problem, lang: str) -> str:
    """A refusal of the service, as the person reads it."""
    message = DIALOGUE_MESSAGES.get(problem.slug)
    return gettext(lang, message) if message else problem_words(problem, lang)


def refused_status(errors: dict[str, str], retry_after: int | None, refused: int) -> int:
    """The status a refused form comes back with: rate limited, invalid, or the service's
    refusal (409 a conflict, 403 outside the audience)."""
    return 429 if retry_after is not None else 422 if errors else refused


def zone_of(network: Any) -> str:
    """A network has no time zone of its own: its dates are read in its language's."""
    return NETWORK_TIMEZONES.get(network["language"], DEFAULT_TIMEZONE)
