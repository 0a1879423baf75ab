-- Waitlist offers: in a meeting whose waitlist rule is "offer", a freed seat is held for the
-- next waitlisted registration until `offer_expires_at`; the person accepts through their link.
-- `offer_state` says where the offer stands:
--   open      the seat is held for this (still waitlisted) registration
--   accepted  the person took it (the registration is confirmed)
--   declined  the registration was cancelled while the offer was open
--   expired   it lapsed unaccepted (the registration is cancelled, by "offer_expired")
-- The meeting's row lock guards every change, as it does for the seats themselves.
ALTER TABLE registrations ADD COLUMN offered_at timestamptz;
ALTER TABLE registrations ADD COLUMN offer_expires_at timestamptz;
ALTER TABLE registrations ADD COLUMN offer_state text
    CHECK (offer_state IN ('open', 'accepted', 'declined', 'expired'));
ALTER TABLE registrations ADD CONSTRAINT registrations_open_offer_waits
    CHECK (offer_state IS DISTINCT FROM 'open'
           OR (status = 'waitlisted' AND offer_expires_at IS NOT NULL));

-- What the expiry scheduler looks for, and the seats held per meeting: open offers only.
CREATE INDEX registrations_open_offers ON registrations (offer_expires_at, meeting_id)
    WHERE offer_state = 'open';
CREATE INDEX registrations_open_offers_of_meeting ON registrations (meeting_id)
    WHERE offer_state = 'open';
