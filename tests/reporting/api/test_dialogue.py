"""Member dialogue's reports over HTTP: a consultation's results and a network's proposal
ranking, as JSON and CSV, for the callers allowed to read them, against real Postgres."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from reporting import projection
from reporting.api.auth import Callers
from tests.builders import REPORTING
from tests.reporting.dialogue_story import DialogueStory
from tests.reporting.story import DAY
from tilmeld_shared.auth import Principal, Role

KOEGE, ROSKILDE, TROMSOE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
OURS, THEIRS = uuid.uuid4(), uuid.uuid4()


async def _apply(pool: asyncpg.Pool, events: list[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, events)


async def _get(client: httpx.AsyncClient, path: str, **headers: str) -> Any:
    response = await client.get(path, headers={**REPORTING, **headers})
    assert response.status_code == 200, response.text
    return response.json() if "csv" not in headers.get("Accept", "") else response


@pytest.fixture
async def dialogue(pool: asyncpg.Pool) -> DialogueStory:
    """KS's member dialogue to the parties' contacts (five of them): three counted responses
    from two parties and a typed municipality, one pending; and three topic proposals with
    votes, one of them on a meeting's agenda, one rejected, one not yet reviewed."""
    story = DialogueStory()
    story.created("Kultur for framtida", organisation_id=OURS)
    story.party("Køge", KOEGE, "joined")
    story.party("Roskilde", ROSKILDE, "joined")
    consultation = story.consultation(audience="parties", audience_size=5)
    story.response(consultation, ("counted", "Musik", 4), municipality_id=KOEGE)
    story.response(consultation, ("counted", "Bibliotek", 5), municipality_id=KOEGE)
    story.response(consultation, ("counted", "Musik", None), municipality="Kulturforvaltningen")
    story.response(consultation, ("pending", "Kulturarv", 1), municipality_id=ROSKILDE)
    meeting = story.meeting(DAY + timedelta(days=30))
    early = story.proposal("Varmeplaner", "submitted", "published", submitted_at=DAY)
    late = story.proposal(
        "Kunst i det offentlige rum", "submitted", "published", submitted_at=DAY + timedelta(1)
    )
    winner = story.proposal(
        "Grønne festivaler",
        "submitted",
        "published",
        "scheduled",
        submitted_at=DAY + timedelta(days=2),
        meeting_id=meeting,
    )
    rejected = story.proposal("Noget andet", "submitted", "rejected")
    story.proposal("Ikke set endnu", "submitted")
    for proposal, votes in ((winner, 3), (early, 1), (late, 1), (rejected, 4)):
        for _ in range(votes):
            story.vote(proposal, "counted", municipality_id=KOEGE)
    story.vote(early, "pending")
    story.vote(late, "counted", "withdrawn")
    await _apply(pool, story.events)
    story.consultation_id = consultation  # type: ignore[attr-defined]
    story.ids = {"meeting": meeting, "early": early, "late": late, "winner": winner}  # type: ignore[attr-defined]
    return story


async def test_a_consultation_report_counts_responses_municipalities_and_answers(
    client: httpx.AsyncClient, dialogue: Any
) -> None:
    report = await _get(client, f"/reports/consultations/{dialogue.consultation_id}")

    assert (report["responses"], report["responses_pending"], report["audience_size"]) == (3, 1, 5)
    assert report["response_rate"] == 0.6
    assert (report["audience"], report["status"], report["network_id"]) == (
        "parties",
        "open",
        str(dialogue.network),
    )
    assert report["municipalities"] == [
        {
            "municipality": "Køge",  # the register's name, from the party
            "municipality_id": str(KOEGE),
            "country": "DK",
            "municipality_code": "175",
            "responses": 2,
        },
        {  # unresolved: kept as typed, on a row of its own
            "municipality": "Kulturforvaltningen",
            "municipality_id": None,
            "country": None,
            "municipality_code": None,
            "responses": 1,
        },
    ]
    choice, scale = report["questions"]  # the free-text question is not in reporting
    assert (choice["text"], choice["kind"], choice["answered"]) == (
        "Hvad skal netværket prioritere?",
        "choice",
        3,
    )
    assert choice["answers"] == [
        {"value": "Bibliotek", "count": 1},
        {"value": "Musik", "count": 2},
        {"value": "Kulturarv", "count": 0},  # only a pending response chose it
    ]
    assert scale["answers"] == [{"value": v, "count": int(v in (4, 5))} for v in range(1, 6)]
    assert (scale["min"], scale["max"], scale["answered"], scale["mean"]) == (1, 5, 2, 4.5)
    assert report["as_of"] is not None


