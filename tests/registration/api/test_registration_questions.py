"""A meeting's questions over HTTP: answered with the registration, refused as problems naming
the field, on the organisers' roster and in the roster CSV (a column per question), never in
the public view of the meeting's registrations; the public form asks them by kind."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx

from tests.builders import ORGANISER, ORGANISER_TOKEN, PERSONAL_DATA, member
from tests.registration.api.conftest import Api

NEEDS = "Kørestol; trappefri adgang, tak"
PERSONAL_DATA.add(NEEDS)
QUESTIONS = [
    {"text": "Kost", "kind": "choice", "options": ["Alt", "Vegetar"], "required": True},
    {"text": "Tilgængelighed", "kind": "text"},
    {"text": "Hvor mange trin kan du gå?", "kind": "scale", "min": 0, "max": 3},
]


async def meeting_with_questions(api: Api) -> tuple[str, list[dict[str, Any]]]:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True, questions=QUESTIONS)
    return meeting["meeting_id"], meeting["questions"]


async def test_answers_reach_the_roster_and_the_csv_with_a_column_per_question(api: Api) -> None:
    meeting_id, (diet, access, steps) = await meeting_with_questions(api)
    person = member()
    registered = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={
            "member": person,
            "answers": [
                {"question_id": diet["question_id"], "value": "Vegetar"},
                {"question_id": access["question_id"], "value": NEEDS},
                {"question_id": steps["question_id"], "value": 0},
            ],
        },
    )
    plain = member()
    without = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={"member": plain, "answers": [{"question_id": diet["question_id"], "value": "Alt"}]},
    )
    assert (registered.status_code, without.status_code) == (201, 201), registered.text

    roster = await api.client.get(f"/meetings/{meeting_id}/registrations", headers=ORGANISER)
    console = httpx.AsyncClient(transport=api.transport, base_url="http://registration")
    await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    download = await console.get(f"/console/meetings/{meeting_id}/roster.csv?lang=en")
    page = await console.get(f"/console/meetings/{meeting_id}")
    await console.aclose()

    items = {item["email"]: item for item in roster.json()["items"]}
    assert {a["question_id"]: a["value"] for a in items[person["email"]]["answers"]} == {
        diet["question_id"]: "Vegetar",
        access["question_id"]: NEEDS,
        steps["question_id"]: 0,
    }
    table = csv.reader(io.StringIO(download.content.decode("utf-8-sig")))
    header, *rows = list(table)
    assert header[-3:] == ["Kost", "Tilgængelighed", "Hvor mange trin kan du gå?"]
    by_email = {row[header.index("Email")]: row for row in rows}
    assert by_email[person["email"]][-3:] == ["Vegetar", NEEDS, "0"]
    assert by_email[plain["email"]][-3:] == ["Alt", "", ""]
    assert page.status_code == 200
    assert "Tilgængelighed" in page.text and NEEDS in page.text


async def test_answers_that_do_not_fit_are_a_problem_naming_each_field(api: Api) -> None:
    meeting_id, (diet, access, steps) = await meeting_with_questions(api)

    refused = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={
            "member": member(),
            "answers": [
                {"question_id": diet["question_id"], "value": "Pescetar"},
                {"question_id": steps["question_id"], "value": 4},
                {"question_id": str(uuid.uuid4()), "value": "?"},
            ],
        },
    )
    missing = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={
            "member": member(),
            "answers": [{"question_id": access["question_id"], "value": "x"}],
        },
    )
    not_a_value = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={"member": member(), "answers": [{"question_id": diet["question_id"], "value": True}]},
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == [
        "answers.0.value",
        "answers.1.value",
        "answers.2.question_id",
    ]
    assert missing.status_code == 422
    assert [(e["field"], e["question_id"]) for e in missing.json()["errors"]] == [
        ("answers", diet["question_id"])
    ]
    assert not_a_value.status_code == 422
    assert not_a_value.json()["errors"][0]["field"].startswith("answers.0.value")
    after = (await api.client.get(f"/meetings/{meeting_id}")).json()
    assert after["seats_taken"] == 0


async def test_the_public_form_asks_the_questions_and_says_what_is_wrong(api: Api) -> None:
    meeting_id, (diet, access, steps) = await meeting_with_questions(api)
    pages = httpx.AsyncClient(transport=api.transport, base_url="http://registration")
    person = member()

    form = await pages.get(f"/meetings/{meeting_id}?lang=en")
    refused = await pages.post(
        f"/meetings/{meeting_id}/register?lang=en",
        data={**person, f"question-{access['question_id']}": NEEDS},
    )
    accepted = await pages.post(
        f"/meetings/{meeting_id}/register?lang=en",
        data={
            **person,
            f"question-{diet['question_id']}": "Vegetar",
            f"question-{steps['question_id']}": "2",
        },
    )
    await pages.aclose()

    assert form.status_code == 200
    assert f'type="radio" id="question-{diet["question_id"]}"' in form.text
    assert f'<textarea id="question-{access["question_id"]}"' in form.text
    assert 'type="radio"' in form.text and "Vegetar" in form.text
    assert refused.status_code == 422
    assert f'href="#question-{diet["question_id"]}"' in refused.text
    assert NEEDS in refused.text  # what the person wrote is put back
    assert accepted.status_code == 303


async def test_the_console_sets_the_questions_and_an_edit_keeps_their_ids(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    meeting_id = meeting["meeting_id"]
    console = httpx.AsyncClient(transport=api.transport, base_url="http://registration")
    await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    path = f"/console/meetings/{meeting_id}/questions?lang=en"

    empty = await console.get(path)
    saved = await console.post(
        path,
        data={
            "answers_retention_days": "7",
            "r1_text": "Kost",
            "r1_kind": "choice",
            "r1_options": "Alt\nVegetar",
            "r1_required": "yes",
            "r2_text": "",
            "r2_kind": "text",
            "f1_text": "Samlet vurdering",
            "f1_kind": "scale",
            "f1_min": "1",
            "f1_max": "5",
        },
    )
    stored = (await api.client.get(f"/meetings/{meeting_id}")).json()
    (diet,) = stored["questions"]
    edited = await console.post(
        path,
        data={
            "answers_retention_days": "",
            "r1_id": diet["question_id"],
            "r1_text": "Kost og allergier",
            "r1_kind": "choice",
            "r1_options": "Alt\nVegetar\nVegansk",
        },
    )
    after = (await api.client.get(f"/meetings/{meeting_id}")).json()
    refused = await console.post(
        path, data={"r1_text": "Kost", "r1_kind": "choice", "r1_options": "Kun én"}
    )
    await console.aclose()

    assert empty.status_code == 200 and 'name="r1_text"' in empty.text
    assert saved.status_code == 303
    assert (diet["text"], diet["options"], diet["required"]) == ("Kost", ["Alt", "Vegetar"], True)
    assert stored["answers_retention_days"] == 7
    assert [q["text"] for q in stored["feedback"]] == ["Samlet vurdering"]
    assert edited.status_code == 303
    (kept,) = after["questions"]
    assert (kept["question_id"], kept["text"]) == (diet["question_id"], "Kost og allergier")
    assert after["answers_retention_days"] is None and after["feedback"] == []
    assert refused.status_code == 422
    assert 'href="#r1_text"' in refused.text and "Kun én" in refused.text
