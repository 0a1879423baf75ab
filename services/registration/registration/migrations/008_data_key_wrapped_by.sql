-- Which master key wrapped each member's data key (its key id: a short hash of the key, never
-- the key), so rotating PERSONAL_DATA_KEY can re-wrap member keys batch by batch and resume, and
-- an operator can see when no member key needs a former master key any more. NULL: not recorded
-- (keys wrapped before this column, or since by a writer that does not record it); the vault
-- then tries each master key it has.
ALTER TABLE members ADD COLUMN data_key_wrapped_by text;

-- The record never outlives the key it describes: a data key written without naming its
-- wrapping key (a new key after erasure, erasure itself) clears it.
CREATE FUNCTION members_data_key_wrapped_by_follows_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.data_key IS DISTINCT FROM OLD.data_key
       AND NEW.data_key_wrapped_by IS NOT DISTINCT FROM OLD.data_key_wrapped_by THEN
        NEW.data_key_wrapped_by := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER members_data_key_wrapped_by_follows_key
BEFORE UPDATE OF data_key ON members
FOR EACH ROW EXECUTE FUNCTION members_data_key_wrapped_by_follows_key();

