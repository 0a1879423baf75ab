-- Municipalities as parties of a network. A network's members are people (as before) or
-- municipalities ("parties"), which join at once (open admission) or apply and wait for an
-- organiser's decision (application admission), until the optional applications_close_at.
ALTER TABLE networks
    ADD COLUMN membership text NOT NULL DEFAULT 'people'
        CHECK (membership IN ('people', 'municipalities')),
    ADD COLUMN admission text NOT NULL DEFAULT 'open'
        CHECK (admission IN ('open', 'application')),
    ADD COLUMN applications_close_at timestamptz;

-- One municipality's party to one network. The contact person is a member (their data sealed
-- with their own key), so erasing them blanks the person and keeps the party: the
-- municipality is not personal data. `version` counts the party's events (its aggregate).
CREATE TABLE parties (
    id                 uuid        PRIMARY KEY,
    network_id         uuid        NOT NULL REFERENCES networks (id),
    municipality_id    uuid        NOT NULL REFERENCES municipalities (municipality_id),
    contact_member_id  uuid        REFERENCES members (id),
    statement          text,
    status             text        NOT NULL
                                   CHECK (status IN ('applied', 'joined', 'declined', 'withdrawn')),
    applied_at         timestamptz NOT NULL,
    decided_at         timestamptz,
    joined_at          timestamptz,
    reason             text,
    version            integer     NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
-- A municipality is a party of a network once: while it has applied or joined, not again. A
-- declined or withdrawn one may apply anew (a new party).
CREATE UNIQUE INDEX parties_once ON parties (network_id, municipality_id)
    WHERE status IN ('applied', 'joined');
CREATE INDEX parties_network ON parties (network_id, applied_at, id);
CREATE INDEX parties_contact ON parties (contact_member_id);
