-- Organisations (KL, KS, a German regional office): each network belongs to one, and an
-- organisation's organisers see and change only its networks. A network without one belongs to
-- the platform and only the platform administrator (ORGANISER_TOKEN) manages it.
CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE networks ADD COLUMN organisation_id uuid REFERENCES organisations (id);
CREATE INDEX networks_organisation ON networks (organisation_id);

-- API keys: only a SHA-256 of the key is kept (the key is 256 random bits, so a fast hash is
-- enough); the key itself is shown once, when created. Revoked keys stay for the record.
CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    organisation_id  uuid        NOT NULL REFERENCES organisations (id),
    name             text        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('organiser', 'reporting')),
    key_hash         bytea       NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);
