-- Member dialogue: consultations with their responses, topic proposals with their votes. Each
-- response, proposal and vote is a row of its own keyed by its id, so a vote read before its
-- proposal (or a response before its consultation) is kept and counted once the other arrives.
-- Nothing here leads to a person: no member id, no name or address, no free-text answer (those
-- travel sealed and never reach reporting). So an erasure has nothing to take, and the counts
-- stay as they were.

-- A consultation and its questions (the organisation's words: question_id, text, kind,
-- options, min, max). The organisation is kept for reading it before its network is known.
CREATE TABLE consultations (
    id                 uuid        PRIMARY KEY,
    network_id         uuid        NOT NULL,
    organisation_id    uuid,
    title              text        NOT NULL,
    status             text        NOT NULL,
    audience           text        NOT NULL,
    -- The audience when it opened (NULL for the public): the response rate's denominator.
    audience_size      integer,
    opens_at           timestamptz NOT NULL,
    closes_at          timestamptz NOT NULL,
    questions          jsonb       NOT NULL,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX consultations_network ON consultations (network_id, opens_at);

-- One response: its status and its choice and scale answers (`{question_id: value}`), and the
-- municipality it came from (resolved in the register where `municipality_id` is set, else the
-- name as typed, or none).
CREATE TABLE responses (
    id                 uuid        PRIMARY KEY,
    consultation_id    uuid        NOT NULL,
    network_id         uuid        NOT NULL,
    status             text        NOT NULL,
    municipality_id    uuid,
    municipality       text,
    country            text,
    answers            jsonb       NOT NULL,
    submitted_at       timestamptz NOT NULL,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX responses_consultation ON responses (consultation_id, status);

-- A topic proposal. Its title is kept only while the proposal is public (published or
-- scheduled); never its body.
CREATE TABLE proposals (
    id                 uuid        PRIMARY KEY,
    network_id         uuid        NOT NULL,
    title              text,
    status             text        NOT NULL,
    counted            boolean     NOT NULL,
    meeting_id         uuid,
    submitted_at       timestamptz NOT NULL,
    decided_at         timestamptz,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX proposals_network ON proposals (network_id, status);

-- One vote: pending, counted or withdrawn; counted, never tied to who cast it.
CREATE TABLE votes (
    id                 uuid        PRIMARY KEY,
    proposal_id        uuid        NOT NULL,
    network_id         uuid        NOT NULL,
    status             text        NOT NULL,
    municipality_id    uuid,
    country            text,
    voted_at           timestamptz NOT NULL,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX votes_proposal ON votes (proposal_id, status);
