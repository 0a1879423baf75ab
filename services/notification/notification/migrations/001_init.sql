-- Notification service: what it knows of meetings, what it received, and what it sent.

-- Events already handled, so a redelivery changes nothing (written with the effect).
CREATE TABLE inbox (
    event_id     uuid PRIMARY KEY,
    event_type   text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- The meeting details emails need, kept from the meeting events.
CREATE TABLE meetings (
    id                  uuid PRIMARY KEY,
    network_id          uuid        NOT NULL,
    title               text        NOT NULL,
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    timezone            text        NOT NULL,
    location            text,
    online_url          text,
    status              text        NOT NULL,
    aggregate_version   integer     NOT NULL
);

-- The delivery ledger: pending -> sent, or failed (retried) -> dead.
CREATE TABLE notifications (
    id               uuid PRIMARY KEY,
    event_id         uuid        NOT NULL,
    member_id        uuid,
    recipient        text        NOT NULL,
    template         text        NOT NULL,
    language         text        NOT NULL,
    subject          text        NOT NULL,
    body_text        text        NOT NULL,
    calendar         text,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (event_id, recipient, template)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX notifications_member ON notifications (member_id);
CREATE INDEX notifications_created ON notifications (created_at, id);
