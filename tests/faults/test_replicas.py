"""Two processes of everything on one machine: two registration APIs (RUN_RELAY=false) sharing
the database, two relays of which only the advisory lock's holder publishes, and two consumers
in each of notification's and reporting's groups sharing the partitions. Under load one of each
is SIGKILLed and left dead (the relay being the leader): the survivors carry on, every
acknowledged registration reaches email once (beyond the SMTP window) and the reports equal the
truth; the standby relay's takeover is timed."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import murmur2

from devstack.smtp import MailCatcher
from notification.dispatcher import UNMARKED_MAX
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka
from tilmeld_shared.events import ALL_TOPICS, TOPIC_MEETINGS

REGISTRATIONS = int(os.environ.get("FAULT_REPLICA_REGISTRATIONS", "1500"))
WRITERS = 8
PARTITIONS = 4
RELAY_BATCH_SIZE = 500  # the relay's default: a leader killed mid-batch leaves at most one
FAILOVER_BOUND_S = 15.0  # the standby tries the lock every RELAY_POLL_INTERVAL_S (1 s)
# Kill one of each kind as the acknowledged registrations pass these shares of the load.
KILL_AT = {"relay": 0.2, "notification": 0.35, "reporting": 0.5, "registration": 0.65}


@pytest.fixture
def replicas(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    """The three services with the relay out of `serve`, and topics of several partitions."""
    yield from run_services(
        database_url,
        kafka,
        smtp,
        tmp_path,
        extra_env={"RUN_RELAY": "false", "KAFKA_TOPIC_PARTITIONS": str(PARTITIONS)},
    )


def scrape(services: Services, name: str) -> str:
    return httpx.get(services.metrics_url(name), timeout=2).text


def sample(text: str, metric: str) -> float:
    """The value of an unlabelled sample; 0 when absent."""
    found = re.search(rf"^{metric} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def meeting_partitions(text: str) -> set[int]:
    """The meetings topic's partitions this consumer has taken records from (the lag gauge)."""
    return {
        int(found.group(1))
        for line in text.splitlines()
        if line.startswith("tilmeld_consumer_lag{") and f'topic="{TOPIC_MEETINGS}"' in line
        if (found := re.search(r'partition="(\d+)"', line))
    }


def partition_of(key: str) -> int:
    """The partition Kafka's default partitioner (the relay's) gives a message key."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


def wait_for(what: str, check: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise TimeoutError(what)


async def fetch(database_url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def read_topics(bootstrap_servers: str) -> tuple[dict[str, int], list[str]]:
    """Each topic's partitions, and the event id of every message on the event topics."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, partitions included
        partitions = {t: len(consumer.partitions_for_topic(t) or ()) for t in ALL_TOPICS}
        assigned = [TopicPartition(t, p) for t in ALL_TOPICS for p in range(partitions[t])]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        event_ids: list[str] = []
        deadline = asyncio.get_running_loop().time() + 60
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            assert asyncio.get_running_loop().time() < deadline, "the topics could not be read"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                event_ids += [json.loads(record.value)["event_id"] for record in records]
        return partitions, event_ids
    finally:
        await consumer.stop()


