-- Self-service links carry a secret token; they now travel inside the sealed personal data.
-- Events written before kept the link in clear in the payload: the event log loses it.
UPDATE outbox
SET envelope = jsonb_set(envelope, '{payload,cancel_url}', 'null'::jsonb)
WHERE envelope -> 'payload' ->> 'cancel_url' IS NOT NULL;

-- A stored response is replayed only to the caller that made the request (an organisation,
-- the platform, or the person named in a public request), never to whoever sends the same key.
-- Rows from before have no caller: nobody can replay them, and they expire within a day.
ALTER TABLE idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (caller, key, route);
