"""The dashboard's member dialogue in headless Chromium: the reporting app as it is built for
production (without its Kafka consumer) on a loopback port, over projected events in real
Postgres. Each chart has its table, and a network without dialogue says so."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import sync_playwright

from devstack.ports import free_port
from reporting import projection
from reporting.api.auth import Callers
from reporting.main import create_app
from reporting.settings import Settings
from tests.browser import chromium, rendered_dom, screenshot
from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN
from tests.reporting.dialogue_story import DialogueStory
from tests.reporting.story import DAY
from tilmeld_shared.db import create_pool

ARTIFACTS = Path(__file__).parent.parent.parent.parent / "artifacts"
AXE = (Path(__file__).parent.parent.parent / "vendor" / "axe.min.js").read_text()


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn in a thread of its own (its own event loop and pool)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the reporting app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def dashboard(database_url: str) -> Iterator[str]:
    # Nothing listens on port 1: the pipeline tiles say "unknown", as they do when Kafka is down.
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        registration_url="http://127.0.0.1:1",
        organiser_token=ORGANISER_TOKEN,
        reporting_token=REPORTING_TOKEN,
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


def _tag(dom: str, element: str, element_id: str) -> dict[str, str]:
    tag = re.search(rf'<{element} id="{element_id}"[^>]*>', dom)
    assert tag is not None, f"{element_id} is not on the page"
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag.group(0)))


async def _page(dashboard: str, network: object, language: str) -> str:
    url = f"{dashboard}/dashboard?lang={language}&network={network}#token={REPORTING_TOKEN}"
    return await asyncio.to_thread(rendered_dom, url)


async def test_the_dashboard_draws_a_consultations_results_and_the_ranking_with_tables(
    pool: asyncpg.Pool, dashboard: str
) -> None:
    story = DialogueStory()
    story.created("Kultur for framtida")
    consultation = story.consultation(audience="parties", audience_size=4)
    story.response(consultation, ("counted", "Musik", 4))
    story.response(consultation, ("counted", "Musik", 5))
    story.response(consultation, ("counted", "Bibliotek", 4), municipality=None)
    meeting = story.meeting(DAY + timedelta(days=30))
    winner = story.proposal(
        "Grønne festivaler", "submitted", "published", "scheduled", meeting_id=meeting
    )
    runner_up = story.proposal("Varmeplaner", "submitted", "published")
    story.proposal("Ikke offentlig", "submitted", "rejected")
    for proposal, votes in ((winner, 3), (runner_up, 1)):
        for _ in range(votes):
            story.vote(proposal, "counted")
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)

    dom = await _page(dashboard, story.network, "nb")
    picture = await asyncio.to_thread(
        screenshot,
        f"{dashboard}/dashboard?lang=nb&network={story.network}#token={REPORTING_TOKEN}",
        ARTIFACTS / "dashboard-dialogue.png",
        height=2600,
    )

    assert picture.stat().st_size > 10_000
    assert 'data-ready="true"' in dom, re.findall(r'<p id="error"[^>]*>[^<]*', dom)
    assert "Resultater av spørreundersøkelser" in dom and "Innspill etter stemmer" in dom
    choice = _tag(dom, "canvas", "chart-question-0")
    assert (choice["labels"], choice["values"]) == ("Bibliotek|Musik|Kulturarv", "1|2|0")
    scale = _tag(dom, "canvas", "chart-question-1")
    assert (scale["labels"], scale["values"]) == ("1|2|3|4|5", "0|0|0|2|1")
    assert _tag(dom, "table", "table-question-0")["rows"] == "3"
    assert re.search(r"<td>Musik</td><td class=\"number\">2</td>", dom)
    assert "75" in dom  # the response rate: 3 of 4
    assert _tag(dom, "table", "consultation-municipalities")["rows"] == "2"
    assert "Ikke oppgitt" in dom  # a response without a municipality, grouped honestly
    ranking = _tag(dom, "canvas", "chart-proposals")
    assert (ranking["labels"], ranking["values"]) == ("Grønne festivaler|Varmeplaner", "3|1")
    assert _tag(dom, "table", "proposals-table")["rows"] == "2"
    assert "På dagsordenen: Møde" in dom
    assert "Ikke offentlig" not in dom
    assert re.search(r'<p [^>]*id="consultations-empty"[^>]*hidden', dom)  # a network is chosen


async def test_a_network_without_dialogue_says_so(pool: asyncpg.Pool, dashboard: str) -> None:
    story = DialogueStory()
    story.created("Stille netværk")
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)

    dom = await _page(dashboard, story.network, "da")

    assert 'data-ready="true"' in dom
    assert "Ingen spørgeskemaer i dette netværk endnu." in dom
    assert "Ingen offentliggjorte emneforslag endnu." in dom
    assert re.search(r'<div id="consultation-view" hidden', dom)
    assert re.search(r'<div id="proposals-view" hidden', dom)


def _axe_findings(url: str) -> list[dict[str, object]]:
    """axe-core's serious and critical findings in the dialogue cards, every table shown."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("body[data-ready]")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            page.evaluate(AXE)
            found: list[dict[str, object]] = page.evaluate(
                """async () => (await axe.run({include: [['#consultations'], ['#proposals']]},
                                              {resultTypes: ['violations']})).violations
                      .filter(v => v.impact === 'serious' || v.impact === 'critical')
                      .map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))"""
            )
            return found
        finally:
            browser.close()


async def test_the_dialogue_cards_pass_axe(pool: asyncpg.Pool, dashboard: str) -> None:
    story = DialogueStory()
    story.created("Kultur for framtida")
    consultation = story.consultation()
    story.response(consultation, ("counted", "Musik", 4))
    story.vote(story.proposal("Varmeplaner", "submitted", "published"), "counted")
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)
    url = f"{dashboard}/dashboard?lang=de&network={story.network}#token={REPORTING_TOKEN}"

    assert await asyncio.to_thread(_axe_findings, url) == []