async def test_one_of_each_replica_killed_loses_nothing_acknowledged(
    replicas: Services, smtp: MailCatcher, database_url: str, kafka: Kafka
) -> None:
    services = replicas
    # The second of each: the APIs behind one address (the writers spread over both), two
    # relays, and a second member of each consumer group.
    services.spawn("registration-2", service="registration")
    for relay in ("relay-1", "relay-2"):
        services.spawn(relay, service="registration", command="relay")
    services.spawn("notification-2", service="notification")
    services.spawn("reporting-2", service="reporting")
    for name in ("registration-2", "notification-2", "reporting-2"):
        services.wait_ready(name)
    relays = ("relay-1", "relay-2")

    def leader() -> str | None:
        """The one relay whose metrics say it holds the lock; None while that is not clear."""
        try:
            leading = [
                r for r in relays if sample(scrape(services, r), "tilmeld_relay_leader") == 1
            ]
        except httpx.HTTPError:
            return None
        return leading[0] if len(leading) == 1 else None

    wait_for("one relay leads", leader, 30)

    # Registrations are keyed by their meeting, so a meeting is a partition: enough meetings
    # that every partition has one, and both consumers of each group have work.
    api = services.url("registration")
    network = httpx.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meetings: list[str] = []

    def add_meeting() -> None:
        meetings.append(
            httpx.post(
                f"{api}/networks/{network['network_id']}/meetings",
                json=meeting_body(capacity=REGISTRATIONS, open_to_public=True),
                headers=ORGANISER,
            ).json()["meeting_id"]
        )

    while {partition_of(m) for m in meetings} != set(range(PARTITIONS)):
        add_meeting()
    consumers = ("notification", "notification-2", "reporting", "reporting-2")
    # Each member of a group has taken a meeting event from a partition of its own: the group
    # has settled with both. While one has not, another meeting gives the newcomer something.
    deadline = time.monotonic() + 90
    while True:
        shared = {c: meeting_partitions(scrape(services, c)) for c in consumers}
        if all(shared.values()):
            break
        assert time.monotonic() < deadline, f"a consumer group member never consumed: {shared}"
        time.sleep(2)
        add_meeting()

    acknowledged: list[dict[str, Any]] = []
    failed = 0
    lock = threading.Lock()
    remaining = iter(range(REGISTRATIONS))
    apis = [services.url("registration"), services.url("registration-2")]
    turn = itertools.count()

    def writer() -> None:
        nonlocal failed
        with httpx.Client(timeout=10) as client:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                    n = next(turn)
                    target = apis[n % len(apis)]  # a balancer: the live APIs in turn
                person = member()
                try:
                    response = client.post(
                        f"{target}/meetings/{meetings[n % len(meetings)]}/registrations",
                        json={"member": person, "companions": []},
                    )
                    ok = response.status_code == 201
                except httpx.HTTPError:
                    ok = False  # the process died under us: not acknowledged
                with lock:
                    if ok:
                        acknowledged.append(person)
                    else:
                        failed += 1
                if not ok:
                    time.sleep(0.2)

    failover: dict[str, float] = {}

    def time_the_takeover(standby: str, killed_at: float, published_before: float) -> None:
        """From the leader's kill to the standby holding the lock, and to its first publish."""
        while time.monotonic() < killed_at + 60:
            try:
                text = scrape(services, standby)
            except httpx.HTTPError:
                text = ""
            now = time.monotonic() - killed_at
            if "leads" not in failover and sample(text, "tilmeld_relay_leader") == 1:
                failover["leads"] = now
            if sample(text, "tilmeld_relay_published_total") > published_before:
                failover.setdefault("leads", now)
                failover["publishes"] = now
                return
            time.sleep(0.02)

    writers = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in writers:
        thread.start()
    started = time.monotonic()
    kills: dict[str, str] = {}
    killed_at_share: dict[str, float] = {}
    watcher: threading.Thread | None = None
    for kind, share in sorted(KILL_AT.items(), key=lambda item: item[1]):
        while len(acknowledged) < share * REGISTRATIONS and any(t.is_alive() for t in writers):
            time.sleep(0.02)
        if not any(t.is_alive() for t in writers):
            break
        if kind == "relay":
            victim = wait_for("the leading relay", leader, 10)
            standby = next(r for r in relays if r != victim)
            published_before = sample(scrape(services, standby), "tilmeld_relay_published_total")
            killed_at = time.monotonic()
            services.kill(victim)
            watcher = threading.Thread(
                target=time_the_takeover, args=(standby, killed_at, published_before)
            )
            watcher.start()
        elif kind == "registration":
            victim = "registration-2"  # the other stands for the address the consumers call
            services.kill(victim)
            with lock:
                apis.remove(services.url(victim))  # the balancer's health check drops it
        else:
            victim = kind  # the first of the group; the second takes its partitions over
            services.kill(victim)
        kills[kind] = victim
        killed_at_share[kind] = len(acknowledged) / REGISTRATIONS
    for thread in writers:
        thread.join()
    load_s = time.monotonic() - started
    if watcher is not None:
        watcher.join()

    # A process killed after its commit but before its answer leaves a registration nobody
    # acknowledged; it exists all the same, and reports must count it.
    truth = {
        str(row["meeting_id"]): row["n"]
        for row in await fetch(
            database_url,
            "SELECT meeting_id, count(*) AS n FROM registration.registrations "
            "WHERE status = 'confirmed' GROUP BY meeting_id",
        )
    }
    committed = sum(truth.values())
    wanted = {p["email"].lower() for p in acknowledged}
    # A dead notification process's leased emails come back when the lease (60 s) expires.
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        if wanted <= {m.recipients[0].lower() for m in smtp.mails}:
            break
        time.sleep(0.2)
    time.sleep(1)  # a late duplicate would arrive by now
    received = [m.recipients[0].lower() for m in smtp.mails]
    duplicates = len(received) - len(set(received))
    # A duplicate from the SMTP window is one ledger row sent twice, under one Message-ID;
    # another Message-ID to the same person would be a second email for the same event.
    message_ids = {str(m.message["Message-ID"]) for m in smtp.mails}
    lost = len(wanted - set(received))

    reports: dict[str, Any] = {}

    def reported() -> bool:
        for meeting_id in meetings:
            reports[meeting_id] = httpx.get(
                f"{services.url('reporting-2')}/reports/meetings/{meeting_id}",
                headers=REPORTING,
            ).json()
        return all(reports[m].get("registrations_confirmed") == truth.get(m, 0) for m in meetings)

    with_reports = True
    try:
        wait_for("reports equal the truth", reported, 60)
    except TimeoutError:
        with_reports = False
    reported_total = sum(r.get("registrations_confirmed") or 0 for r in reports.values())

    # Every event in the outbox once, published, and applied once by each consumer group.
    [counts] = await fetch(
        database_url,
        """SELECT
             (SELECT count(*) FROM registration.outbox) AS events,
             (SELECT count(DISTINCT event_id) FROM registration.outbox) AS distinct_events,
             (SELECT count(*) FROM registration.outbox WHERE published_at IS NULL) AS unpublished,
             (SELECT count(*) FROM reporting.inbox) AS reporting_inbox,
             (SELECT count(*) FROM registration.outbox o WHERE NOT EXISTS
                (SELECT 1 FROM reporting.inbox i WHERE i.event_id = o.event_id))
               AS reporting_missed,
             (SELECT count(*) FROM notification.inbox) AS notification_inbox,
             (SELECT count(*) FROM registration.outbox o WHERE NOT EXISTS
                (SELECT 1 FROM notification.inbox i WHERE i.event_id = o.event_id))
               AS notification_missed""",
    )
    outbox_ids = {
        str(row["event_id"])
        for row in await fetch(database_url, "SELECT event_id FROM registration.outbox")
    }
    partitions, on_topics = await read_topics(kafka.bootstrap_servers)
    published_twice = len(on_topics) - len(set(on_topics))
    never_published = len(outbox_ids - set(on_topics))

    print(
        f"replicas: attempted={REGISTRATIONS} acknowledged={len(acknowledged)} "
        f"not_acknowledged={failed} committed={committed} load_s={load_s:.1f} "
        f"kills={kills} at={ {k: round(v, 2) for k, v in killed_at_share.items()} } "
        f"lost={lost} duplicated_emails={duplicates} reported={reported_total} "
        f"failover_lock_s={failover.get('leads', float('nan')):.2f} "
        f"failover_first_publish_s={failover.get('publishes', float('nan')):.2f} "
        f"events={counts['events']} on_kafka={len(on_topics)} published_twice={published_twice} "
        f"never_published={never_published} reporting_inbox={counts['reporting_inbox']} "
        f"notification_inbox={counts['notification_inbox']} partitions={partitions} "
        f"meetings={len(meetings)} shared={ {c: sorted(p) for c, p in shared.items()} }"
    )

    assert set(kills) == set(KILL_AT), "every kill happened while the writers still wrote"
    assert all(share < 1 for share in killed_at_share.values())
    assert all(n == PARTITIONS for n in partitions.values())
    # Delivery: every acknowledged registration is emailed; a duplicate needs the killed
    # notification process to die between SMTP acceptance and the commit of `sent`, at most
    # UNMARKED_MAX messages (accepted and not yet marked).
    assert lost == 0
    assert duplicates <= UNMARKED_MAX
    assert len(message_ids) == len(set(received)), "a second email for one registration"
    # Reports: each meeting's count is the committed truth.
    assert committed >= len(acknowledged)
    assert with_reports, {
        m: (reports[m].get("registrations_confirmed"), truth.get(m)) for m in meetings
    }
    assert reported_total == committed
    # The outbox: each event once, all of them published; Kafka holds each, again only for a
    # batch the killed leader sent but had not marked; each consumer group applied each once.
    assert counts["distinct_events"] == counts["events"]
    assert counts["unpublished"] == 0
    assert never_published == 0
    assert published_twice <= RELAY_BATCH_SIZE
    assert counts["reporting_inbox"] == counts["events"] and counts["reporting_missed"] == 0
    assert counts["notification_inbox"] == counts["events"]
    assert counts["notification_missed"] == 0
    # Failover: the standby takes the lock and publishes within a few of its polls.
    assert "publishes" in failover, "the standby relay never published"
    assert failover["publishes"] < FAILOVER_BOUND_S
