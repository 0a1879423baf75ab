"""`GET /api/v1/events`: the retained outbox, paged like every other list."""

from __future__ import annotations

from typing import Any

from tests.builders import ORGANISER
from tests.registration.api.conftest import Api


async def _pages(api: Api, **params: Any) -> list[dict[str, Any]]:
    pages = []
    while True:
        response = await api.client.get("/events", params=params, headers=ORGANISER)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            return pages
        params["cursor"] = pages[-1]["next_cursor"]


async def test_the_event_log_pages_with_limit_and_cursor_like_every_list(api: Api) -> None:
    for _ in range(3):
        network = await api.network()
        await api.meeting(network["network_id"])
    (everything,) = await _pages(api, limit=5000)
    in_order = [item["position"] for item in everything["items"]]

    pages = await _pages(api, limit=2)

    assert len(in_order) >= 6
    assert all(set(page) == {"items", "next_cursor"} for page in pages)
    assert [item["position"] for page in pages for item in page["items"]] == in_order
    assert [len(page["items"]) for page in pages[:-1]] == [2] * (len(pages) - 1)
    assert 1 <= len(pages[-1]["items"]) <= 2
    assert everything["items"][0]["envelope"]["event_type"] == "NetworkCreated"


async def test_the_event_log_refuses_a_cursor_another_list_issued(api: Api) -> None:
    for _ in range(2):
        await api.network()
    networks = (await api.client.get("/networks", params={"limit": 1})).json()

    response = await api.client.get(
        "/events", params={"cursor": networks["next_cursor"]}, headers=ORGANISER
    )

    assert networks["next_cursor"] is not None
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
