-- Which master key wrapped each member's data key (its key id: a short hash of the key, never
-- the key), so rotating PERSONAL_DATA_KEY can re-wrap member keys batch by batch and resume, and
-- an operator can see when no member key needs a former master key any more. A table of its
-- own: this is the service's bookkeeping, not data on the person (it stays out of exports).
-- No row: not recorded (keys wrapped before this table, or since by a writer that does not
-- record it); the vault then tries each master key it has.
CREATE TABLE member_data_key_wrapping (
    member_id uuid PRIMARY KEY REFERENCES members (id),
    wrapped_by text NOT NULL
);

-- The record never outlives the key it describes: whenever a member's data key changes (a new
-- key after erasure, erasure itself, a re-wrap), its record goes; the rotation writes it anew.
CREATE FUNCTION member_data_key_wrapping_follows_key() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM member_data_key_wrapping WHERE member_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_data_key_wrapping_follows_key
AFTER UPDATE OF data_key ON members
FOR EACH ROW WHEN (NEW.data_key IS DISTINCT FROM OLD.data_key)
EXECUTE FUNCTION member_data_key_wrapping_follows_key();
