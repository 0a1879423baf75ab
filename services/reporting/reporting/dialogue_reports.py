"""Member dialogue's reports, shaped from the counts `reporting.repository.dialogue` reads.
Counting rules are in docs/api.md (member dialogue)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from reporting.repository import dialogue as repository
from reporting.repository.reports import as_of
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import NotFound

COUNTED_KINDS = ("choice", "scale")
# A scale lists every step from its min to its max (0 where no one chose it), up to this many.
MAX_SCALE_STEPS = 101


def response_rate(responses: int, audience_size: int | None) -> float | None:
    """Counted responses of the audience it opened to; none for the public (no audience to
    count) or an empty audience."""
    if not audience_size:
        return None
    return round(responses / audience_size, 4)


async def consultation_report(
    conn: Connection, consultation_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A consultation's counted responses: in all, of its audience, per municipality, and per
    choice or scale question how often each answer was given."""
    row = await repository.consultation(conn, consultation_id, organisation_id=organisation_id)
    if row is None:
        raise NotFound(f"No events seen yet for consultation {consultation_id}.")
    report = dict(row)
    questions = report.pop("questions")
    counts: dict[str, dict[Any, int]] = defaultdict(dict)
    for answer in await repository.answer_counts(conn, consultation_id):
        counts[answer["question_id"]][answer["value"]] = answer["count"]
    return {
        **report,
        "response_rate": response_rate(report["responses"], report["audience_size"]),
        "municipalities": [
            dict(place)
            for place in await repository.consultation_municipalities(conn, consultation_id)
        ],
        "questions": [
            question_results(question, counts.get(question["question_id"], {}))
            for question in questions
            if question["kind"] in COUNTED_KINDS
        ],
        "as_of": await as_of(conn),
    }


def question_results(question: dict[str, Any], given: dict[Any, int]) -> dict[str, Any]:
    """Each option (or scale step) in its order with its count, 0 where no one chose it; a
    value given that is not among them (an option since renamed) follows, so no counted answer
    is left out."""
    if question["kind"] == "scale":
        given = _as_numbers(given)
        low, high = question.get("min"), question.get("max")
        steps = (
            list(range(low, high + 1))
            if low is not None and high is not None and 0 <= high - low < MAX_SCALE_STEPS
            else []
        )
        listed: list[Any] = steps
    else:
        listed = list(question.get("options") or [])
    others = sorted(
        (v for v in given if v not in listed),
        # A scale's other numbers in their order, a choice's other values most given first.
        key=lambda v: (0, v, "") if isinstance(v, int) else (1, -given[v], str(v)),
    )
    answers = [{"value": value, "count": given.get(value, 0)} for value in [*listed, *others]]
    answered = sum(given.values())
    shaped: dict[str, Any] = {
        "question_id": question["question_id"],
        "text": question["text"],
        "kind": question["kind"],
        "answered": answered,
        "answers": answers,
    }
    if question["kind"] == "scale":
        shaped |= {"min": question.get("min"), "max": question.get("max"), "mean": None}
        numbers = {v: n for v, n in given.items() if isinstance(v, int)}
        if numbers:
            mean = sum(v * n for v, n in numbers.items()) / sum(numbers.values())
            shaped["mean"] = round(mean, 2)
    return shaped


def _as_numbers(given: dict[Any, int]) -> dict[Any, int]:
    """A scale's values as whole numbers, however they were written ("4" and 4 are one)."""
    merged: dict[Any, int] = defaultdict(int)
    for value, count in given.items():
        try:
            key: Any = int(value)
        except (TypeError, ValueError):
            key = value
        merged[key] += count
    return dict(merged)


async def network_consultations(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A network's consultations, newest first, each with its counted responses."""
    network = await repository.network(conn, network_id, organisation_id=organisation_id)
    if network is None:
        raise NotFound(f"No events seen yet for network {network_id}.")
    items = [
        {**dict(row), "response_rate": response_rate(row["responses"], row["audience_size"])}
        for row in await repository.network_consultations(conn, network_id)
    ]
    return {**dict(network), "items": items, "as_of": await as_of(conn), "next_cursor": None}


async def proposal_ranking(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A network's public topic proposals ranked by counted votes, then the earliest submitted;
    `rank` is the place in that order."""
    network = await repository.network(conn, network_id, organisation_id=organisation_id)
    if network is None:
        raise NotFound(f"No events seen yet for network {network_id}.")
    items = [
        {"rank": place, **dict(row)}
        for place, row in enumerate(await repository.proposal_ranking(conn, network_id), start=1)
    ]
    return {
        **dict(network),
        "votes": sum(item["votes"] for item in items),
        "items": items,
        "as_of": await as_of(conn),
        "next_cursor": None,
    }
