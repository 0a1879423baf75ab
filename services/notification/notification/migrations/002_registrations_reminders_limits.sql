-- The full notification service: who is registered (to tell them of changes), reminders,
-- a dedupe key for notifications that no single event causes, and the `suppressed` state.

-- The registrations notification must reach when a meeting moves or is cancelled. Personal
-- fields are blanked on erasure; the row stays so counts stay true.
CREATE TABLE registrations (
    id                 uuid PRIMARY KEY,
    meeting_id         uuid        NOT NULL,
    member_id          uuid        NOT NULL,
    status             text        NOT NULL,
    language           text        NOT NULL,
    name               text,
    email              text,
    companions         jsonb       NOT NULL DEFAULT '[]',
    cancel_url         text,
    -- RFC 5545 SEQUENCE of this registration's calendar entry, raised on each reschedule.
    calendar_sequence  integer     NOT NULL DEFAULT 0,
    aggregate_version  integer     NOT NULL
);
CREATE INDEX registrations_meeting ON registrations (meeting_id) WHERE status <> 'cancelled';
CREATE INDEX registrations_member ON registrations (member_id);

-- One reminder per confirmed registration, due REMINDER_LEAD before the meeting starts.
CREATE TABLE reminders (
    registration_id  uuid PRIMARY KEY,
    meeting_id       uuid        NOT NULL,
    due_at           timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE sent_at IS NULL;
CREATE INDEX reminders_meeting ON reminders (meeting_id);

ALTER TABLE notifications ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN dedupe_key text;
UPDATE notifications SET dedupe_key = event_id || ':' || recipient || ':' || template;
ALTER TABLE notifications ALTER COLUMN dedupe_key SET NOT NULL;
ALTER TABLE notifications ADD CONSTRAINT notifications_dedupe_key UNIQUE (dedupe_key);
ALTER TABLE notifications DROP CONSTRAINT notifications_event_id_recipient_template_key;
ALTER TABLE notifications ADD COLUMN body_html text;
ALTER TABLE notifications ADD COLUMN registration_id uuid;
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'suppressed'));
CREATE INDEX notifications_recipient_recent ON notifications (lower(recipient), created_at);
CREATE INDEX notifications_event ON notifications (event_id);
