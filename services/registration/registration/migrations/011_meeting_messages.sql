-- An organiser's messages to a meeting's participants: the words, to whom, and the
-- registrations they addressed when sent (notification writes to those, see MeetingMessageSent).
CREATE TABLE meeting_messages (
    id                  uuid        PRIMARY KEY,
    meeting_id          uuid        NOT NULL REFERENCES meetings (id),
    recipients          text        NOT NULL CHECK (recipients IN ('confirmed', 'waitlisted', 'all')),
    subject             text        NOT NULL,
    body                text        NOT NULL,
    registration_ids    uuid[]      NOT NULL,
    sent_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_messages_meeting ON meeting_messages (meeting_id, sent_at);
