-- The settings of a network's year and a meeting's life, on the rows they belong to; what each
-- one does lives in the use cases that read it.

-- Series enrolment, the end of a term, how a freed seat reaches the waitlist, and whether
-- members may propose topics (and whether an organiser reviews them first).
ALTER TABLE networks
    ADD COLUMN auto_register boolean NOT NULL DEFAULT false,
    ADD COLUMN term_ends_at  timestamptz,
    ADD COLUMN waitlist      text NOT NULL DEFAULT 'automatic'
                             CHECK (waitlist IN ('automatic', 'offer')),
    ADD COLUMN offer_hours   integer CHECK (offer_hours BETWEEN 1 AND 720),
    ADD COLUMN proposals     text NOT NULL DEFAULT 'off'
                             CHECK (proposals IN ('off', 'moderated', 'open'));

-- A meeting's co-hosts (other networks whose members may register), its agenda, its own
-- waitlist rule (null: the network's), the questions asked at registration (and how long
-- their answers are kept after the meeting), and the feedback asked of attendees afterwards.
ALTER TABLE meetings
    ADD COLUMN co_hosts               uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN agenda                 jsonb  NOT NULL DEFAULT '[]',
    ADD COLUMN waitlist               text CHECK (waitlist IN ('automatic', 'offer')),
    ADD COLUMN offer_hours            integer CHECK (offer_hours BETWEEN 1 AND 720),
    ADD COLUMN questions              jsonb  NOT NULL DEFAULT '[]',
    ADD COLUMN answers_retention_days integer CHECK (answers_retention_days BETWEEN 0 AND 3650),
    ADD COLUMN feedback               jsonb  NOT NULL DEFAULT '[]';

-- "The meetings this network hosts or co-hosts" is a list every network page asks for.
CREATE INDEX meetings_co_hosts ON meetings USING gin (co_hosts);
