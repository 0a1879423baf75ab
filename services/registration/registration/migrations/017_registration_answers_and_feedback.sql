-- Answers to a meeting's registration questions (dietary needs, accessibility) and the
-- attendees' feedback after it is held.

-- The answers as one sealed object (SealedPersonalData as JSON: AES-256-GCM under the member's
-- own data key), never in clear: they are often health data. Erased (NULL, with the moment)
-- `answers_retention_days` after the meeting, or with the person.
ALTER TABLE registrations ADD COLUMN answers_sealed jsonb;
ALTER TABLE registrations ADD COLUMN answers_erased_at timestamptz;
-- What the retention job looks through: only registrations still holding answers.
CREATE INDEX registrations_with_answers ON registrations (meeting_id)
    WHERE answers_sealed IS NOT NULL;

-- One feedback per registration (the unique key refuses a second). Choice and scale answers are
-- kept in clear, as the anonymous FeedbackSubmitted event carries them; free text is sealed with
-- the member's key and blanked when the person is erased.
CREATE TABLE meeting_feedback (
    id               uuid        PRIMARY KEY,
    meeting_id       uuid        NOT NULL REFERENCES meetings (id),
    registration_id  uuid        NOT NULL UNIQUE REFERENCES registrations (id),
    answers          jsonb       NOT NULL DEFAULT '[]',
    text_sealed      jsonb,
    submitted_at     timestamptz NOT NULL
);
CREATE INDEX meeting_feedback_meeting ON meeting_feedback (meeting_id, submitted_at);
