-- At the door each companion is ticked on their own: which of a registration's companions
-- (by their place in its companions list, from 0) have arrived. The member's own arrival
-- stays registrations.checked_in_at.
ALTER TABLE registrations ADD COLUMN companions_arrived smallint[] NOT NULL DEFAULT '{}';
