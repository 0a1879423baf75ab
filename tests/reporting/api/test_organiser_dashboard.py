"""The dashboard as an organiser sees it, in headless Chromium at a desktop's 1280 px and a
phone's 390 px: the reporting app as built for production (without its Kafka consumer) over a
known set of projected events in real Postgres. The headline figures, the numbers on the bars,
a table for every chart, the municipalities as the register knows them, the empty states, the
operations tab reached by keyboard, axe-core, and nothing wider than the phone."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

from reporting import projection
from reporting.api.auth import Callers
from reporting.main import create_app
from reporting.settings import Settings
from tests.browser import chromium
from tests.builders import REPORTING_TOKEN
from tests.registration.api.test_tenancy import (  # noqa: F401 (the fixture)
    AUDIENCE,
    ISSUER,
    IdentityProvider,
    identity_provider,
)
from tests.reporting.api.test_dialogue_dashboard import (  # noqa: F401 (the fixture)
    dashboard,
    serving,
)
from tests.reporting.dialogue_story import DialogueStory
from tests.reporting.story import Story
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import MeetingScheduled

ARTIFACTS = Path(__file__).parent.parent.parent.parent / "artifacts"
AXE = (Path(__file__).parent.parent.parent / "vendor" / "axe.min.js").read_text()
KOEGE, ROSKILDE = uuid.uuid4(), uuid.uuid4()


def _meeting(story: Story, title: str, starts_at: datetime, capacity: int) -> uuid.UUID:
    meeting = uuid.uuid4()
    story.add(
        meeting,
        MeetingScheduled(
            meeting_id=meeting,
            network_id=story.network,
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            timezone="Europe/Copenhagen",
            capacity=capacity,
        ),
    )
    return meeting


def known_network() -> DialogueStory:
    """Six members (four of a week ago), two coming meetings of very different sizes (6 of 8
    and 24 of 92 seats: 30 % together), one held meeting (3 of 4 came), and two municipality
    names the register does not know; and a consultation and a topic proposal."""
    now = datetime.now(UTC)
    story = DialogueStory()
    story.created("Kultur i kommunerne")
    consultation = story.consultation(audience="parties", audience_size=4)
    story.response(consultation, ("counted", "Musik", 4))
    story.vote(
        story.proposal("Grønne festivaler med lange navne", "submitted", "published"), "counted"
    )
    koege = [
        story.member("Køge", now - timedelta(days=20), municipality_id=KOEGE, country="DK")
        for _ in range(3)
    ]
    story.member("Roskilde", now - timedelta(days=20), municipality_id=ROSKILDE, country="DK")
    story.member("Kbh. V", now - timedelta(days=2))
    story.member("asdfgh", now - timedelta(days=1))
    small = _meeting(story, "Lille værksted", now + timedelta(days=6), 8)
    large = _meeting(story, "Årsmøde", now + timedelta(days=20), 92)
    held = _meeting(story, "Forårsmøde", now - timedelta(days=10), 10)
    for person in koege:
        story.registration(
            small, person, "Køge", now - timedelta(days=3), companions=1, municipality_id=KOEGE
        )
    for _ in range(24):
        story.registration(
            large, uuid.uuid4(), "Roskilde", now - timedelta(days=40), municipality_id=ROSKILDE
        )
    for index in range(4):
        story.registration(
            held,
            uuid.uuid4(),
            "Køge",
            now - timedelta(days=30),
            came=index < 3,
            municipality_id=KOEGE,
        )
    return story


async def _apply(pool: asyncpg.Pool, story: Story) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#error")


def _text(page: Page, selector: str) -> str:
    return " ".join(page.inner_text(selector).replace("\u00a0", " ").split())


def _axe(page: Page) -> list[dict[str, Any]]:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.evaluate(AXE)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return found


def _charts_and_tables(page: Page) -> list[tuple[str, int]]:
    """Each drawn chart's id with the number of rows in the table of its card."""
    found: list[tuple[str, int]] = page.evaluate(
        """() => [...document.querySelectorAll('#panel-organiser canvas[data-drawn]')].map(c => {
               const table = c.closest('section, figure').querySelector('table');
               return [c.id, table ? table.tBodies[0].rows.length : -1];
           })"""
    )
    return found


