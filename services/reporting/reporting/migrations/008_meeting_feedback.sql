-- Feedback on held meetings: each meeting's feedback questions (the organisation's words) and
-- each feedback's choice and scale answers (`{question_id: value}`). Nothing here leads to a
-- person: the events carry no member, registration or municipality, and no free text.

CREATE TABLE feedback_forms (
    meeting_id         uuid    PRIMARY KEY,
    questions          jsonb   NOT NULL,
    aggregate_version  integer NOT NULL
);

-- A feedback is given once and never changes: its id keeps a redelivery from counting twice.
CREATE TABLE feedback_responses (
    id            uuid        PRIMARY KEY,
    meeting_id    uuid        NOT NULL,
    answers       jsonb       NOT NULL,
    submitted_at  timestamptz NOT NULL
);
CREATE INDEX feedback_responses_meeting ON feedback_responses (meeting_id);
