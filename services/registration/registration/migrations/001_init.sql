-- Registration service: the source of truth for networks, members, meetings and registrations.

CREATE TABLE networks (
    id              uuid PRIMARY KEY,
    title           text        NOT NULL,
    description     text        NOT NULL,
    purpose         text,
    target_group    text,
    organisers      jsonb       NOT NULL DEFAULT '[]',
    language        text        NOT NULL CHECK (language IN ('da', 'nb', 'de', 'en')),
    max_companions  integer     NOT NULL DEFAULT 1 CHECK (max_companions BETWEEN 0 AND 10),
    contact         jsonb,
    period          text,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A person, identified by email case-insensitively. Erasure blanks the personal columns and
-- keeps the row, so aggregates and foreign keys survive.
CREATE TABLE members (
    id              uuid PRIMARY KEY,
    email           text,
    name            text,
    municipality    text        NOT NULL,
    role            text        NOT NULL,
    organisation    text,
    language        text        CHECK (language IN ('da', 'nb', 'de', 'en')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    erased_at       timestamptz
);
CREATE UNIQUE INDEX members_email_key ON members (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE enrolments (
    id              uuid PRIMARY KEY,
    network_id      uuid        NOT NULL REFERENCES networks (id),
    member_id       uuid        NOT NULL REFERENCES members (id),
    status          text        NOT NULL CHECK (status IN ('active', 'cancelled')),
    consent_at      timestamptz NOT NULL,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz
);
CREATE UNIQUE INDEX enrolments_one_active ON enrolments (network_id, member_id)
    WHERE status = 'active';
CREATE INDEX enrolments_member ON enrolments (member_id);

-- The meeting row is the capacity guard: every registration change locks it, and the CHECK
-- makes an overbooking impossible even if a code path forgot the lock.
CREATE TABLE meetings (
    id                      uuid PRIMARY KEY,
    network_id              uuid        NOT NULL REFERENCES networks (id),
    title                   text        NOT NULL,
    description             text,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    timezone                text        NOT NULL,
    location                text,
    online_url              text,
    capacity                integer     NOT NULL CHECK (capacity >= 0),
    seats_taken             integer     NOT NULL DEFAULT 0,
    registration_deadline   timestamptz,
    open_to_public          boolean     NOT NULL DEFAULT false,
    speakers                jsonb       NOT NULL DEFAULT '[]',
    status                  text        NOT NULL DEFAULT 'scheduled'
                                        CHECK (status IN ('scheduled', 'cancelled')),
    version                 integer     NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meetings_no_overbooking CHECK (seats_taken BETWEEN 0 AND capacity),
    CONSTRAINT meetings_ends_after_start CHECK (ends_at > starts_at)
);
CREATE INDEX meetings_network ON meetings (network_id, starts_at);

CREATE TABLE registrations (
    id              uuid PRIMARY KEY,
    -- Registration order for the waitlist: a sequence, because timestamps can tie.
    position        bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    meeting_id      uuid        NOT NULL REFERENCES meetings (id),
    member_id       uuid        NOT NULL REFERENCES members (id),
    status          text        NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    seats           integer     NOT NULL CHECK (seats >= 1),
    companions      jsonb       NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    confirmed_at    timestamptz,
    cancelled_at    timestamptz,
    checked_in_at   timestamptz
);
CREATE UNIQUE INDEX registrations_one_active ON registrations (meeting_id, member_id)
    WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX registrations_waitlist ON registrations (meeting_id, position)
    WHERE status = 'waitlisted';
CREATE INDEX registrations_member ON registrations (member_id);

-- Transactional outbox, kept after publishing: it is the event log replays read from.
CREATE TABLE outbox (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id            uuid        NOT NULL UNIQUE,
    topic               text        NOT NULL,
    message_key         text        NOT NULL,
    event_type          text        NOT NULL,
    aggregate_id        uuid        NOT NULL,
    aggregate_version   integer     NOT NULL,
    envelope            jsonb       NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    published_at        timestamptz,
    UNIQUE (aggregate_id, aggregate_version)
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_created ON outbox (created_at);

-- Responses of POSTs sent with an Idempotency-Key, replayed for retries of the same request.
CREATE TABLE idempotency_keys (
    key                 text        NOT NULL,
    route               text        NOT NULL,
    request_fingerprint text        NOT NULL,
    response_status     integer,
    response_body       json,           -- json, not jsonb: a replay returns the same bytes
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, route)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
