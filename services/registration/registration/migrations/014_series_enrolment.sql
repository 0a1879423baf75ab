-- Series enrolment and the end of a network's term (service/series_enrolment.py).

-- An enrolment ends with its network's term (`term_ends_at`): neither active nor cancelled by
-- anyone.
ALTER TABLE enrolments DROP CONSTRAINT enrolments_status_check;
ALTER TABLE enrolments ADD CONSTRAINT enrolments_status_check
    CHECK (status IN ('active', 'cancelled', 'ended'));

-- Registered by series enrolment, not by the person's own hand (RegistrationState.automatic).
ALTER TABLE registrations ADD COLUMN automatic boolean NOT NULL DEFAULT false;

-- Every (meeting, member) pair series enrolment has dealt with, whatever came of it. The work
-- left is what is missing here: the active members of an auto_register host of an upcoming
-- meeting without a row. The row is written in the transaction that registers the person, so
-- work is done once and never lost to a process that stops halfway, and a person who cancels
-- their automatic registration (or cancelled one of their own before) is not registered again.
CREATE TABLE series_registrations (
    meeting_id       uuid        NOT NULL REFERENCES meetings (id),
    member_id        uuid        NOT NULL REFERENCES members (id),
    -- The enrolment it came from: the term's end cancels what it registered after the term.
    enrolment_id     uuid        NOT NULL REFERENCES enrolments (id),
    registration_id  uuid        REFERENCES registrations (id),
    outcome          text        NOT NULL
                     CHECK (outcome IN ('registered', 'already_registered', 'cancelled_before')),
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX series_registrations_enrolment ON series_registrations (enrolment_id);

-- What the term scheduler looks for: networks whose term has an end.
CREATE INDEX networks_term_ends ON networks (term_ends_at) WHERE term_ends_at IS NOT NULL;
