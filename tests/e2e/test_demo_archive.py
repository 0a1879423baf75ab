"""The demo's German series, loaded as `make run` loads it: its four meetings held, each in the
network's public archive with its topic and agenda, and the slides of one as a public PDF."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import demo
from devstack.smtp import MailCatcher
from tests.builders import ORGANISER_TOKEN
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka

SERIES = "Austausch kommunaler Kulturverwaltungen"


@pytest.fixture
def services(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    yield from run_services(
        database_url,
        kafka,
        smtp,
        tmp_path,
        extra_env={"HELD_CHECK_INTERVAL_S": "0.5", "DOCUMENTS_DIR": str(tmp_path / "documents")},
    )


def _archive(base: str, network_id: str, expected: int) -> str:
    """The archive page once it lists `expected` meetings (the held scheduler marks them)."""
    deadline = time.monotonic() + 20
    while True:
        page = httpx.get(f"{base}/networks/{network_id}/archive", params={"lang": "de"}).text
        if page.count('<article class="card archive">') >= expected:
            return page
        assert time.monotonic() < deadline, "the held meetings never reached the archive"
        time.sleep(0.2)


async def test_the_demo_series_is_archived_with_topics_agendas_and_slides(
    services: Services, tmp_path: Path
) -> None:
    base = services.url("registration").removesuffix("/api/v1")
    await asyncio.to_thread(demo.load, base, ORGANISER_TOKEN, tmp_path / "keys.json")
    networks = httpx.get(f"{services.url('registration')}/networks").json()["items"]
    series = next(n for n in networks if n["title"] == SERIES)

    page = await asyncio.to_thread(
        _archive, base, series["network_id"], len(demo.HISTORIC_GERMAN_MEETINGS)
    )

    for (title, *_), topic, agenda in zip(
        demo.HISTORIC_GERMAN_MEETINGS, demo.GERMAN_TOPICS, demo.GERMAN_AGENDAS, strict=True
    ):
        assert title in page
        assert topic.split(":")[0] in page
        assert all(item in page for _, item, _ in agenda)
    assert "Dr. Miriam Schulte" in page
    number, document_title, _ = demo.GERMAN_DOCUMENT
    assert document_title in page
    held = [
        m
        for m in httpx.get(
            f"{services.url('registration')}/networks/{series['network_id']}/meetings"
        ).json()["items"]
        if m["status"] == "held"
    ]
    slides_meeting = next(m for m in held if m["title"] == demo.HISTORIC_GERMAN_MEETINGS[number][0])
    documents = httpx.get(
        f"{services.url('registration')}/meetings/{slides_meeting['meeting_id']}/documents"
    ).json()["items"]
    assert [d["title"] for d in documents] == [document_title]
    download = httpx.get(f"{base}{documents[0]['url']}")
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    assert download.headers["content-type"] == "application/pdf"
