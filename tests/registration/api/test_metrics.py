"""The HTTP metrics as Prometheus reads them: one series per route template."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.registration.api.conftest import Api


def requests_counted(route: str) -> float:
    """GET requests the registration service has counted under `route`, any status."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "tilmeld_http_requests"
        for sample in family.samples
        if sample.name == "tilmeld_http_requests_total"
        and sample.labels["service"] == "registration"
        and sample.labels["method"] == "GET"
        and sample.labels["route"] == route
    )


async def test_an_api_route_and_the_page_with_the_same_path_are_counted_apart(api: Api) -> None:
    network = await api.network()
    api_route, page_route = "/api/v1/networks/{network_id}", "/networks/{network_id}"
    before = requests_counted(api_route), requests_counted(page_route)

    as_json = await api.client.get(f"/networks/{network['network_id']}")
    for _ in range(2):
        as_page = await api.client.get(f"http://registration/networks/{network['network_id']}")

    assert (as_json.status_code, as_page.status_code) == (200, 200)
    assert requests_counted(api_route) - before[0] == 1
    assert requests_counted(page_route) - before[1] == 2
