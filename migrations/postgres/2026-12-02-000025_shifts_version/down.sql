DROP TRIGGER bookings_shifts ON bookings;
DROP FUNCTION raise_shifts_version();
DROP TRIGGER resources_epoch_update ON resources;
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
    FOR EACH ROW WHEN (OLD.longest_block_minutes = NEW.longest_block_minutes)
    EXECUTE FUNCTION raise_rules_epoch();
ALTER TABLE resources DROP COLUMN shifts_version;
