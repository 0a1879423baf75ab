"""docker-compose.yml cannot run here; this keeps it honest against the services' settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from notification.settings import Settings as NotificationSettings
from registration.settings import Settings as RegistrationSettings
from reporting.settings import Settings as ReportingSettings

ROOT = Path(__file__).parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, type[BaseSettings]] = {
    "registration": RegistrationSettings,
    "notification": NotificationSettings,
    "reporting": ReportingSettings,
}


def accepted_names(settings: type[BaseSettings]) -> dict[str, str]:
    """Every environment variable a Settings class reads, mapped to its field."""
    names = {}
    for field_name, field in settings.model_fields.items():
        names[field_name.upper()] = field_name
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update({str(choice).upper(): field_name for choice in alias.choices})
        elif isinstance(alias, str):
            names[alias.upper()] = field_name
    return names


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_compose_sets_is_one_the_service_reads(name: str) -> None:
    environment = COMPOSE["services"][name]["environment"]

    unknown = set(environment) - accepted_names(SERVICES[name]).keys()

    assert not unknown, f"{name} ignores {unknown}"


@pytest.mark.parametrize("name", SERVICES)
def test_compose_gives_every_required_setting_and_every_production_secret(name: str) -> None:
    environment = COMPOSE["services"][name]["environment"]
    names = accepted_names(SERVICES[name])
    given = {names[key] for key in environment}
    required = {f for f, info in SERVICES[name].model_fields.items() if info.is_required()}

    assert required <= given
    assert environment["ENVIRONMENT"] == "production"
    assert {"organiser_token", "reporting_token"} <= given


def _scrape_targets() -> dict[str, str]:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    return {
        job["job_name"]: job["static_configs"][0]["targets"][0]
        for job in prometheus["scrape_configs"]
    }


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_listens_where_compose_and_prometheus_look(name: str) -> None:
    service = COMPOSE["services"][name]
    port = service["environment"][f"{name.upper()}_PORT"]

    assert service["ports"] == [f"{port}:{port}"]
    assert service["command"] == [name, "serve"]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", SERVICES)
def test_prometheus_scrapes_each_service_on_a_metrics_port_the_host_never_sees(
    name: str,
) -> None:
    environment = COMPOSE["services"][name]["environment"]
    public, metrics = (
        environment[f"{name.upper()}_PORT"],
        environment[f"{name.upper()}_METRICS_PORT"],
    )
    published = " ".join(
        str(port) for service in COMPOSE["services"].values() for port in service.get("ports", [])
    )

    assert _scrape_targets()[name] == f"{name}:{metrics}"
    assert metrics != public
    assert f"{metrics}:" not in published and f":{metrics}" not in published


def test_the_production_shape_has_kafka_in_kraft_mode_and_idempotent_producers() -> None:
    kafka = COMPOSE["services"]["kafka"]

    assert kafka["image"].startswith("apache/kafka")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert COMPOSE["services"]["registration"]["environment"]["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert {"postgres", "migrate", "mailpit", "prometheus"} <= COMPOSE["services"].keys()
    assert (ROOT / COMPOSE["services"]["migrate"]["build"]["dockerfile"]).exists()


def exported_metric_names() -> set[str]:
    """Every sample name the three services can export, from their registered metrics."""
    from prometheus_client import REGISTRY

    import notification.main  # noqa: F401  (importing registers the metrics)
    import registration.main  # noqa: F401
    import reporting.main  # noqa: F401

    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "gauge": ("",),
        "summary": ("_sum", "_count"),
    }
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def queried_metric_names(expressions: list[str]) -> set[str]:
    import re

    return {
        name
        for expression in expressions
        for name in re.findall(r"\b(tilmeld_[a-z_]+)\b", expression)
    }


def test_every_grafana_query_and_alert_names_a_metric_the_services_export() -> None:
    import json

    expressions = [
        target["expr"]
        for path in (ROOT / "deploy/grafana/dashboards").glob("*.json")
        for panel in json.loads(path.read_text())["panels"]
        for target in panel["targets"]
    ]
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    expressions += [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]

    named = queried_metric_names(expressions)
    unknown = named - exported_metric_names()

    assert len(expressions) >= 20
    assert not unknown, f"queries name metrics nobody exports: {unknown}"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards() -> None:
    grafana = COMPOSE["services"]["grafana"]
    mounts = " ".join(grafana["volumes"])
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())

    assert "deploy/grafana/provisioning:/etc/grafana/provisioning" in mounts
    assert "deploy/grafana/dashboards:/var/lib/grafana/dashboards" in mounts
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "alerts.yml" in " ".join(COMPOSE["services"]["prometheus"]["volumes"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_as_its_app_role_and_its_owner_migrates(name: str) -> None:
    service_url = COMPOSE["services"][name]["environment"][f"{name.upper()}_DATABASE_URL"]
    migrate = COMPOSE["services"]["migrate"]
    migrations_url = migrate["environment"][f"{name.upper()}_DATABASE_URL"]

    assert service_url.startswith(f"postgresql://{name}_app:")
    assert migrations_url.startswith(f"postgresql://{name}_owner:")
    assert (
        "python -m tilmeld_shared.roles registration notification reporting &&"
        in (migrate["entrypoint"][-1])
    )
    assert {f"{name.upper()}_OWNER_PASSWORD", f"{name.upper()}_APP_PASSWORD"} <= set(
        migrate["environment"]
    )
