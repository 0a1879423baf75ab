-- A member's municipality resolved to the register, and a meeting's seats per municipality.
--
-- members.municipality stays as the person typed it. municipality_id is the register entry it
-- resolved to (NULL: unknown or ambiguous, kept and reported, never dropped); municipality_key
-- is registration.municipalities.normalise of the typed name, by which unresolved names are
-- grouped and hold their share of seats. Both are computed by the application: a migration
-- cannot run the resolver (kind words, genitives, the looser spellings), and a second copy of
-- those rules in SQL would drift from the first. Members from before this migration get a
-- provisional key here (lower case, trimmed); `python -m registration resolve-municipalities`
-- resolves them with the real rules, and any member still unresolved is resolved again the
-- next time they sign up for anything.
ALTER TABLE members
    ADD COLUMN municipality_id uuid REFERENCES municipalities (municipality_id),
    ADD COLUMN municipality_key text;
UPDATE members SET municipality_key = lower(btrim(municipality));
ALTER TABLE members ALTER COLUMN municipality_key SET NOT NULL;
CREATE INDEX members_unresolved ON members (municipality_key) WHERE municipality_id IS NULL;

-- NULL: no share, as before. A registration whose municipality holds its share of confirmed
-- seats waits even while seats are free.
ALTER TABLE meetings
    ADD COLUMN seats_per_municipality integer CHECK (seats_per_municipality >= 1);
