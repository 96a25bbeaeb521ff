-- Closed months join what a booking's rules keep between requests: closing or reopening a
-- month raises the rules epoch in its transaction, so a booking on a kept target knows which
-- months are closed without reading them under the lock.
CREATE TRIGGER month_closings_epoch_insert AFTER INSERT ON month_closings
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER month_closings_epoch_update AFTER UPDATE ON month_closings
BEGIN UPDATE rules_epoch SET version = version + 1; END;
CREATE TRIGGER month_closings_epoch_delete AFTER DELETE ON month_closings
BEGIN UPDATE rules_epoch SET version = version + 1; END;
