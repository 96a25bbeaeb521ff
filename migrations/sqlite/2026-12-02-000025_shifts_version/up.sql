-- A number per shared employee that every write of its bookings raises, in the transaction of
-- the write, whatever code made it. A working-time check reads the employee's shifts beside
-- the single writer, with this number read first; under the writer's lock it reads the number
-- again and uses those shifts only when it has not moved (otherwise it reads them again).
-- Bookings of other resources do not touch it. Raising it does not move the rules epoch.
ALTER TABLE resources ADD COLUMN shifts_version BIGINT NOT NULL DEFAULT 0;

DROP TRIGGER resources_epoch_update;
CREATE TRIGGER resources_epoch_update AFTER UPDATE ON resources
WHEN OLD.longest_block_minutes = NEW.longest_block_minutes
 AND OLD.shifts_version = NEW.shifts_version
BEGIN UPDATE rules_epoch SET version = version + 1; END;

CREATE TRIGGER bookings_shifts_insert AFTER INSERT ON bookings
WHEN (SELECT kind FROM resources WHERE id = NEW.resource_id) = 'staff'
BEGIN
    UPDATE resources SET shifts_version = shifts_version + 1 WHERE id = NEW.resource_id;
END;
CREATE TRIGGER bookings_shifts_update AFTER UPDATE ON bookings
WHEN (SELECT kind FROM resources WHERE id = NEW.resource_id) = 'staff'
  OR (SELECT kind FROM resources WHERE id = OLD.resource_id) = 'staff'
BEGIN
    UPDATE resources SET shifts_version = shifts_version + 1
    WHERE id IN (OLD.resource_id, NEW.resource_id);
END;
CREATE TRIGGER bookings_shifts_delete AFTER DELETE ON bookings
WHEN (SELECT kind FROM resources WHERE id = OLD.resource_id) = 'staff'
BEGIN
    UPDATE resources SET shifts_version = shifts_version + 1 WHERE id = OLD.resource_id;
END;
