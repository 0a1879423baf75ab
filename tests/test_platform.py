"""The platform the three services share: one Settings base with one production guard, the same
environment names everywhere, and one command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from pydantic import ValidationError

from devstack.stack import DEV_DATABASE_PASSWORD, DEV_ORGANISER_TOKEN, DEV_REPORTING_TOKEN
from notification.settings import Settings as NotificationSettings
from registration.settings import Settings as RegistrationSettings
from reporting.settings import Settings as ReportingSettings
from tilmeld_shared.settings import ServiceSettings

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
