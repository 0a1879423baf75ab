"""What Prometheus scrapes, from the three services as processes: each answers `/metrics` on its
metrics port, and its public port does not."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import SERVICE_NAMES, Services


def test_metrics_are_answered_on_the_metrics_port_and_never_on_the_public_one(
    services: Services,
) -> None:
    listed = httpx.get(f"{services.url('registration')}/networks")

    public = {
        name: httpx.get(f"http://127.0.0.1:{services.ports[name]}/metrics")
        for name in SERVICE_NAMES
    }
    scraped = {name: httpx.get(services.metrics_url(name)) for name in SERVICE_NAMES}

    assert listed.status_code == 200
    assert {name: answer.status_code for name, answer in public.items()} == dict.fromkeys(
        SERVICE_NAMES, 404
    )
    for name, answer in scraped.items():
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].startswith("text/plain; version=")
        # Readiness was polled before the test began; each service counted it.
        assert (
            f'tilmeld_http_requests_total{{method="GET",route="/health/ready",'
            f'service="{name}",status="200"}}'
        ) in answer.text
    assert 'route="/api/v1/networks",service="registration"' in scraped["registration"].text
