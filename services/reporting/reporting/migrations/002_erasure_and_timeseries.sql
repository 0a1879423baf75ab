-- Erased members: their id is dropped from every fact (and from any that arrive later), so no
-- id in reporting outlives the person's erasure. Plus indexes for the time series.

CREATE TABLE erased_members (
    member_id  uuid PRIMARY KEY,
    erased_at  timestamptz NOT NULL
);

ALTER TABLE enrolments ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE registrations ALTER COLUMN member_id DROP NOT NULL;

CREATE INDEX enrolments_enrolled_at ON enrolments (enrolled_at);
CREATE INDEX enrolments_member ON enrolments (member_id);
CREATE INDEX registrations_registered_at ON registrations (registered_at);
CREATE INDEX registrations_cancelled_at ON registrations (cancelled_at)
    WHERE cancelled_at IS NOT NULL;
CREATE INDEX registrations_member ON registrations (member_id);
CREATE INDEX meetings_starts_at ON meetings (starts_at);
