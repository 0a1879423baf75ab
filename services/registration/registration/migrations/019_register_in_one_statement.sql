-- Registering for a meeting in one statement (service/registrations.py): the checks, the
-- member, the registration, the meeting's new version and the event, under the meeting's row
-- lock, in one round trip instead of eight. What only the application can do (sealing with
-- the member's key, resolving a typed municipality, checking answers against the questions,
-- the envelope's own fields) it does beforehand from what it assumes; the statement checks
-- those assumptions under the lock and answers with the facts where one no longer holds.

-- A refusal: the whole statement rolls back (a member it inserted too) and the application
-- answers with the problem the slug names; `detail` carries what the problem quotes.
CREATE FUNCTION refuse_registration(slug text, detail text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'TL409', MESSAGE = slug, DETAIL = coalesce(detail, '');
END
$$;

-- A seat if the registration's seats fit beside those taken and those on offer (held for the
-- people offered them), and within the member's municipality's share if the meeting has one;
-- else a place on the waitlist. The registration, the meeting's next version with its seat
-- count moved, and the event as that version: `envelope` is a RegistrationConfirmed, made a
-- RegistrationWaitlisted here when the registration waits, with its place in line. The caller
-- holds the meeting's row lock (`meeting` was read under it), so every registration of the
-- meeting is written in turn and the new one is last in line.
CREATE FUNCTION place_registration(
    meeting meetings,
    p_member_id uuid,
    p_registration_id uuid,
    p_seats integer,
    p_companions jsonb,
    p_created_at timestamptz,
    p_automatic boolean,
    p_answers_sealed jsonb,
    p_event_id uuid,
    p_topic text,
    p_message_key text,
    p_envelope jsonb,
    p_traceparent text,
    p_tracestate text,
    OUT registration registrations,
    OUT waitlist_position integer
) LANGUAGE plpgsql AS $$
DECLARE
    confirmed boolean := meeting.seats_taken + p_seats <= meeting.capacity;
    new_version integer;
    new_event_type text;
BEGIN
    IF confirmed THEN
        SELECT meeting.seats_taken + coalesce(sum(r.seats), 0) + p_seats <= meeting.capacity
        INTO confirmed
        FROM registrations r WHERE r.meeting_id = meeting.id AND r.offer_state = 'open';
    END IF;
    IF confirmed AND meeting.seats_per_municipality IS NOT NULL THEN
        -- Confirmed seats and those on offer count against the share, keyed as SHARE_KEY
        -- (repository/registrations.py) keys a member.
        SELECT coalesce(sum(r.seats), 0) + p_seats <= meeting.seats_per_municipality
        INTO confirmed
        FROM registrations r JOIN members mb ON mb.id = r.member_id
        JOIN members me ON me.id = p_member_id
        WHERE r.meeting_id = meeting.id AND (r.status = 'confirmed' OR r.offer_state = 'open')
          AND coalesce(mb.municipality_id::text, 'name:' || mb.municipality_key)
              = coalesce(me.municipality_id::text, 'name:' || me.municipality_key);
    END IF;
    IF NOT confirmed THEN
        SELECT count(*) + 1 INTO waitlist_position
        FROM registrations r WHERE r.meeting_id = meeting.id AND r.status = 'waitlisted';
    END IF;
    INSERT INTO registrations (id, meeting_id, member_id, status, seats, companions, created_at,
                               confirmed_at, automatic, answers_sealed)
    VALUES (p_registration_id, meeting.id, p_member_id,
            CASE WHEN confirmed THEN 'confirmed' ELSE 'waitlisted' END, p_seats, p_companions,
            p_created_at, CASE WHEN confirmed THEN p_created_at END, p_automatic,
            p_answers_sealed)
    RETURNING * INTO registration;
    UPDATE meetings m
    SET seats_taken = m.seats_taken + CASE WHEN confirmed THEN p_seats ELSE 0 END,
        version = m.version + 1, updated_at = now()
    WHERE m.id = meeting.id
    RETURNING m.version INTO new_version;
    new_event_type := CASE WHEN confirmed THEN 'RegistrationConfirmed'
                           ELSE 'RegistrationWaitlisted' END;
    INSERT INTO outbox (event_id, topic, message_key, event_type, aggregate_id, aggregate_version,
                        envelope, traceparent, tracestate)
    VALUES (p_event_id, p_topic, p_message_key, new_event_type, meeting.id, new_version,
            p_envelope || jsonb_build_object(
                'event_type', new_event_type,
                'aggregate_version', new_version,
                'payload', (p_envelope -> 'payload') || jsonb_build_object(
                    'status', registration.status, 'waitlist_position', waitlist_position)),
            p_traceparent, p_tracestate);
END
$$;

-- Register a person (by the address they typed) for a meeting, refusing as the application
-- did step by step, in this order: no such meeting, cancelled, closed, too many companions;
-- (the application's answers checked against the questions); an unknown municipality id; not
-- a member of a host of a members' meeting, already registered, at the per-person cap.
--
-- What the application assumed, each checked here first:
-- - `p_questions`: the meeting's questions it checked the answers against (NULL: unknown);
-- - `p_register_n`, `p_register_newest`: the municipality register's version it resolved the
--   typed municipality (`p_municipality_id`, `p_municipality_key`) with;
-- - `p_sealed_for`, `p_sealed_name`, `p_sealed_email`, `p_sealed_key`: the member and the
--   details and (wrapped) data key the event's personal data and the answers are sealed with:
--   a new member (`p_new_member_id`, inserted with `p_new_data_key`) or one it was told of.
--   A member without a key gets `p_sealed_key`; an unresolved one gets `p_resolved_id` and
--   `p_resolved_key` (their stored name resolved with that register).
-- Where one does not hold, nothing is written and `outcome` says which, with the fact:
-- 'questions' (`questions`), 'register' (`register_n`, `register_newest`), 'member' (`member`,
-- NULL for nobody); else 'registered', with the `registration` and its `waitlist_position`.
-- The event's payload gets what the database holds: the network, the member's details, their
-- municipality's country and their language (else the network's).
CREATE FUNCTION register_for_meeting(
    p_meeting_id uuid,
    p_now timestamptz,
    p_seats integer,
    p_companions jsonb,
    p_questions jsonb,
    p_register_n bigint,
    p_register_newest timestamptz,
    p_email text,
    p_name text,
    p_municipality text,
    p_role text,
    p_organisation text,
    p_language text,
    p_municipality_id uuid,
    p_municipality_key text,
    p_new_member_id uuid,
    p_new_data_key bytea,
    p_sealed_for uuid,
    p_sealed_name text,
    p_sealed_email text,
    p_sealed_key bytea,
    p_resolved_id uuid,
    p_resolved_key text,
    p_cap integer,
    p_registration_id uuid,
    p_answers_sealed jsonb,
    p_event_id uuid,
    p_topic text,
    p_message_key text,
    p_envelope jsonb,
    p_traceparent text,
    p_tracestate text,
    OUT outcome text,
    OUT registration registrations,
    OUT waitlist_position integer,
    OUT member members,
    OUT questions jsonb,
    OUT register_n bigint,
    OUT register_newest timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    meeting meetings;
    network networks;
    country text;
    placed record;
BEGIN
    -- The capacity guard: every change to a meeting's seats holds this row lock.
    SELECT * INTO meeting FROM meetings m WHERE m.id = p_meeting_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM refuse_registration('no-meeting');
    END IF;
    IF meeting.status = 'cancelled' THEN
        PERFORM refuse_registration('meeting-cancelled');
    END IF;
    -- Registration closes at the deadline, or when the meeting starts if there is none.
    IF p_now >= coalesce(meeting.registration_deadline, meeting.starts_at) THEN
        PERFORM refuse_registration('deadline-passed');
    END IF;
    SELECT * INTO network FROM networks n WHERE n.id = meeting.network_id;
    IF p_seats - 1 > network.max_companions THEN
        PERFORM refuse_registration('too-many-companions', network.max_companions::text);
    END IF;
    IF p_questions IS DISTINCT FROM meeting.questions THEN
        outcome := 'questions';
        questions := meeting.questions;
        RETURN;
    END IF;
    SELECT count(*), max(mu.created_at) INTO register_n, register_newest FROM municipalities mu;
    IF register_n IS DISTINCT FROM p_register_n OR register_newest IS DISTINCT FROM p_register_newest THEN
        outcome := 'register';
        RETURN;
    END IF;
    IF p_municipality_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM municipalities mu WHERE mu.municipality_id = p_municipality_id
    ) THEN
        PERFORM refuse_registration('unknown-municipality');
    END IF;

    -- The member with this address, locked as a sign-up's no-op update would: created if new,
    -- else as stored (a sign-up never rewrites someone's name or municipality).
    SELECT * INTO member FROM members mb
    WHERE lower(mb.email) = lower(p_email) AND mb.email IS NOT NULL
    FOR NO KEY UPDATE;
    IF FOUND THEN
        IF member.id IS DISTINCT FROM p_sealed_for
           OR member.name IS DISTINCT FROM p_sealed_name
           OR member.email IS DISTINCT FROM p_sealed_email
           OR coalesce(member.data_key, p_sealed_key) IS DISTINCT FROM p_sealed_key THEN
            outcome := 'member';
            RETURN;
        END IF;
        IF member.data_key IS NULL THEN
            UPDATE members mb SET data_key = p_sealed_key WHERE mb.id = member.id
            RETURNING * INTO member;
        END IF;
        IF member.municipality_id IS NULL AND p_resolved_key IS NOT NULL
           AND (p_resolved_id IS NOT NULL OR p_resolved_key <> member.municipality_key) THEN
            UPDATE members mb
            SET municipality_id = p_resolved_id, municipality_key = p_resolved_key
            WHERE mb.id = member.id
            RETURNING * INTO member;
        END IF;
    ELSE
        IF p_sealed_for IS DISTINCT FROM p_new_member_id THEN
            outcome := 'member';  -- NULL: the person it was told of is no longer here
            RETURN;
        END IF;
        INSERT INTO members AS mb (id, email, name, municipality, role, organisation, language,
                                   data_key, municipality_id, municipality_key)
        VALUES (p_new_member_id, p_email, p_name, p_municipality, p_role, p_organisation,
                p_language, p_new_data_key, p_municipality_id, p_municipality_key)
        ON CONFLICT (lower(email)) WHERE email IS NOT NULL DO UPDATE SET email = mb.email
        RETURNING * INTO member;
        IF member.id <> p_new_member_id THEN
            outcome := 'member';  -- they signed up meanwhile
            RETURN;
        END IF;
    END IF;

    -- A joint meeting's members-only seats are for the active members of any of its hosts.
    IF NOT meeting.open_to_public AND NOT EXISTS (
        SELECT 1 FROM enrolments e
        WHERE e.network_id = ANY (meeting.network_id || meeting.co_hosts)
          AND e.member_id = member.id AND e.status = 'active'
    ) THEN
        PERFORM refuse_registration('not-enrolled', meeting.network_id::text);
    END IF;
    -- A member inserted just now holds no registration yet.
    IF member.id <> p_new_member_id THEN
        IF EXISTS (
            SELECT 1 FROM registrations r
            WHERE r.meeting_id = meeting.id AND r.member_id = member.id
              AND r.status IN ('confirmed', 'waitlisted')
        ) THEN
            PERFORM refuse_registration('already-registered');
        END IF;
        IF p_cap > 0 AND (
            SELECT count(*) FROM registrations r JOIN meetings mt ON mt.id = r.meeting_id
            WHERE r.member_id = member.id AND r.status IN ('confirmed', 'waitlisted')
              AND mt.ends_at > p_now
        ) >= p_cap THEN
            PERFORM refuse_registration('registration-cap');
        END IF;
    END IF;

    SELECT mu.country INTO country FROM municipalities mu
    WHERE mu.municipality_id = member.municipality_id;
    SELECT * INTO placed FROM place_registration(
        meeting, member.id, p_registration_id, p_seats, p_companions, p_now, false,
        p_answers_sealed, p_event_id, p_topic, p_message_key,
        jsonb_set(p_envelope, '{payload}', (p_envelope -> 'payload') || jsonb_build_object(
            'network_id', meeting.network_id,
            'member_id', member.id,
            'municipality', member.municipality,
            'municipality_id', member.municipality_id,
            'country', country,
            'language', coalesce(member.language, network.language))),
        p_traceparent, p_tracestate);
    outcome := 'registered';
    registration := placed.registration;
    waitlist_position := placed.waitlist_position;
END
$$;
