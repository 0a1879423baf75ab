-- Who attended each meeting, with their link to give feedback (it came sealed with the
-- attendance and was opened here); blanked when the person is erased.
CREATE TABLE attendees (
    registration_id  uuid PRIMARY KEY,
    meeting_id       uuid        NOT NULL,
    member_id        uuid        NOT NULL,
    feedback_url     text,
    checked_in_at    timestamptz NOT NULL
);
CREATE INDEX attendees_meeting ON attendees (meeting_id);
CREATE INDEX attendees_member ON attendees (member_id);

-- Meetings held that ask their attendees for feedback: someone checked in after the meeting
-- was held is asked at once.
CREATE TABLE feedback_asked (
    meeting_id  uuid PRIMARY KEY,
    held_at     timestamptz NOT NULL
);
