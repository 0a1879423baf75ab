-- Events this service could not read. The raw message is kept here, not on the DLQ topic, so
-- that an erasure can reach it: the topic carries only where it came from, why, and a digest.
CREATE TABLE dead_letters (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin_topic     text        NOT NULL,
    origin_partition integer     NOT NULL,
    origin_offset    bigint      NOT NULL,
    error            text        NOT NULL,
    raw              bytea       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (origin_topic, origin_partition, origin_offset)
);
