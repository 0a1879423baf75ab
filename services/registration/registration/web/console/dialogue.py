"""What the console's member dialogue pages (consultations, topic proposals) share: the
organiser's own network with its meetings, and a word of a table of marked messages."""

from __future__ import annotations

import uuid
from typing import Any

from registration.service import meetings
from registration.unit_of_work import Transactions
from registration.web.words import gettext
from tilmeld_shared.auth import Principal
from tilmeld_shared.problems import Problem


def word(lang: str, table: dict[str, str], key: str) -> str:
    """The word a table of marked messages holds for `key`, in the page's language."""
    return gettext(lang, table[key])


async def own_network(
    tx: Transactions, network_id: uuid.UUID, organiser: Principal
) -> tuple[Any, list[Any]] | None:
    """The network and its meetings, when the organiser may see it."""
    try:
        return await meetings.network_and_meetings(tx, network_id, limit=500, organiser=organiser)
    except Problem:
        return None