async def test_a_public_consultation_has_no_response_rate(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = DialogueStory()
    story.created()
    consultation = story.consultation(audience="public", audience_size=None)
    story.response(consultation, ("counted", "Musik", 3), municipality=None)
    empty = story.consultation(audience="members", audience_size=0, title="Ingen at spørge")
    await _apply(pool, story.events)

    public = await _get(client, f"/reports/consultations/{consultation}")
    nobody = await _get(client, f"/reports/consultations/{empty}")

    assert (public["responses"], public["response_rate"]) == (1, None)
    assert public["municipalities"] == [
        {
            "municipality": None,
            "municipality_id": None,
            "country": None,
            "municipality_code": None,
            "responses": 1,
        }
    ]
    assert (nobody["responses"], nobody["response_rate"], nobody["municipalities"]) == (0, None, [])
    assert [a["count"] for a in nobody["questions"][0]["answers"]] == [0, 0, 0]


async def test_a_networks_consultations_are_listed_newest_first(
    client: httpx.AsyncClient, dialogue: Any
) -> None:
    body = await _get(client, f"/reports/networks/{dialogue.network}/consultations")

    assert [(c["consultation_id"], c["responses"], c["response_rate"]) for c in body["items"]] == [
        (str(dialogue.consultation_id), 3, 0.6)
    ]
    assert (body["title"], body["next_cursor"]) == ("Kultur for framtida", None)


async def test_the_ranking_lists_public_proposals_by_counted_votes_then_the_earliest(
    client: httpx.AsyncClient, dialogue: Any
) -> None:
    ranking = await _get(client, f"/reports/networks/{dialogue.network}/proposals")

    items = ranking["items"]
    assert [(i["rank"], i["title"], i["votes"]) for i in items] == [
        (1, "Grønne festivaler", 3),
        (2, "Varmeplaner", 1),  # tied with the next, submitted a day earlier
        (3, "Kunst i det offentlige rum", 1),  # its withdrawn vote does not count
    ]
    winner, early, _ = items
    assert (winner["status"], winner["meeting_id"], winner["meeting_title"]) == (
        "scheduled",
        str(dialogue.ids["meeting"]),
        "Møde",
    )
    assert (early["status"], early["meeting_id"], early["votes_pending"]) == ("published", None, 1)
    assert winner["municipalities"] == 1
    assert ranking["votes"] == 5  # the rejected proposal's votes are not among them


async def test_the_consultation_report_comes_as_csv_one_row_per_figure(
    client: httpx.AsyncClient, dialogue: Any
) -> None:
    response = await _get(
        client, f"/reports/consultations/{dialogue.consultation_id}", Accept="text/csv"
    )

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "consultation_id",
        "section",
        "question_id",
        "question",
        "kind",
        "value",
        "municipality",
        "municipality_id",
        "country",
        "municipality_code",
        "count",
        "audience_size",
        "response_rate",
        "as_of",
    ]
    assert [(r["section"], r["count"]) for r in rows[:3]] == [
        ("responses", "3"),
        ("municipality", "2"),
        ("municipality", "1"),
    ]
    assert (rows[0]["audience_size"], rows[0]["response_rate"]) == ("5", "0.6")
    assert (rows[1]["municipality"], rows[1]["municipality_code"]) == ("Køge", "175")
    answers = [(r["question"], r["value"], r["count"]) for r in rows if r["section"] == "answer"]
    assert len(answers) == 3 + 5  # three options, five steps of the scale
    assert ("Hvad skal netværket prioritere?", "Musik", "2") in answers
    assert ("Hvor tilfreds er du?", "5", "1") in answers
    assert {r["consultation_id"] for r in rows} == {str(dialogue.consultation_id)}


async def test_the_ranking_comes_as_csv_one_row_per_proposal(
    client: httpx.AsyncClient, dialogue: Any
) -> None:
    response = await _get(
        client, f"/reports/networks/{dialogue.network}/proposals", Accept="text/csv"
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["rank"], r["title"], r["votes"], r["status"]) for r in rows] == [
        ("1", "Grønne festivaler", "3", "scheduled"),
        ("2", "Varmeplaner", "1", "published"),
        ("3", "Kunst i det offentlige rum", "1", "published"),
    ]
    assert {"network_id", "proposal_id", "meeting_id", "as_of"} <= set(rows[0])


@pytest.mark.parametrize(
    "path",
    [
        "/reports/consultations/{consultation}",
        "/reports/networks/{network}/consultations",
        "/reports/networks/{network}/proposals",
    ],
)
async def test_an_organisation_reads_only_its_own_networks_dialogue(
    client: httpx.AsyncClient,
    dialogue: Any,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    keys = {"ours": Principal(Role.REPORTING, OURS), "theirs": Principal(Role.REPORTING, THEIRS)}

    async def principal(_: Callers, token: str) -> Principal | None:
        return keys.get(token)

    monkeypatch.setattr(Callers, "principal", principal)
    url = path.format(consultation=dialogue.consultation_id, network=dialogue.network)

    own = await client.get(url, headers={"Authorization": "Bearer ours"})
    other = await client.get(url, headers={"Authorization": "Bearer theirs"})
    anonymous = await client.get(url)

    assert own.status_code == 200
    assert (other.status_code, other.headers["content-type"]) == (
        404,  # as if it were not there
        "application/problem+json",
    )
    assert "Kultur" not in other.text
    assert anonymous.status_code == 401


async def test_a_consultation_read_before_its_network_is_scoped_by_its_own_organisation(
    client: httpx.AsyncClient, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = DialogueStory()  # the network's own event not read yet
    consultation = story.consultation(organisation_id=OURS)
    await _apply(pool, story.events)
    keys = {"ours": Principal(Role.REPORTING, OURS), "theirs": Principal(Role.REPORTING, THEIRS)}

    async def principal(_: Callers, token: str) -> Principal | None:
        return keys.get(token)

    monkeypatch.setattr(Callers, "principal", principal)
    path = f"/reports/consultations/{consultation}"

    own = await client.get(path, headers={"Authorization": "Bearer ours"})
    other = await client.get(path, headers={"Authorization": "Bearer theirs"})

    assert (own.status_code, other.status_code) == (200, 404)


async def test_unknown_consultations_and_networks_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        f"/reports/consultations/{uuid.uuid4()}",
        f"/reports/networks/{uuid.uuid4()}/proposals",
        f"/reports/networks/{uuid.uuid4()}/consultations",
        f"/reports/networks/{TROMSOE}/proposals",
    ):
        response = await client.get(path, headers=REPORTING)
        assert response.status_code == 404, path
