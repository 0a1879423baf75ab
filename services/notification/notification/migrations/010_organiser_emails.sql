-- Emails sent on a network's behalf look like its organisers' own: who runs the network and its
-- public contact, kept from NetworkCreated and NetworkUpdated (a network kept before has none
-- until it next changes, and its emails are signed by Tilmeld as before).
ALTER TABLE networks
    ADD COLUMN organisers    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_name  text,
    ADD COLUMN contact_email text;

-- Each email's sender name and Reply-To, fixed when it is queued like its words: the address it
-- is sent from stays the configured one (SPF and DKIM hold), only the name shown changes.
ALTER TABLE notifications
    ADD COLUMN sender_name text,
    ADD COLUMN reply_to    text;
