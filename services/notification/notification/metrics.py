"""The notification service's own metrics (HTTP and consumer metrics come from shared)."""

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter(
    "tilmeld_notifications_total",
    "Notification state changes, by template (kind) and the state entered.",
    ["template", "status"],
)
NOTIFICATION_STATES = Gauge(
    "tilmeld_notification_states", "Notifications in each state now.", ["status"]
)
SMTP_SEND_SECONDS = Histogram(
    "tilmeld_smtp_send_seconds",
    "Time for the SMTP server to accept one message.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DELIVERY_SECONDS = Histogram(
    "tilmeld_notification_delivery_seconds",
    "From a notification's creation to its sending.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
RETRIES = Counter("tilmeld_notification_retries_total", "Failed sends scheduled for retry.")
ACCEPT_TO_COMMIT_SECONDS = Histogram(
    "tilmeld_smtp_accept_to_commit_seconds",
    "The window in which a crash sends an email twice: SMTP acceptance to `sent` committed.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
