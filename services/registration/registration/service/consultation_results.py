"""Registration's own counts of a consultation's counted responses, and a response as its
organisers export it (free text opened).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import asyncpg

from registration.service.consultation_answers import open_texts, questions_of
from registration.unit_of_work import ServiceContext


def exported_response(ctx: ServiceContext, row: asyncpg.Record) -> dict[str, Any]:
    """A response with who gave it and every answer by question id, free text opened."""
    texts = open_texts(ctx, row["text_sealed"], row["data_key"])
    answers: dict[str, Any] = {answer["question_id"]: answer["value"] for answer in row["answers"]}
    answers.update(texts)
    return {
        "response_id": row["id"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "amended_at": row["amended_at"],
        "member_id": row["member_id"],
        "name": row["name"],
        "email": row["email"],
        "role": row["role"],
        "organisation": row["organisation"],
        "municipality": row["municipality"],
        "municipality_id": row["municipality_id"],
        "country": row["country"],
        "answers": answers,
    }


def tally(consultation: asyncpg.Record, rows: list[asyncpg.Record]) -> dict[str, Any]:
    """The counts of the counted responses among `rows`: in all, per municipality, and per
    choice and scale question the count of each answer (free text only in the export)."""
    counted = [row for row in rows if row["status"] == "counted"]
    per_municipality: Counter[tuple[Any, Any, Any]] = Counter(
        (row["municipality_id"], row["municipality"], row["country"]) for row in counted
    )
    per_question = []
    for question in questions_of(consultation):
        given = [
            answer["value"]
            for row in counted
            for answer in row["answers"]
            if answer["question_id"] == question["question_id"]
        ]
        entry: dict[str, Any] = {
            "question_id": question["question_id"],
            "text": question["text"],
            "kind": question["kind"],
        }
        if question["kind"] == "choice":
            tally = Counter(given)
            entry["counts"] = [
                {"value": option, "count": tally.get(option, 0)} for option in question["options"]
            ]
            entry["answered"] = len(given)
        elif question["kind"] == "scale":
            tally = Counter(given)
            points = range(question.get("min", 1), question.get("max", 5) + 1)
            entry["counts"] = [{"value": point, "count": tally.get(point, 0)} for point in points]
            entry["answered"] = len(given)
            entry["mean"] = round(sum(given) / len(given), 2) if given else None
        else:
            # Free text stays with the responses (the export); here only how many wrote one.
            entry["answered"] = None
        per_question.append(entry)
    size = consultation["audience_size"]
    return {
        "consultation_id": consultation["id"],
        "status": consultation["status"],
        "audience": consultation["audience"],
        "audience_size": size,
        "responses": len(counted),
        "pending": len(rows) - len(counted),
        "response_rate": round(len(counted) / size, 4) if size else None,
        "municipalities": [
            {
                "municipality_id": municipality_id,
                "municipality": name,
                "country": country,
                "responses": number,
            }
            for (municipality_id, name, country), number in sorted(
                per_municipality.items(), key=lambda item: (-item[1], str(item[0][1]))
            )
        ],
        "questions": per_question,
    }
