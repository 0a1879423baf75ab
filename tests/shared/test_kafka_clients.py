"""How every Kafka client connects, built in one place from the settings: the aiokafka keywords,
FastStream's `security` saying the same, and the clients' constructors accepting them.

Tansu (the suite's broker) has no SASL and no TLS listener, so no test here opens an
authenticated or encrypted connection: the mapping is checked against what aiokafka and
FastStream expect, the TLS files are really loaded, and PLAINTEXT is exercised end to end by
the relay's, the consumers' and the topic tests against the real broker."""

from __future__ import annotations

import datetime
import ssl
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from pydantic import ValidationError

from tests.infrastructure import Kafka
from tilmeld_shared.kafka import (
    MissingTopics,
    broker_security,
    client_options,
    prepare_topics,
    producer_options,
    security_options,
)
from tilmeld_shared.settings import ServiceSettings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class KafkaClientSettings(ServiceSettings):
    service: ClassVar[str] = "kafkatest"
    port: int = 8999
    metrics_port: int = 9999


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A CA and a client certificate it signed, as PEM files."""
    directory = tmp_path_factory.mktemp("kafka-tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None = None
    ) -> x509.CertificateBuilder:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        certificate("tilmeld test CA", ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = certificate("tilmeld-reporting", client_key, ca.subject).sign(ca_key, hashes.SHA256())
    files = {
        "cafile": (ca.public_bytes(serialization.Encoding.PEM)),
        "certfile": client.public_bytes(serialization.Encoding.PEM),
        "keyfile": client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }
    paths = {}
    for name, content in files.items():
        path: Path = directory / f"{name}.pem"
        path.write_bytes(content)
        paths[name] = str(path)
    return paths


def settings(protocol: str, mechanism: str = "SCRAM-SHA-512", **more: Any) -> ServiceSettings:
    return KafkaClientSettings(
        database_url="postgresql://unused/unused",
        kafka_bootstrap_servers="kafka-0.example:9093,kafka-1.example:9093",
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="tilmeld-reporting",
        kafka_sasl_password="a-real-password",
        **more,
    )


def every_combination() -> list[tuple[str, str]]:
    return [(p, m) for p in PROTOCOLS for m in MECHANISMS if p.startswith("SASL") or m == "PLAIN"]


def without_context(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key != "ssl_context"}


def test_plaintext_is_the_default_and_adds_nothing_but_the_protocol() -> None:
    plain = KafkaClientSettings(database_url="postgresql://x/y", kafka_bootstrap_servers="k:9092")

    assert client_options(plain) == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert broker_security(plain) is None


@pytest.mark.parametrize(("protocol", "mechanism"), every_combination())
def test_each_protocol_maps_to_the_keywords_aiokafka_reads(protocol: str, mechanism: str) -> None:
    options = security_options(settings(protocol, mechanism))

    assert options["security_protocol"] == protocol
    assert isinstance(options.get("ssl_context"), ssl.SSLContext) == protocol.endswith("SSL")
    if protocol.startswith("SASL"):
        assert options["sasl_mechanism"] == mechanism
        assert options["sasl_plain_username"] == "tilmeld-reporting"
        assert options["sasl_plain_password"] == "a-real-password"
    else:
        assert not any(key.startswith("sasl") for key in options)


@pytest.mark.parametrize(("protocol", "mechanism"), every_combination())
def test_the_consumers_broker_connects_exactly_as_the_relay_does(
    protocol: str, mechanism: str
) -> None:
    chosen = settings(protocol, mechanism)
    faststream = parse_security(broker_security(chosen))
    aiokafka = security_options(chosen)

    assert without_context(faststream) == without_context(aiokafka) or protocol == "PLAINTEXT"
    assert (faststream.get("ssl_context") is not None) == ("ssl_context" in aiokafka)


def test_tls_checks_the_brokers_hostname_against_the_ca_and_presents_the_client_certificate(
    tls_files: dict[str, str],
) -> None:
    chosen = settings(
        "SASL_SSL",
        kafka_ssl_cafile=tls_files["cafile"],
        kafka_ssl_certfile=tls_files["certfile"],
        kafka_ssl_keyfile=tls_files["keyfile"],
    )
    context = security_options(chosen)["ssl_context"]

    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [ca["subject"] for ca in context.get_ca_certs()] == [
        ((("commonName", "tilmeld test CA"),),)
    ]


def test_a_missing_ca_file_fails_at_once_not_at_the_first_connection() -> None:
    with pytest.raises(FileNotFoundError):
        security_options(settings("SSL", kafka_ssl_cafile="/nonexistent/ca.pem"))


@pytest.mark.parametrize(("protocol", "mechanism"), every_combination())
async def test_every_client_accepts_the_keywords_without_connecting(
    protocol: str, mechanism: str, tls_files: dict[str, str]
) -> None:
    chosen = settings(protocol, mechanism, kafka_ssl_cafile=tls_files["cafile"])

    broker = KafkaBroker(
        chosen.kafka_bootstrap_servers,
        security=broker_security(chosen),
        **producer_options(chosen),
    )
    # What the broker will build its producer and its consumers with, on start.
    connection = broker._connection_kwargs
    assert connection.get("security_protocol", "PLAINTEXT") == protocol
    clients = [
        AIOKafkaProducer(**client_options(chosen), **producer_options(chosen)),
        AIOKafkaConsumer(**client_options(chosen), group_id="tilmeld-reporting"),
        AIOKafkaProducer(**connection),
        broker.config.builder(group_id="tilmeld-reporting"),
    ]
    await AIOKafkaAdminClient(**client_options(chosen)).close()
    for client in clients:
        await client.stop()


def test_every_producer_waits_for_all_replicas_idempotent_where_the_broker_allows() -> None:
    apache = settings("PLAINTEXT", kafka_enable_idempotence=True)
    tansu = settings("PLAINTEXT", kafka_enable_idempotence=False)

    assert producer_options(apache) == {"acks": "all", "enable_idempotence": True}
    assert producer_options(tansu) == {"acks": "all", "enable_idempotence": False}


def production(**more: Any) -> ServiceSettings:
    return KafkaClientSettings(
        environment="production",
        database_url="postgresql://app:a-real-password@db/tilmeld",
        kafka_bootstrap_servers="kafka:9093",
        organiser_token="a-real-organiser-token",
        reporting_token="a-real-reporting-token",
        **more,
    )


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_production_refuses_sasl_without_its_password(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KAFKA_SASL_PASSWORD", "KAFKASTEST_KAFKA_SASL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ValidationError) as refused:
        production(kafka_security_protocol=protocol, kafka_sasl_username="tilmeld")

    message = str(refused.value)
    assert "KAFKATEST_KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD is not set" in message
    assert "KAFKA_SASL_USERNAME" not in message


def test_production_refuses_a_plain_password_over_an_unencrypted_connection() -> None:
    with pytest.raises(ValidationError, match="PLAIN would send the Kafka password in clear"):
        production(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="PLAIN",
            kafka_sasl_username="tilmeld",
            kafka_sasl_password="a-real-password",
        )


def test_production_accepts_sasl_with_its_credentials_and_plaintext_without() -> None:
    production(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="tilmeld",
        kafka_sasl_password="a-real-password",
    )
    production(kafka_security_protocol="PLAINTEXT")


def test_an_unknown_protocol_or_mechanism_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="kafka_security_protocol"):
        settings("SASL_TLS")
    with pytest.raises(ValidationError, match="kafka_sasl_mechanism"):
        settings("SASL_SSL", "GSSAPI")


async def test_without_topic_creation_a_missing_topic_stops_the_service_naming_it(
    kafka: Kafka,
) -> None:
    topic = f"tilmeld.test-{uuid.uuid4().hex[:8]}.v1"
    owned = KafkaClientSettings(
        database_url="postgresql://unused/unused",
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        kafka_create_topics=False,
    )

    with pytest.raises(MissingTopics, match=rf"no topic {topic}.*KAFKA_CREATE_TOPICS"):
        await prepare_topics(owned, [topic], timeout_s=1)

    creating = owned.model_copy(update={"kafka_create_topics": True})
    await prepare_topics(creating, [topic])
    await prepare_topics(owned, [topic], timeout_s=1)  # there now: nothing to say
