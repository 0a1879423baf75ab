"""The consumer-lag gauge: one figure per partition of a batch, and none left behind for a
partition that a rebalance gave to another consumer."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from tilmeld_shared.consuming import record_lag

TOPIC = "registration.meetings.v1"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int


@dataclass
class Assigned:
    """What record_lag reads of aiokafka's consumer: high-water marks and the assignment."""

    highwaters: dict[int, int]
    held: set[int] = field(default_factory=set)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters.get(tp.partition)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPIC, p) for p in self.held}


def lag(partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "tilmeld_consumer_lag",
        {"service": "lag-test", "topic": TOPIC, "partition": str(partition)},
    )


def test_each_partition_of_a_batch_reports_its_own_lag() -> None:
    consumer = Assigned(highwaters={0: 100, 1: 50}, held={0, 1})
    batch = [Record(TOPIC, 0, 89), Record(TOPIC, 1, 20), Record(TOPIC, 0, 94)]

    record_lag(consumer, batch, service="lag-test")

    assert (lag(0), lag(1)) == (5, 29)


def test_a_partition_taken_away_by_a_rebalance_stops_reporting() -> None:
    consumer = Assigned(highwaters={0: 10, 1: 10}, held={0, 1})
    record_lag(consumer, [Record(TOPIC, 0, 1), Record(TOPIC, 1, 1)], service="lag-test")
    assert lag(1) == 8

    consumer.held = {0}  # partition 1 went to another process
    record_lag(consumer, [Record(TOPIC, 0, 9)], service="lag-test")

    assert (lag(0), lag(1)) == (0, None)
