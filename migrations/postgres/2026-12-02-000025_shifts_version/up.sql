-- A number per shared employee that every write of its bookings raises, in the transaction of
-- the write, whatever code made it. A working-time check reads the employee's shifts before
-- taking the locks, with this number read first; under the lock it reads the number again
-- and uses those shifts only when it has not moved (otherwise it reads them again). Bookings
-- of other resources do not touch it. Raising it does not move the rules epoch.
ALTER TABLE resources ADD COLUMN shifts_version BIGINT NOT NULL DEFAULT 0;

DROP TRIGGER resources_epoch_update ON resources;
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
    FOR EACH ROW WHEN (OLD.longest_block_minutes = NEW.longest_block_minutes
                       AND OLD.shifts_version = NEW.shifts_version)
    EXECUTE FUNCTION raise_rules_epoch();

CREATE FUNCTION raise_shifts_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE resources SET shifts_version = shifts_version + 1
        WHERE id = OLD.resource_id AND kind = 'staff';
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.resource_id <> OLD.resource_id) THEN
        UPDATE resources SET shifts_version = shifts_version + 1
        WHERE id = NEW.resource_id AND kind = 'staff';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER bookings_shifts AFTER INSERT OR UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION raise_shifts_version();
