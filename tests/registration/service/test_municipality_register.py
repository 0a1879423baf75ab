"""The municipality register in the database: read, searched, added to, names resolved."""

from __future__ import annotations

import uuid

import asyncpg

from registration.municipalities import Ambiguous, Match
from registration.repository import municipalities

RODOVRE = uuid.uuid5(uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30"), "DK:175")


async def test_a_shipped_municipality_is_read_by_its_id(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        row = await municipalities.get(conn, RODOVRE)
    assert row is not None
    assert (row["name"], row["country"], row["code"], row["kind"]) == (
        "Rødovre",
        "DK",
        "175",
        "municipality",
    )


async def test_search_filters_by_country_and_by_the_start_of_a_name_or_alias(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        found = await municipalities.search(conn, country="dk", q="Rødovre Kommune")
        no = await municipalities.search(conn, country="NO", limit=1000)
        by_code = await municipalities.search(conn, q="175")
    assert [row["name"] for row in found] == ["Rødovre"]
    assert len(no) == 357 + 15
    assert {row["country"] for row in no} == {"NO"}
    assert [row["municipality_id"] for row in by_code] == [RODOVRE]


async def test_search_pages_through_the_register_in_name_order(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        seen: list[str] = []
        after: uuid.UUID | None = None
        while True:
            rows = await municipalities.search(conn, country="DK", after_id=after, limit=40)
            seen += [row["name"] for row in rows]
            if len(rows) < 40:
                break
            after = rows[-1]["municipality_id"]
    assert len(seen) == len(set(seen)) == 103


async def test_an_added_district_resolves_at_once_and_cannot_be_added_twice(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        assert await municipalities.resolve_name(conn, "Landkreis Kassel", "DE") is None
        added = await municipalities.add(
            conn,
            municipality_id=uuid.uuid4(),
            country="de",
            name="Landkreis Kassel",
            kind="district",
            code="06633",
        )
        assert added is not None and added["country"] == "DE"
        again_by_name = await municipalities.add(
            conn, municipality_id=uuid.uuid4(), country="DE", name="Kreis Kassel", kind="district"
        )
        again_by_code = await municipalities.add(
            conn,
            municipality_id=uuid.uuid4(),
            country="DE",
            name="Other",
            kind="district",
            code="06633",
        )
        city = await municipalities.add(
            conn,
            municipality_id=uuid.uuid4(),
            country="DE",
            name="Stadt Kassel",
            kind="municipality",
        )
        resolved = await municipalities.resolve_name(conn, "Kreis Kassel")
    assert again_by_name is None and again_by_code is None
    assert city is not None
    assert isinstance(resolved, Match)
    assert resolved.municipality.municipality_id == added["municipality_id"]


async def test_a_name_resolves_to_one_entry_to_several_or_to_none(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        match = await municipalities.resolve_name(conn, "RØDOVRE KOMMUNE")
        ambiguous = await municipalities.resolve_name(conn, "Herøy", "NO")
        unknown = await municipalities.resolve_name(conn, "Atlantis")
    assert isinstance(match, Match) and match.municipality.municipality_id == RODOVRE
    assert isinstance(ambiguous, Ambiguous) and len(ambiguous.candidates) == 2
    assert unknown is None


async def test_a_query_of_punctuation_only_or_a_kind_word_alone_finds_nothing(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        assert await municipalities.search(conn, q=" - ") == []
        assert len(await municipalities.search(conn, q="kommune", limit=1000)) == 0
