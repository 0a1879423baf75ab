-- Member dialogue: consultations with their responses, topic proposals with their votes, and
-- the confirmation of a person's address that makes what they said count ("one person, one
-- voice"). Responses, proposals, votes and confirmations are each an aggregate of their own:
-- `version` counts its events.

-- A consultation: its questions (JSON, each with its question_id), a window the clock opens
-- and closes (status moves scheduled → open → closed, each once), and its audience.
CREATE TABLE consultations (
    id              uuid        PRIMARY KEY,
    network_id      uuid        NOT NULL REFERENCES networks (id),
    title           text        NOT NULL,
    description     text,
    questions       jsonb       NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    audience        text        NOT NULL CHECK (audience IN ('members', 'parties', 'public')),
    status          text        NOT NULL DEFAULT 'scheduled'
                                CHECK (status IN ('scheduled', 'open', 'closed')),
    -- How many people the audience held when it opened (NULL for the public, or before).
    audience_size   integer,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (opens_at < closes_at)
);
CREATE INDEX consultations_network ON consultations (network_id, opens_at, id);
-- What the clock looks for: scheduled ones by their opening, open ones by their closing.
CREATE INDEX consultations_to_open ON consultations (opens_at) WHERE status = 'scheduled';
CREATE INDEX consultations_to_close ON consultations (closes_at) WHERE status = 'open';

-- One person's response to a consultation. Choice and scale answers in clear (they are counted);
-- free-text answers only sealed with the person's own data key (`text_sealed`, the
-- SealedPersonalData JSON whose `answers` hold them), so erasing the key erases them. The
-- municipality is copied at submission so the counts per municipality survive erasure, which
-- blanks `member_id` and `text_sealed`.
CREATE TABLE consultation_responses (
    id                  uuid        PRIMARY KEY,
    consultation_id     uuid        NOT NULL REFERENCES consultations (id),
    member_id           uuid        REFERENCES members (id),
    status              text        NOT NULL CHECK (status IN ('pending', 'counted')),
    answers             jsonb       NOT NULL DEFAULT '[]',
    text_sealed         jsonb,
    municipality        text,
    municipality_id     uuid,
    country             text,
    submitted_at        timestamptz NOT NULL,
    amended_at          timestamptz,
    version             integer     NOT NULL DEFAULT 1
);
-- One response per person per consultation.
CREATE UNIQUE INDEX consultation_responses_once ON consultation_responses (consultation_id, member_id);
CREATE INDEX consultation_responses_listed ON consultation_responses (consultation_id, submitted_at, id);
CREATE INDEX consultation_responses_pending ON consultation_responses (member_id)
    WHERE status = 'pending';

-- A member's topic proposal. Title and body are meant for the network's pages; the author is
-- `member_id`, blanked by erasure (the proposal and its votes stay). `counted`: the author's
-- address is confirmed (until then it is neither reviewed nor listed).
CREATE TABLE proposals (
    id              uuid        PRIMARY KEY,
    network_id      uuid        NOT NULL REFERENCES networks (id),
    member_id       uuid        REFERENCES members (id),
    title           text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'submitted'
                                CHECK (status IN ('submitted', 'published', 'rejected', 'scheduled')),
    counted         boolean     NOT NULL DEFAULT false,
    municipality    text,
    municipality_id uuid,
    country         text,
    submitted_at    timestamptz NOT NULL,
    decided_at      timestamptz,
    reason          text,
    meeting_id      uuid        REFERENCES meetings (id),
    version         integer     NOT NULL DEFAULT 1
);
CREATE INDEX proposals_network ON proposals (network_id, submitted_at, id);
CREATE INDEX proposals_author ON proposals (member_id);

-- One vote: pending until the voter's address is confirmed, counted, or withdrawn. Erasure
-- blanks `member_id` and keeps the vote as it stood, so the counts stay right.
CREATE TABLE proposal_votes (
    id              uuid        PRIMARY KEY,
    proposal_id     uuid        NOT NULL REFERENCES proposals (id),
    member_id       uuid        REFERENCES members (id),
    status          text        NOT NULL CHECK (status IN ('pending', 'counted', 'withdrawn')),
    municipality    text,
    municipality_id uuid,
    country         text,
    voted_at        timestamptz NOT NULL,
    withdrawn_at    timestamptz,
    version         integer     NOT NULL DEFAULT 1
);
-- One standing vote per person per proposal (a withdrawn one may be cast again).
CREATE UNIQUE INDEX proposal_votes_once ON proposal_votes (proposal_id, member_id)
    WHERE status <> 'withdrawn';
CREATE INDEX proposal_votes_counted ON proposal_votes (proposal_id) WHERE status = 'counted';
CREATE INDEX proposal_votes_voter ON proposal_votes (member_id);

-- The confirmation of a person's address: one per person, `requested` until they follow the
-- emailed link and confirm, then `confirmed` for good (in every network). `network_id` is the
-- network where they were first asked; `subject` what they had said then.
CREATE TABLE address_confirmations (
    id              uuid        PRIMARY KEY,
    member_id       uuid        NOT NULL REFERENCES members (id),
    network_id      uuid        NOT NULL REFERENCES networks (id),
    subject         text        NOT NULL CHECK (subject IN ('response', 'proposal', 'vote')),
    status          text        NOT NULL CHECK (status IN ('requested', 'confirmed')),
    requested_at    timestamptz NOT NULL,
    confirmed_at    timestamptz,
    version         integer     NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX address_confirmations_once ON address_confirmations (member_id);
