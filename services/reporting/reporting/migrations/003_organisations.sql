-- The organisation each network belongs to (NULL: the platform's own), so an organisation's
-- credentials read only its own networks' reports.
ALTER TABLE networks ADD COLUMN organisation_id uuid;
CREATE INDEX networks_organisation ON networks (organisation_id);
