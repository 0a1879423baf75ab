"""The reporting consumer's own metrics (the shared consumer metrics are in tilmeld_shared)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_APPLIED = Counter("tilmeld_reporting_events_applied_total", "Events applied to reports.")
EVENTS_BY_TYPE = Counter(
    "tilmeld_reporting_events_by_type_total", "Events seen by reporting, by type.", ["event_type"]
)
BATCH_SIZE = Histogram(
    "tilmeld_reporting_batch_size",
    "Events per applied batch (one transaction each).",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
