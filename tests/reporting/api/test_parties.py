"""Municipalities as parties of a network: the projection and the parties report, against real
Postgres."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from reporting import projection, queries
from reporting.api.auth import Callers
from tests.builders import REPORTING
from tests.reporting.story import DAY, Story
from tilmeld_shared.auth import Principal
from tilmeld_shared.events import EnrolmentCancelled, MemberErased

KOEGE, ROSKILDE, HERLEV, ISHOEJ, ALBERTSLUND, ROEDOVRE = (uuid.uuid4() for _ in range(6))


async def _apply(pool: asyncpg.Pool, events: list[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, events)


async def _report(client: httpx.AsyncClient, network: uuid.UUID) -> dict[str, Any]:
    response = await client.get(f"/reports/networks/{network}/parties", headers=REPORTING)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def kulturmetropolen(pool: asyncpg.Pool) -> Story:
    """Three joined parties, one declined, one that joined and withdrew; two held meetings, one
    cancelled after it would have ended, one to come. Køge came to both held meetings, Roskilde
    to one (and did not show at the other), Herlev to none."""
    story = Story()
    story.created("Kulturmetropolen")
    story.party("Køge", KOEGE, "joined")
    story.party("Roskilde", ROSKILDE, "applied", "joined")
    story.party("Herlev", HERLEV, "applied", "joined")
    story.party("Ishøj", ISHOEJ, "applied", "declined")
    story.party("Albertslund", ALBERTSLUND, "joined", "withdrawn")

    def member(name: str, municipality_id: uuid.UUID | None) -> uuid.UUID:
        country = "DK" if municipality_id else None
        return story.member(name, DAY, municipality_id=municipality_id, country=country)

    koege = [member("Køge", KOEGE), member("Køge Kommune", KOEGE)]
    roskilde = member("Roskilde", ROSKILDE)
    herlev = member("Herlev", HERLEV)
    albertslund = member("Albertslund", ALBERTSLUND)
    unresolved = member("Kulturforvaltningen", None)
    spring, autumn = story.meeting(DAY - timedelta(days=60)), story.meeting(DAY - timedelta(days=5))
    called_off = story.meeting(DAY - timedelta(days=30))
    story.cancel_meeting(called_off, DAY - timedelta(days=40))
    coming = story.meeting(datetime.now(UTC) + timedelta(days=30))

    def register(
        meeting: uuid.UUID, who: uuid.UUID, name: str, mid: uuid.UUID | None, came: bool
    ) -> None:
        country = "DK" if mid else None
        when = DAY - timedelta(days=70)
        story.registration(
            meeting, who, name, when, came=came, municipality_id=mid, country=country
        )

    for meeting in (spring, autumn):
        register(meeting, koege[0], "Køge", KOEGE, came=True)
        register(meeting, koege[1], "Køge Kommune", KOEGE, came=True)  # two from Køge: once
    register(spring, roskilde, "Roskilde", ROSKILDE, came=True)
    register(autumn, roskilde, "Roskilde", ROSKILDE, came=False)  # a no-show
    register(autumn, herlev, "Herlev", HERLEV, came=False)
    register(called_off, herlev, "Herlev", HERLEV, came=True)  # cancelled: not held
    register(coming, herlev, "Herlev", HERLEV, came=False)
    register(spring, albertslund, "Albertslund", ALBERTSLUND, came=True)
    register(spring, unresolved, "Kulturforvaltningen", None, came=True)
    await _apply(pool, story.events)
    return story


async def test_coverage_is_the_share_of_held_meetings_a_party_attended(
    client: httpx.AsyncClient, kulturmetropolen: Story
) -> None:
    report = await _report(client, kulturmetropolen.network)

    joined = {p["municipality"]: p for p in report["items"] if p["status"] == "joined"}
    assert {name: p["coverage"] for name, p in joined.items()} == {
        "Køge": 1.0,
        "Roskilde": 0.5,
        "Herlev": 0.0,
    }
    assert {name: p["meetings_attended"] for name, p in joined.items()} == {
        "Køge": 2,
        "Roskilde": 1,
        "Herlev": 0,
    }
    assert {name: p["members_active"] for name, p in joined.items()} == {
        "Køge": 2,  # typed two ways, one register entry
        "Roskilde": 1,
        "Herlev": 1,
    }
    assert {p["meetings_held"] for p in report["items"]} == {2}
    assert (report["meetings_held"], report["parties_joined"], report["parties_absent"]) == (
        2,
        3,
        1,
    )
    assert (
        report["members_active"],
        report["members_from_parties"],
        report["members_unresolved"],
    ) == (6, 4, 1)
    assert report["title"] == "Kulturmetropolen"
    assert report["as_of"] is not None and report["next_cursor"] is None


async def test_declined_and_withdrawn_parties_are_listed_with_their_status_not_as_joined(
    client: httpx.AsyncClient, kulturmetropolen: Story
) -> None:
    report = await _report(client, kulturmetropolen.network)

    listed = [(p["municipality"], p["status"]) for p in report["items"]]
    assert listed == [  # by municipality name
        ("Albertslund", "withdrawn"),
        ("Herlev", "joined"),
        ("Ishøj", "declined"),
        ("Køge", "joined"),
        ("Roskilde", "joined"),
    ]
    by_name = {p["municipality"]: p for p in report["items"]}
    assert by_name["Albertslund"]["joined_at"] is not None  # it did join, then withdrew
    assert by_name["Albertslund"]["meetings_attended"] == 1  # its counts are still shown
    assert by_name["Ishøj"]["joined_at"] is None
    assert by_name["Køge"]["joined_at"] == DAY.isoformat().replace("+00:00", "Z")
    assert by_name["Roskilde"]["joined_at"] == (DAY + timedelta(days=1)).isoformat().replace(
        "+00:00", "Z"
    )
    assert report["parties_joined"] == 3


async def test_no_held_meeting_means_zero_coverage_and_no_absent_party(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    story.party("Køge", KOEGE, "joined")
    story.meeting(datetime.now(UTC) + timedelta(days=3))
    await _apply(pool, story.events)

    report = await _report(client, story.network)

    assert [(p["coverage"], p["meetings_held"]) for p in report["items"]] == [(0.0, 0)]
    assert (report["meetings_held"], report["parties_joined"], report["parties_absent"]) == (
        0,
        1,
        0,
    )


async def test_coverage_is_rounded_to_four_decimal_places(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    story.party("Køge", KOEGE, "joined")
    member = story.member("Køge", DAY, municipality_id=KOEGE, country="DK")
    for days in (10, 20, 30):
        meeting = story.meeting(DAY - timedelta(days=days))
        came = days != 30
        story.registration(meeting, member, "Køge", DAY, came=came, municipality_id=KOEGE)
    await _apply(pool, story.events)

    report = await _report(client, story.network)

    assert report["items"][0]["coverage"] == 0.6667  # 2 of 3


async def test_party_events_redelivered_or_out_of_order_fold_to_the_newest(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    in_one_batch, one_by_one = Story(), Story()
    for story in (in_one_batch, one_by_one):
        story.created()
        story.party("Roskilde", ROSKILDE, "applied", "joined", "withdrawn")
    applied, joined, withdrew = in_one_batch.events[1:]

    await _apply(pool, [in_one_batch.events[0], withdrew, joined, withdrew, applied])
    await _apply(pool, one_by_one.events[:1])
    for event in reversed(one_by_one.events[1:]):  # newest first, each in a batch of its own
        await _apply(pool, [event])
    await _apply(pool, [one_by_one.events[2]])  # redelivered

    for story in (in_one_batch, one_by_one):
        (party,) = (await _report(client, story.network))["items"]
        assert party["status"] == "withdrawn"
        assert party["joined_at"] == (DAY + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        assert party["decided_at"] == (DAY + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    versions = await pool.fetch("SELECT aggregate_version FROM parties")
    assert [row["aggregate_version"] for row in versions] == [3, 3]


async def test_an_erasure_keeps_the_party_and_reporting_keeps_nothing_personal_of_it(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    contact = story.member("Køge", DAY, municipality_id=KOEGE, country="DK")
    joined = story.party("Køge", KOEGE, "applied", "joined", contact_member_id=contact)
    declined = story.party("Herlev", HERLEV, "applied", "declined", contact_member_id=contact)
    await _apply(pool, story.events)
    story.add(contact, MemberErased(member_id=contact, erased_at=DAY + timedelta(days=3)))
    await _apply(pool, story.events[-1:])

    report = await _report(client, story.network)
    rows = [dict(row) for row in await pool.fetch("SELECT * FROM parties ORDER BY municipality")]

    assert [(p["party_id"], p["status"]) for p in report["items"]] == [
        (str(declined), "declined"),
        (str(joined), "joined"),
    ]
    assert report["parties_joined"] == 1
    for row in rows:
        assert contact not in row.values()
        assert not {"contact_member_id", "reason", "network_contact_email", "personal"} & row.keys()
        assert "Ikke i målgruppen" not in map(str, row.values())  # the reason for the decline


async def test_an_enrolment_keeps_its_resolved_municipality_when_it_is_cancelled(
    pool: asyncpg.Pool,
) -> None:
    together, apart = Story(), Story()
    for story in (together, apart):
        member = story.member("Rødovre Kommune", DAY, municipality_id=ROEDOVRE, country="DK")
        _, payload = story.events[-1]
        story.add(
            payload.enrolment_id,
            EnrolmentCancelled(
                enrolment_id=payload.enrolment_id,
                network_id=story.network,
                member_id=member,
                municipality="Rødovre Kommune",
                language="da",
                cancelled_at=DAY + timedelta(days=1),
                cancelled_by="member",
            ),
        )
    await _apply(pool, together.events)
    for event in apart.events:
        await _apply(pool, [event])

    rows = await pool.fetch("SELECT status, municipality_id, country FROM enrolments")
    assert [tuple(row) for row in rows] == [("cancelled", ROEDOVRE, "DK")] * 2


async def test_municipalities_report_resolved_ids_countries_and_parties(
    client: httpx.AsyncClient, kulturmetropolen: Story, pool: asyncpg.Pool
) -> None:
    other = Story()
    other.created("Kunst i det offentlige rum")
    other.party("Køge", KOEGE, "joined")
    other.party("Rødovre", ROEDOVRE, "joined")  # a party without members yet
    await _apply(pool, other.events)

    body = (await client.get("/reports/municipalities", headers=REPORTING)).json()

    by_name = {row["municipality"]: row for row in body["items"]}
    assert by_name["Køge"] == {
        "municipality": "Køge",  # "Køge Kommune" too: the register's name
        "municipality_id": str(KOEGE),
        "country": "DK",
        "members_active": 2,
        "networks": 1,
        "parties": 2,
        "registrations_confirmed": 4,
        "attended": 4,
    }
    assert "Køge Kommune" not in by_name
    assert (by_name["Rødovre"]["parties"], by_name["Rødovre"]["members_active"]) == (1, 0)
    assert by_name["Albertslund"]["parties"] == 0  # withdrawn
    assert "Ishøj" not in by_name  # declined, and no one from it
    unresolved = by_name["Kulturforvaltningen"]  # kept as typed, never dropped
    assert (unresolved["municipality_id"], unresolved["country"]) == (None, None)
    assert (unresolved["members_active"], unresolved["attended"]) == (1, 1)
    scoped = await client.get(
        "/reports/municipalities", headers=REPORTING, params={"network_id": str(other.network)}
    )
    assert {row["municipality"]: row["parties"] for row in scoped.json()["items"]} == {
        "Køge": 1,
        "Rødovre": 1,
    }


async def test_the_parties_report_comes_as_csv_one_row_per_party(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    story.party('=HYPERLINK("http://evil.example","Kreis")', uuid.uuid4(), "joined")
    story.party("Herlev", HERLEV, "applied")
    await _apply(pool, story.events)

    response = await client.get(
        f"/reports/networks/{story.network}/parties", headers={**REPORTING, "Accept": "text/csv"}
    )

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {(row["municipality"], row["status"]) for row in rows} == {
        ('\'=HYPERLINK("http://evil.example","Kreis")', "joined"),  # a register name, neutralised
        ("Herlev", "applied"),
    }
    assert {"network_id", "municipality_id", "coverage", "meetings_attended", "as_of"} <= set(
        rows[0]
    )
    assert {row["network_id"] for row in rows} == {str(story.network)}


async def test_an_organisation_reads_only_its_own_networks_parties(
    client: httpx.AsyncClient, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    story = Story()
    story.created(organisation_id=ours)
    story.party("Køge", KOEGE, "joined")
    await _apply(pool, story.events)
    keys = {
        "Bearer ours": Principal("reporting", ours),
        "Bearer theirs": Principal("reporting", theirs),
    }

    async def principal(_: Callers, token: str) -> Principal | None:
        return keys.get(f"Bearer {token}")

    monkeypatch.setattr(Callers, "principal", principal)
    path = f"/reports/networks/{story.network}/parties"

    own = await client.get(path, headers={"Authorization": "Bearer ours"})
    other = await client.get(path, headers={"Authorization": "Bearer theirs"})

    assert (own.status_code, [p["municipality"] for p in own.json()["items"]]) == (200, ["Køge"])
    assert other.status_code == 404  # as if it were not there


async def test_the_parties_report_of_an_unknown_network_is_404_and_needs_a_token(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get(f"/reports/networks/{uuid.uuid4()}/parties", headers=REPORTING)
    anonymous = await client.get(f"/reports/networks/{uuid.uuid4()}/parties")

    assert (unknown.status_code, unknown.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
    assert anonymous.status_code == 401


async def test_a_report_sees_a_batch_applied_while_it_is_read_whole_or_not_at_all(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    kulturmetropolen: Story,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parties report is two queries (the network's held meetings, then each party's);
    a meeting held and attended by Herlev, applied between them, must not count in one and not
    in the other, which would give Herlev coverage against a total it is not part of."""
    story = kulturmetropolen
    already = len(story.events)
    third = story.meeting(DAY - timedelta(days=2))
    herlev = story.member("Herlev", DAY, municipality_id=HERLEV, country="DK")
    story.registration(
        third,
        herlev,
        "Herlev",
        DAY - timedelta(days=3),
        came=True,
        municipality_id=HERLEV,
        country="DK",
    )
    meanwhile = story.events[already:]
    read_parties = queries.repository.party_reports

    async def after_a_batch_is_applied(conn: Any, network_id: uuid.UUID) -> Any:
        await _apply(pool, meanwhile)  # committed on another connection, mid-report
        return await read_parties(conn, network_id)

    monkeypatch.setattr(queries.repository, "party_reports", after_a_batch_is_applied)
    during = await _report(client, story.network)
    monkeypatch.undo()
    after = await _report(client, story.network)

    def herlev_counts(report: dict[str, Any]) -> tuple[int, int, int, float]:
        party = next(p for p in report["items"] if p["municipality"] == "Herlev")
        return (
            report["meetings_held"],
            party["meetings_held"],
            party["meetings_attended"],
            party["coverage"],
        )

    assert herlev_counts(during) == (2, 2, 0, 0.0)  # as before the batch, every part of it
    assert during["parties_absent"] == 1
    assert herlev_counts(after) == (3, 3, 1, round(1 / 3, 4))
    assert after["parties_absent"] == 0
