"""The platform the three services share: one Settings base with one production guard, the same
environment names everywhere, and one command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from devstack.stack import DEV_DATABASE_PASSWORD, DEV_ORGANISER_TOKEN, DEV_REPORTING_TOKEN
from notification.settings import Settings as NotificationSettings
from registration.settings import Settings as RegistrationSettings
from reporting.settings import Settings as ReportingSettings
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS
from tilmeld_shared.settings import ServiceSettings
from tilmeld_shared.settings_doc import settings_tables, updated

SERVICES: dict[str, type[ServiceSettings]] = {
    "registration": RegistrationSettings,
    "notification": NotificationSettings,
    "reporting": ReportingSettings,
}
PRODUCTION_SECRETS = {
    "registration": {
        "ORGANISER_TOKEN",
        "REPORTING_TOKEN",
        "TOKEN_SECRET",
        "PERSONAL_DATA_KEY",
        "PERSONAL_DATA_TOKEN",
    },
    "notification": {"ORGANISER_TOKEN", "REPORTING_TOKEN", "PERSONAL_DATA_TOKEN"},
    "reporting": {"ORGANISER_TOKEN", "REPORTING_TOKEN"},
}
REQUIRED = {
    "DATABASE_URL": "postgresql://app:secret@db/tilmeld",
    "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with nothing any service reads, whatever the test run itself has set."""
    for settings in SERVICES.values():
        for field in settings.model_fields:
            for variable in settings.environment_names(field):
                monkeypatch.delenv(variable, raising=False)
    for variable, value in REQUIRED.items():
        monkeypatch.setenv(variable, value)
    return monkeypatch


def refusal(settings: type[ServiceSettings]) -> str:
    with pytest.raises(ValidationError) as refused:
        settings()
    return str(refused.value)


@pytest.mark.parametrize("name", SERVICES)
def test_production_refuses_to_start_without_each_of_the_services_secrets(
    name: str, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("ENVIRONMENT", "production")

    message = refusal(SERVICES[name])

    for variable in PRODUCTION_SECRETS[name]:
        assert f"{variable} is not set" in message
    assert message.count("is not set") == len(PRODUCTION_SECRETS[name])


@pytest.mark.parametrize("name", SERVICES)
def test_production_refuses_the_local_stacks_development_secrets(
    name: str, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("ENVIRONMENT", "production")
    for variable in PRODUCTION_SECRETS[name]:
        environment.setenv(variable, f"a-real-{variable.lower()}")
    environment.setenv("ORGANISER_TOKEN", DEV_ORGANISER_TOKEN)
    environment.setenv("REPORTING_TOKEN", DEV_REPORTING_TOKEN)
    environment.setenv(
        f"{name.upper()}_DATABASE_URL", f"postgresql://{name}_app:{DEV_DATABASE_PASSWORD}@db/t"
    )

    message = refusal(SERVICES[name])

    assert "ORGANISER_TOKEN is a development value" in message
    assert "REPORTING_TOKEN is a development value" in message
    assert "DATABASE_URL uses the development database password" in message
    assert DEV_ORGANISER_TOKEN not in message.split("[type=")[0]  # named, never echoed


@pytest.mark.parametrize("name", SERVICES)
def test_production_starts_with_every_secret_given_and_development_with_none(
    name: str, environment: pytest.MonkeyPatch
) -> None:
    assert SERVICES[name]().environment == "development"

    environment.setenv("ENVIRONMENT", "production")
    for variable in PRODUCTION_SECRETS[name]:
        environment.setenv(variable, f"a-real-{variable.lower()}")

    assert SERVICES[name]().environment == "production"


def test_every_service_reads_the_shared_settings_from_the_same_names() -> None:
    shared = ServiceSettings.model_fields.keys()
    for name, settings in SERVICES.items():
        assert shared <= settings.model_fields.keys()
        for field in shared:
            expected = (
                (f"{name.upper()}_{field.upper()}", field.upper())
                if field in ServiceSettings.per_service
                else (field.upper(),)
            )
            assert settings.environment_names(field) == expected


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("database_url", "postgresql://x@db/y"),
        ("kafka_bootstrap_servers", "broker:9092"),
        ("port", "8123"),
        ("metrics_port", "9123"),
        ("db_pool_max", "7"),
        ("db_command_timeout_s", "3.5"),
        ("log_level", "DEBUG"),
    ],
)
def test_the_services_own_name_wins_over_the_shared_one_and_others_are_ignored(
    name: str, field: str, value: str, environment: pytest.MonkeyPatch
) -> None:
    settings = SERVICES[name]
    others = [other for other in SERVICES if other != name]

    environment.setenv(field.upper(), value)
    assert str(getattr(settings(), field)) == value

    environment.setenv(field.upper(), "1")
    environment.setenv(f"{name.upper()}_{field.upper()}", value)
    for other in others:
        environment.setenv(f"{other.upper()}_{field.upper()}", "2")
    assert str(getattr(settings(), field)) == value


