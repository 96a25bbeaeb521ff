-- Grows on every change of a resource's settings: a booking whose rules were read before the
-- write lock (SQLite prepares them off the lock) reads them again when it changed, so a booking
-- racing a lowered capacity or narrowed hours is checked against the new ones.
ALTER TABLE resources ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 0;
