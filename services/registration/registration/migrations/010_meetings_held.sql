-- A meeting becomes `held` once it has ended (the registration process marks it, see
-- service/meeting_lifecycle.py); a cancelled one stays cancelled.
ALTER TABLE meetings DROP CONSTRAINT meetings_status_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_status_check
    CHECK (status IN ('scheduled', 'held', 'cancelled'));

-- What the scheduler looks for every few seconds: scheduled meetings by their end.
CREATE INDEX meetings_scheduled_ends ON meetings (ends_at) WHERE status = 'scheduled';