def walk_as_organiser(url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            desk = browser.new_page(viewport={"width": 1280, "height": 900})
            _open(desk, url)
            seen["fill"] = _text(desk, "#figure-fill")
            seen["fill_detail"] = _text(desk, "#figure-fill-detail")
            seen["members"] = _text(desk, "#figure-members")
            seen["change"] = _text(desk, "#figure-members-change")
            seen["meetings"] = _text(desk, "#figure-meetings")
            seen["charts"] = {
                chart: {
                    key: (desk.get_attribute(f"#{chart}", f"data-{key}") or "").replace(
                        "\u00a0", " "
                    )
                    for key in ("labels", "values", "numbers")
                }
                for chart in ("chart-upcoming", "chart-past", "chart-municipalities")
            }
            seen["tables"] = _charts_and_tables(desk)
            seen["page_text"] = desk.inner_text("body")
            seen["tab_first"] = desk.is_visible("#panel-organiser") and not desk.is_visible(
                "#panel-ops"
            )
            desk.screenshot(path=str(ARTIFACTS / "dashboard-organiser-1280.png"), full_page=True)
            seen["axe_organiser"] = _axe(desk)
            # The operations tab, by keyboard: focus the first tab, then the right arrow.
            desk.focus("#tab-organiser")
            desk.keyboard.press("ArrowRight")
            seen["ops"] = {
                "shown": desk.is_visible("#panel-ops"),
                "organiser_hidden": not desk.is_visible("#panel-organiser"),
                "selected": desk.get_attribute("#tab-ops", "aria-selected"),
                "focused": desk.evaluate("document.activeElement.id"),
                "dead_letters": _text(desk, "#tile-dead"),
            }
            desk.screenshot(path=str(ARTIFACTS / "dashboard-ops-1280.png"), full_page=True)
            seen["axe_ops"] = _axe(desk)
            desk.keyboard.press("Home")
            seen["back"] = desk.is_visible("#panel-organiser")

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            _open(phone, url)
            phone.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            seen["phone_width"] = phone.evaluate("document.documentElement.scrollWidth")
            seen["phone_numbers"] = phone.get_attribute("#chart-upcoming", "data-numbers")
            phone.screenshot(path=str(ARTIFACTS / "dashboard-organiser-390.png"), full_page=True)
            seen["axe_phone"] = _axe(phone)
        finally:
            browser.close()
    return seen


async def test_an_organiser_sees_the_headline_figures_numbers_on_bars_and_a_table_for_each_chart(
    pool: asyncpg.Pool,
    dashboard: str,  # noqa: F811
) -> None:
    story = known_network()
    await _apply(pool, story)
    url = f"{dashboard}/dashboard?lang=da&network={story.network}#token={REPORTING_TOKEN}"

    seen = await asyncio.to_thread(walk_as_organiser, url)

    assert seen["fill"] == "30 %"  # 30 of 100 seats at the two coming meetings
    assert seen["fill_detail"] == "30 af 100 pladser"
    assert (seen["members"], seen["change"]) == ("6", "+2 siden sidste uge")
    assert seen["meetings"] == "2"
    upcoming = seen["charts"]["chart-upcoming"]
    assert upcoming["values"] == "6|24"
    assert upcoming["numbers"] == "6 af 8|24 af 92"  # each meeting's own numbers on its bar
    assert seen["charts"]["chart-past"]["numbers"] == "3 af 4 kom"
    places = seen["charts"]["chart-municipalities"]
    # Register entries by name; the two unknown names one honest line, never drawn themselves.
    assert places["labels"] == "Køge|Roskilde|Ikke i registret (2)"
    assert places["values"] == "3|1|2"
    assert "asdfgh" not in seen["page_text"] and "Kbh. V" not in seen["page_text"]
    tables = dict(seen["tables"])
    assert set(tables) >= {"chart-upcoming", "chart-timeline", "chart-municipalities", "chart-past"}
    assert all(rows > 0 for rows in tables.values()), tables
    assert seen["tab_first"]
    assert seen["ops"] == {
        "shown": True,
        "organiser_hidden": True,
        "selected": "true",
        "focused": "tab-ops",
        "dead_letters": "ukendt",  # nothing listens where Kafka should be
    }
    assert seen["back"]
    assert seen["axe_organiser"] == [] and seen["axe_ops"] == [] and seen["axe_phone"] == []
    assert seen["phone_width"] <= 390
    assert seen["phone_numbers"] == "6 af 8|24 af 92"


def walk_empty(url: str) -> dict[str, Any]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            _open(page, url)
            shown = {
                name: page.is_visible(f"#{name}-empty") and not page.is_visible(f"#{name}-view")
                for name in ("upcoming", "trend", "municipalities", "past")
            }
            text = page.inner_text("#panel-organiser")
            fill = _text(page, "#figure-fill-detail")
            page.screenshot(path=str(ARTIFACTS / "dashboard-empty-390.png"), full_page=True)
            # Another language: the same network's view, in its words.
            with page.expect_navigation():
                page.select_option("#language", "da")
            page.wait_for_selector("body[data-ready]")
            return {
                "shown": shown,
                "text": text,
                "fill": fill,
                "network_kept": page.input_value("#network") == url.split("network=")[1][:36],
                "in_danish": _text(page, "#upcoming-empty"),
            }
        finally:
            browser.close()


async def test_a_network_with_nothing_yet_says_so_on_every_card(
    pool: asyncpg.Pool,
    dashboard: str,  # noqa: F811
) -> None:
    story = Story()
    story.created("Nyt netværk")
    await _apply(pool, story)
    url = f"{dashboard}/dashboard?lang=en&network={story.network}#token={REPORTING_TOKEN}"

    seen = await asyncio.to_thread(walk_empty, url)

    assert seen["shown"] == {"upcoming": True, "trend": True, "municipalities": True, "past": True}
    for sentence in (
        "No meetings coming up.",
        "Nothing has happened in the last twelve months.",
        "No members yet.",
        "No meetings held yet.",
        "No consultations in this network yet.",
    ):
        assert sentence in seen["text"]
    assert seen["fill"] == "No seats offered yet"
    assert (seen["network_kept"], seen["in_danish"]) == (True, "Ingen kommende møder.")


@pytest.fixture
def oidc_dashboard(
    database_url: str,
    identity_provider: IdentityProvider,  # noqa: F811
) -> Iterator[str]:
    """The dashboard for an organisation's own readers: JWTs from its identity provider."""
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        registration_url="http://127.0.0.1:1",
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=identity_provider.jwks_url,
    )
    app = create_app(settings)

    @contextlib.asynccontextmanager
    async def without_consumer(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(database_url, schema="reporting")
        app.state.callers = Callers(settings)
        yield
        await app.state.callers.close()
        await app.state.pool.close()

    app.router.lifespan_context = without_consumer
    with serving(app) as url:
        yield url


def walk_as_organisation(url: str) -> dict[str, Any]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _open(page, url)
            return {
                "tabs": page.is_visible("#views"),
                "ops": page.is_visible("#panel-ops"),
                "organiser": page.is_visible("#panel-organiser"),
                "members": _text(page, "#figure-members"),
            }
        finally:
            browser.close()


async def test_an_organisations_own_reader_sees_its_view_and_no_operations_tab(
    pool: asyncpg.Pool,
    oidc_dashboard: str,
    identity_provider: IdentityProvider,  # noqa: F811
) -> None:
    organisation = uuid.uuid4()
    story = Story()
    story.created("Egen organisation", organisation_id=organisation)
    story.member("Køge", datetime.now(UTC) - timedelta(days=3), municipality_id=KOEGE)
    await _apply(pool, story)
    reader = identity_provider.token(organisation=organisation, roles=["reporting"])
    url = f"{oidc_dashboard}/dashboard?lang=de&network={story.network}#token={reader}"

    seen = await asyncio.to_thread(walk_as_organisation, url)

    # The pipeline spans every organisation: no tab for it, and the figures are its own.
    assert seen == {"tabs": False, "ops": False, "organiser": True, "members": "1"}
