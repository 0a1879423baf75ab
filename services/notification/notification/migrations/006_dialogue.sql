-- Member dialogue: what reminding a consultation's audience needs.

-- The consultations opened, kept from ConsultationOpened and ConsultationClosed: a closed one
-- reminds nobody, whatever its closing time says.
CREATE TABLE consultations (
    id             uuid PRIMARY KEY,
    network_id     uuid        NOT NULL,
    network_title  text        NOT NULL DEFAULT '',
    title          text        NOT NULL,
    closes_at      timestamptz NOT NULL,
    status         text        NOT NULL
);

-- One row per person invited to a consultation, to remind them before it closes. Name,
-- address and form link are personal data: the row goes when the member is erased.
-- `remind_at` is null when the consultation closed too soon after the invitation for a
-- reminder to make sense; `reminded_at` is set when the reminder is claimed (or skipped).
CREATE TABLE consultation_invitations (
    consultation_id  uuid        NOT NULL,
    member_id        uuid        NOT NULL,
    network_id       uuid        NOT NULL,
    language         text        NOT NULL,
    title            text        NOT NULL,
    closes_at        timestamptz NOT NULL,
    name             text        NOT NULL,
    email            text        NOT NULL,
    action_url       text,
    invited_at       timestamptz NOT NULL DEFAULT now(),
    remind_at        timestamptz,
    reminded_at      timestamptz,
    PRIMARY KEY (consultation_id, member_id)
);
CREATE INDEX consultation_invitations_due ON consultation_invitations (remind_at)
    WHERE reminded_at IS NULL AND remind_at IS NOT NULL;
CREATE INDEX consultation_invitations_member ON consultation_invitations (member_id);

-- Who answered which consultation (pending or counted: either is an answer, and the reminder
-- skips them), and which version of a counted response its author last had a receipt for.
-- Ids and times only.
CREATE TABLE consultation_responses (
    response_id      uuid PRIMARY KEY,
    consultation_id  uuid        NOT NULL,
    member_id        uuid        NOT NULL,
    status           text        NOT NULL,
    receipt_for      timestamptz
);
CREATE INDEX consultation_responses_answered ON consultation_responses (consultation_id, member_id);
CREATE INDEX consultation_responses_member ON consultation_responses (member_id);
