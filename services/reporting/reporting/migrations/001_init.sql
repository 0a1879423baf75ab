-- Reporting: the facts aggregates are computed from. No names, no emails, no companions' data.
-- Each row keeps the aggregate_version of the newest event applied to it, so a redelivered or
-- late event never overwrites newer state and no event is counted twice.

CREATE TABLE inbox (
    event_id     uuid PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE progress (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    newest_event_at  timestamptz
);
INSERT INTO progress (singleton, newest_event_at) VALUES (true, NULL);

CREATE TABLE networks (
    id                 uuid PRIMARY KEY,
    title              text    NOT NULL,
    status             text    NOT NULL,
    aggregate_version  integer NOT NULL
);

CREATE TABLE meetings (
    id                 uuid PRIMARY KEY,
    network_id         uuid        NOT NULL,
    title              text        NOT NULL,
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    capacity           integer     NOT NULL,
    status             text        NOT NULL,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX meetings_network ON meetings (network_id);

-- member_id is a random id; after erasure upstream it no longer leads to a person.
CREATE TABLE enrolments (
    id                 uuid PRIMARY KEY,
    network_id         uuid        NOT NULL,
    member_id          uuid        NOT NULL,
    municipality       text        NOT NULL,
    status             text        NOT NULL,
    enrolled_at        timestamptz,
    cancelled_at       timestamptz,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX enrolments_network ON enrolments (network_id, status);

CREATE TABLE registrations (
    id                 uuid PRIMARY KEY,
    meeting_id         uuid        NOT NULL,
    network_id         uuid        NOT NULL,
    member_id          uuid        NOT NULL,
    municipality       text        NOT NULL,
    status             text        NOT NULL,
    seats              integer     NOT NULL,
    companions         integer     NOT NULL,
    registered_at      timestamptz NOT NULL,
    cancelled_at       timestamptz,
    checked_in_at      timestamptz,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX registrations_meeting ON registrations (meeting_id, status);
CREATE INDEX registrations_network ON registrations (network_id, status);