def test_both_consumers_read_their_batch_size_service_name_first(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("BATCH_MAX_RECORDS", "50")
    assert NotificationSettings().batch_max_records == 50
    assert ReportingSettings().batch_max_records == 50

    environment.setenv("REPORTING_BATCH_MAX_RECORDS", "70")
    environment.setenv("NOTIFICATION_BATCH_MAX_RECORDS", "60")
    assert NotificationSettings().batch_max_records == 60
    assert ReportingSettings().batch_max_records == 70


def test_pool_defaults_stay_what_each_service_had(environment: pytest.MonkeyPatch) -> None:
    pools = {
        name: (s().db_pool_min, s().db_pool_max, s().db_command_timeout_s)
        for name, s in SERVICES.items()
    }

    assert pools == {
        "registration": (1, 20, 5.0),
        "notification": (1, 10, 10.0),
        "reporting": (1, 10, 10.0),
    }


def run_module(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=60
    )


def bare_environment() -> dict[str, str]:
    names = {v for s in SERVICES.values() for f in s.model_fields for v in s.environment_names(f)}
    return {key: value for key, value in os.environ.items() if key.upper() not in names}


@pytest.mark.parametrize(
    ("name", "commands"),
    [
        ("registration", ["serve", "migrate", "relay", "replay"]),
        ("notification", ["serve", "migrate"]),
        ("reporting", ["serve", "migrate", "rebuild", "reconcile"]),
    ],
)
def test_each_service_lists_its_commands_without_any_settings(
    name: str, commands: list[str]
) -> None:
    shown = run_module(name, "--help", env=bare_environment())

    assert shown.returncode == 0, shown.stderr
    assert re.findall(r"^    (\w+)(?: |$)", shown.stdout, re.MULTILINE) == commands


def test_a_missing_or_refused_setting_is_named_without_a_traceback() -> None:
    missing = run_module("reporting", "migrate", env=bare_environment())
    refused = run_module(
        "reporting",
        "migrate",
        env={**bare_environment(), **REQUIRED, "ENVIRONMENT": "production"},
    )

    assert missing.returncode == 2
    assert "REPORTING_DATABASE_URL or DATABASE_URL: not set" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert refused.returncode == 2
    assert "ORGANISER_TOKEN is not set; REPORTING_TOKEN is not set" in refused.stderr
    assert "secret" not in refused.stderr  # the database URL's password is never echoed


ROOT = Path(__file__).parent.parent


def test_the_configuration_page_lists_the_settings_as_they_are() -> None:
    page = ROOT / "docs/configuration.md"
    text = page.read_text()

    assert updated(text, settings_tables(SERVICES)) == text, (
        "docs/configuration.md is out of date: run "
        ".venv/bin/python -m tilmeld_shared.settings_doc registration notification reporting"
    )


def test_the_readme_picture_shows_every_topic_and_every_call_between_services() -> None:
    readme = (ROOT / "README.md").read_text()
    picture = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    # Paths the HTTP clients call: relative ones in clients.py (under the base path), and the
    # full /api/v1 paths wherever httpx is used.
    calls = set()
    for module in ROOT.glob("services/*/*/**/*.py"):
        source = module.read_text()
        if module.name == "clients.py":
            calls |= set(re.findall(r"\"(/[\w/{}.-]+)\"", source))
        if "import httpx" in source:  # also after a base URL: f"{settings.x_url}/api/v1/..."
            calls |= set(re.findall(r"(/api/v1/[\w/{}.-]+)\"", source))

    assert {"/whoami", "/outbox/status", "/events", "/stats"} <= calls  # reporting's
    assert "/api/v1/personal-data/open" in calls  # notification's
    assert "/api/v1/members/{member_id}/export" in calls  # registration's
    for path in calls:
        assert path in picture, f"the README's picture misses the call {path}"
    for topic in (*ALL_TOPICS, *DLQ_TOPICS):
        assert topic in picture, f"the README's picture misses the topic {topic}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_readme_and_the_docs_leads_somewhere() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", page.read_text()):
            path, anchor = target
            if path.startswith(("http:", "https:", "mailto:")):
                continue
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {path}")
            elif anchor and anchor not in {
                _anchor(line.lstrip("#"))
                for line in linked.read_text().splitlines()
                if line.startswith("#")
            }:
                broken.append(f"{page.name}: {path}#{anchor}")

    assert not broken
