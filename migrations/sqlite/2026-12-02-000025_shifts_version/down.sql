DROP TRIGGER bookings_shifts_insert;
DROP TRIGGER bookings_shifts_update;
DROP TRIGGER bookings_shifts_delete;
DROP TRIGGER resources_epoch_update;
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
WHEN OLD.longest_block_minutes = NEW.longest_block_minutes
BEGIN UPDATE rules_epoch SET version = version + 1; END;
ALTER TABLE resources DROP COLUMN shifts_version;
