-- Parties: municipalities that are members of a network. The municipality is not personal data;
-- the contact person travels sealed and is never kept here, nor the organiser's reason for a
-- decline (written to the contact) or any address. So an erasure has nothing to take from a
-- party, and the party stays.
CREATE TABLE parties (
    id                 uuid PRIMARY KEY,
    network_id         uuid        NOT NULL,
    municipality_id    uuid        NOT NULL,
    municipality       text        NOT NULL,
    country            text        NOT NULL,
    municipality_code  text,
    municipality_kind  text        NOT NULL,
    status             text        NOT NULL,
    applied_at         timestamptz NOT NULL,
    decided_at         timestamptz,
    -- When it joined, once seen; kept after a withdrawal, NULL for one that never joined.
    joined_at          timestamptz,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX parties_network ON parties (network_id, status);
CREATE INDEX parties_municipality ON parties (municipality_id, status);

-- The municipality resolved in the register, where the event names one (NULL: the typed name
-- matched no entry, or the event is older than the register). The typed name stays as it was.
ALTER TABLE enrolments ADD COLUMN municipality_id uuid, ADD COLUMN country text;
ALTER TABLE registrations ADD COLUMN municipality_id uuid, ADD COLUMN country text;
CREATE INDEX enrolments_municipality_id ON enrolments (network_id, municipality_id)
    WHERE status = 'active';
CREATE INDEX registrations_attended_municipality ON registrations (meeting_id, municipality_id)
    WHERE status = 'confirmed' AND checked_in_at IS NOT NULL;
