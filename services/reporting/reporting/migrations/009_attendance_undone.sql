-- A check-in can be taken back (AttendanceUndone): the registration's attendance is then the
-- newest of its attendance events, by version, not "a check-in once seen". Rows checked in
-- before this existed take their row's version as their attendance version: any undo comes
-- later and so wins.
ALTER TABLE registrations ADD COLUMN attendance_version integer NOT NULL DEFAULT 0;
UPDATE registrations SET attendance_version = aggregate_version WHERE checked_in_at IS NOT NULL;
