-- A meeting's co-hosts (other networks holding it with its own): it counts for each of them in
-- their network's reports, and once in every total across networks (its registrations keep the
-- host's network_id). Enrolments may now be "ended" too, with their network's term.
ALTER TABLE meetings ADD COLUMN co_hosts uuid[] NOT NULL DEFAULT '{}';
-- "The meetings this network co-hosts", asked by every per-network report.
CREATE INDEX meetings_co_hosts ON meetings USING gin (co_hosts);
