-- Crypto-shredding: each member's personal data travels in events encrypted with the member's
-- own data key, stored here wrapped by the service's master key. Erasure sets it to NULL, after
-- which no copy of those events (outbox, Kafka topics, DLQs, backups) can be read again.
ALTER TABLE members ADD COLUMN data_key bytea;
